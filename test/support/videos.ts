import type { NewVideo } from '../../src/catalog/video-repository.ts';

/** A `videos` row for tests that need one without an upload: a 2-s 320×180 H.264 video. */
export function videoFixture(id: string, overrides: Partial<NewVideo> = {}): NewVideo {
  return {
    id,
    title: id,
    description: '',
    tags: [],
    visibility: 'public',
    duration_seconds: 2,
    width: 320,
    height: 180,
    fps: 25,
    video_codec: 'h264',
    audio_codec: null,
    bitrate: null,
    rotation: 0,
    container: null,
    probe: {},
    source_key: `sources/${id}/original.mp4`,
    source_size: 1,
    upload_id: null,
    owner_key_id: null,
    ...overrides,
  };
}
