import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeClip, mediaTools } from '../../test/support/media.ts';
import { openServiceFixture, type ServiceFixture } from '../../test/support/services.ts';
import { videoFixture } from '../../test/support/videos.ts';
import { VideoRepository } from '../catalog/video-repository.ts';
import type { ProcessingConfig } from '../config.ts';
import { FfmpegError } from '../media/ffmpeg-runner.ts';
import { probeMedia } from '../media/probe.ts';
import type { ProbeResult } from '../media/probe-result.ts';
import { LocalChangeBus } from '../platform/changes/change-bus.ts';
import { createLogger } from '../platform/logger.ts';
import type { JobContext } from '../platform/queue/job-queue.ts';
import { BlobNotFoundError } from '../platform/storage/blob-store.ts';
import { LocalBlobStore } from '../platform/storage/local-blob-store.ts';
import { EncodeRepository } from './encode-repository.ts';
import { VIDEO_CHANGES } from './jobs.ts';
import { VideoProcessor } from './video-processor.ts';

/** Attempts after the first: with 1, the attempt with retryCount 1 is the last. */
const RETRY_LIMIT = 1;

function context(retryCount: number): JobContext {
  return { id: `job-${retryCount}`, retryCount, signal: new AbortController().signal };
}

describe('VideoProcessor.handle (real PGlite, local store, ffmpeg)', () => {
  let f: ServiceFixture;
  let videos: VideoRepository;
  let encodes: EncodeRepository;
  let processor: VideoProcessor;
  let config: ProcessingConfig;
  let clip: Buffer;
  let probe: ProbeResult;
  /** Video ids the processor announced as changed (every node's caches drop them). */
  const announced: string[] = [];
  const changes = new LocalChangeBus();
  changes.subscribe(VIDEO_CHANGES, (id) => void announced.push(id));

  /** A `processing` video as an upload leaves it, its source in the store (unless `source` is null). */
  async function insertVideo(id: string, source: Buffer | null): Promise<string> {
    const sourceKey = `sources/${id}/original.mp4`;
    if (source) await f.store.put(sourceKey, source);
    await videos.insert(
      f.db,
      videoFixture(id, {
        duration_seconds: probe.durationSeconds,
        audio_codec: 'aac',
        probe: probe.raw,
        source_key: sourceKey,
        source_size: source?.length ?? clip.length,
      }),
    );
    return sourceKey;
  }

  const workDirOf = (id: string) => path.join(config.workDir, id);

  async function assertNoWorkDir(id: string) {
    await assert.rejects(fs.access(workDirOf(id)), { code: 'ENOENT' });
  }

  before(async () => {
    f = await openServiceFixture();
    videos = new VideoRepository(f.db);
    encodes = new EncodeRepository(f.db);
    config = { workDir: path.join(f.dir, 'work'), segmentSeconds: 2, preset: 'veryfast', mp4Download: true };
    processor = new VideoProcessor({
      encodes,
      store: f.store,
      tools: mediaTools(),
      config,
      retryLimit: RETRY_LIMIT,
      changes,
      log: createLogger(false),
    });
    const file = await makeClip(f.dir, { seconds: 2, width: 320, height: 180 });
    clip = await fs.readFile(file);
    probe = await probeMedia(mediaTools().ffprobe, file);
  });
  after(() => f?.close());

  describe('a decodable source', () => {
    const id = 'readyvideo01';
    let firstEncode: string;

    it('ends ready: outputs and renditions in the row, every file in the store, a dead attempt discarded', async () => {
      await insertVideo(id, clip);
      // A dead earlier attempt left partial output under its own encode id.
      assert.deepEqual(await encodes.claimEncode(id, 'deadattempt1'), { abandoned: null });
      await f.store.put(`videos/${id}/deadattempt1/180p/seg_00000.m4s`, Buffer.alloc(10));

      await processor.handle({ videoId: id }, context(0));

      const row = await videos.find(id);
      assert.ok(row);
      assert.equal(row.status, 'ready', JSON.stringify(row.error));
      assert.deepEqual(
        announced.filter((announcedId) => announcedId === id),
        [id],
        'ready is announced once',
      );
      assert.ok(row.encode_id && row.encode_id !== 'deadattempt1');
      firstEncode = row.encode_id;
      assert.deepEqual(
        [row.playable, row.pending_encode_id, row.progress_percent, row.eta_seconds, row.error],
        [true, null, 100, 0, null],
      );
      assert.ok(row.ready_at instanceof Date);

      const outputs = row.outputs!;
      assert.equal(outputs.master, 'master.m3u8');
      assert.equal(outputs.mp4, 'download.mp4');
      assert.deepEqual(outputs.storyboard, { vtt: 'storyboard.vtt', sprite: 'storyboard.jpg' });
      // One poster: the source is narrower than both poster widths (1280, 640), and no poster upscales.
      assert.deepEqual(outputs.posters, [{ width: 320, height: 180, file: 'poster_320.jpg' }]);
      assert.deepEqual(
        row.renditions.map((r) => [r.name, r.width, r.height, r.frameRate]),
        [['180p', 320, 180, 25]],
      );
      const [rendition] = row.renditions;
      assert.match(rendition!.codecs, /^avc1\.[0-9a-f]{6}$/);
      assert.ok(rendition!.bandwidth >= rendition!.averageBandwidth && rendition!.averageBandwidth > 0);

      // Every file the row names is in the store, under this encode only; the dead attempt's are gone.
      const prefix = `videos/${id}/${firstEncode}/`;
      const keys = await f.store.list(`videos/${id}/`);
      assert.ok(
        keys.every((key) => key.startsWith(prefix)),
        keys.join('\n'),
      );
      const named = [
        outputs.master,
        outputs.mp4!,
        outputs.storyboard!.vtt,
        outputs.storyboard!.sprite,
        ...outputs.posters.map((p) => p.file),
        '180p/index.m3u8',
      ];
      for (const file of named) assert.ok(keys.includes(prefix + file), `${file} is stored`);
      assert.ok(
        keys.some((key) => /\/180p\/[^/]+\.m4s$/.test(key) && !key.includes('init')),
        'segments',
      );

      const master = await text(`${prefix}master.m3u8`);
      assert.match(master, /^#EXTM3U/);
      assert.ok(master.includes(`CODECS="${rendition!.codecs}`), master);
      assert.ok(master.includes('180p/index.m3u8'), master);
      assert.match(await text(`${prefix}180p/index.m3u8`), /#EXT-X-ENDLIST/);
      const download = await probeMedia(mediaTools().ffprobe, path.join(f.storeDir, prefix, 'download.mp4'));
      assert.deepEqual([download.video?.width, download.video?.height], [320, 180]);
      assert.ok(Math.abs(download.durationSeconds - probe.durationSeconds) < 0.2);
      await assertNoWorkDir(id);
    });

    it('a video already ready is left alone', async () => {
      const before = await videos.find(id);
      const filesBefore = await f.store.list(`videos/${id}/`);
      await processor.handle({ videoId: id }, context(0));
      assert.deepEqual(await videos.find(id), before);
      assert.deepEqual(await f.store.list(`videos/${id}/`), filesBefore);
    });

    it('a reprocess replaces the served encode and deletes the old one', async () => {
      await f.db.updateTable('videos').set({ status: 'processing' }).where('id', '=', id).execute();
      await processor.handle({ videoId: id }, context(0));
      const row = await videos.find(id);
      assert.equal(row?.status, 'ready', JSON.stringify(row?.error));
      assert.ok(row?.encode_id && row.encode_id !== firstEncode);
      const keys = await f.store.list(`videos/${id}/`);
      assert.ok(keys.length > 0);
      assert.ok(
        keys.every((key) => key.startsWith(`videos/${id}/${row.encode_id}/`)),
        keys.join('\n'),
      );
      assert.deepEqual(await f.store.list(`videos/${id}/${firstEncode}/`), []);
    });
  });

  it('a video deleted before its job runs: nothing happens', async () => {
    const id = 'deletedfirst';
    const sourceKey = await insertVideo(id, clip);
    assert.ok(await videos.markDeleted(id));
    const before = await videos.find(id);
    await processor.handle({ videoId: id }, context(0));
    assert.deepEqual(await videos.find(id), before);
    assert.deepEqual(await f.store.list(`videos/${id}/`), []);
    assert.ok(await f.store.stat(sourceKey), 'the source was there: nothing was even tried');
    await assertNoWorkDir(id);
    await processor.handle({ videoId: 'nosuchvideo1' }, context(0)); // an unknown id neither
  });

  it('a corrupt source fails for good on the first attempt: MEDIA_UNSUPPORTED, the ffmpeg log kept, no files left', async () => {
    const id = 'corruptvideo';
    await insertVideo(id, Buffer.alloc(300_000, 7));
    await processor.handle({ videoId: id }, context(0)); // not thrown: no retry can fix it
    const row = await videos.find(id);
    assert.deepEqual(
      [row?.status, row?.error?.code, row?.playable, row?.encode_id, row?.pending_encode_id],
      ['failed', 'MEDIA_UNSUPPORTED', false, null, null],
    );
    assert.match(row?.processing_log ?? '', /Invalid data|moov atom not found/);
    assert.deepEqual(await f.store.list(`videos/${id}/`), []);
    await assertNoWorkDir(id);
  });

  it('a reprocess that fails keeps the previous encode served', async () => {
    const id = 'failedrepro1';
    const sourceKey = await insertVideo(id, clip);
    const outputs = { master: 'master.m3u8', mp4: null, posters: [], storyboard: null };
    await encodes.claimEncode(id, 'servedencode');
    assert.ok(await encodes.finishEncode(id, 'servedencode', outputs, []));
    await f.store.put(`videos/${id}/servedencode/master.m3u8`, '#EXTM3U\n');
    await f.store.put(sourceKey, Buffer.alloc(300_000, 7)); // the source no longer decodes
    await f.db.updateTable('videos').set({ status: 'processing' }).where('id', '=', id).execute();

    await processor.handle({ videoId: id }, context(0));
    const row = await videos.find(id);
    assert.deepEqual(
      [row?.status, row?.encode_id, row?.playable, row?.pending_encode_id, row?.error?.code],
      ['ready', 'servedencode', true, null, 'MEDIA_UNSUPPORTED'],
    );
    assert.deepEqual(await f.store.list(`videos/${id}/`), [`videos/${id}/servedencode/master.m3u8`]);
  });

  it('a missing source is retried, then fails on the last attempt as PROCESSING_FAILED "source missing"', async () => {
    const id = 'missingsrc01';
    await insertVideo(id, null);
    // An attempt before the last rethrows the encoder's (or the store's) error, for pg-boss to retry.
    await assert.rejects(
      processor.handle({ videoId: id }, context(0)),
      (error) => error instanceof FfmpegError || error instanceof BlobNotFoundError,
    );
    const retrying = await videos.find(id);
    assert.equal(retrying?.status, 'processing');
    assert.equal(retrying?.error, null);
    assert.deepEqual(await f.store.list(`videos/${id}/`), []);

    await processor.handle({ videoId: id }, context(RETRY_LIMIT));
    const row = await videos.find(id);
    assert.deepEqual(
      [row?.status, row?.error?.code, row?.playable, row?.pending_encode_id],
      ['failed', 'PROCESSING_FAILED', false, null],
    );
    assert.match(row?.error?.message ?? '', /after 2 attempts: source missing/);
    assert.deepEqual(await f.store.list(`videos/${id}/`), []);
    await assertNoWorkDir(id);
  });

  it('a failure after the ladder was published, on the last attempt: failed, and what was published is removed', async () => {
    const id = 'latefailure1';
    await insertVideo(id, clip);
    // The same directory through a second real store whose writes of the MP4 download fail (an outage
    // late in the job): the playlists and segments have reached storage by then.
    const store = new LocalBlobStore(f.storeDir);
    const put = store.put.bind(store);
    const published: string[] = [];
    store.put = async (...args) => {
      if (args[0].endsWith('/download.mp4')) throw new Error('storage unavailable');
      await put(...args);
      published.push(args[0]);
    };
    const flaky = new VideoProcessor({
      encodes,
      store,
      tools: mediaTools(),
      config,
      retryLimit: RETRY_LIMIT,
      changes,
      log: createLogger(false),
    });
    await flaky.handle({ videoId: id }, context(RETRY_LIMIT));
    assert.ok(
      published.some((key) => key.endsWith('/master.m3u8')) && published.some((key) => key.endsWith('.m4s')),
      `the ladder was published before the failure: ${published.join(', ')}`,
    );
    const row = await videos.find(id);
    assert.deepEqual(
      [row?.status, row?.error?.code, row?.playable, row?.encode_id, row?.pending_encode_id],
      ['failed', 'PROCESSING_FAILED', false, null, null],
    );
    assert.match(row?.error?.message ?? '', /after 2 attempts: storage unavailable/);
    assert.ok(announced.includes(id), 'the failure is announced');
    assert.deepEqual(await f.store.list(`videos/${id}/`), []);
    await assertNoWorkDir(id);
  });

  async function text(key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await f.store.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
});
