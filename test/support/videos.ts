import type { NewVideo } from '../../src/catalog/video-repository.ts';
import { newId } from '../../src/platform/ids.ts';
import type { TestApp } from './harness.ts';

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

/** A `processing` video row (see videoFixture), as a completed upload leaves it, without its job. */
export function insertVideo(t: TestApp, id: string, overrides: Partial<NewVideo> = {}) {
  return t.app.catalog.videos.insert(t.app.database.db, videoFixture(id, overrides));
}

/**
 * A ready video without transcoding: a row (see videoFixture) with a finished encode and a master
 * playlist in storage, so its API answer carries playback URLs that can be fetched. Returns the encode id.
 */
export async function seedReadyVideo(
  t: TestApp,
  id: string,
  overrides: Partial<NewVideo> = {},
): Promise<string> {
  const encodeId = newId();
  await insertVideo(t, id, overrides);
  await t.app.processing.encodes.claimEncode(id, encodeId);
  const outputs = { master: 'master.m3u8', mp4: null, posters: [], storyboard: null };
  if (!(await t.app.processing.encodes.finishEncode(id, encodeId, outputs, [])))
    throw new Error(`could not finish ${id}`);
  await t.app.store.put(`videos/${id}/${encodeId}/master.m3u8`, '#EXTM3U\n#EXT-X-VERSION:7\n');
  return encodeId;
}
