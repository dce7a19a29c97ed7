import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createKeyPrincipal,
  openServiceFixture,
  rejectsWith,
  type ServiceFixture,
} from '../../test/support/services.ts';
import { videoFixture } from '../../test/support/videos.ts';
import type { Viewer } from '../auth/policy.ts';
import type { Principal } from '../auth/principal.ts';
import { createLruCache } from '../platform/cache/lru-cache.ts';
import { LocalChangeBus } from '../platform/changes/change-bus.ts';
import type { Visibility } from '../platform/db/schema.ts';
import { createLogger } from '../platform/logger.ts';
import { PgBossJobQueue } from '../platform/queue/job-queue.ts';
import { EncodeRepository } from '../processing/encode-repository.ts';
import type { RequestProcessing } from '../processing/jobs.ts';
import { CatalogCache } from './catalog-cache.ts';
import { cleanupVideoJob, removeVideoFiles } from './video-cleanup.ts';
import { VideoRepository } from './video-repository.ts';
import { VideoService } from './video-service.ts';

const QUEUE_SETTINGS = {
  retryLimit: 1,
  retryDelaySeconds: 1,
  heartbeatSeconds: 10,
  monitorIntervalSeconds: 10,
};

describe('VideoService (real PGlite, local store)', () => {
  let f: ServiceFixture;
  let queue: PgBossJobQueue;
  let videos: VideoRepository;
  let encodes: EncodeRepository;
  let admin: Principal;
  let owner: Principal;
  let other: Principal;
  /** What reprocess asked for, with the row's status as its own transaction saw it at that moment. */
  const requested: Array<{ id: string; durationSeconds: number; statusInTransaction: string | undefined }> =
    [];
  let failNextRequest = false;

  const requestProcessing: RequestProcessing = async (tx, video) => {
    const row = await tx.selectFrom('videos').select('status').where('id', '=', video.id).executeTakeFirst();
    requested.push({ ...video, statusInTransaction: row?.status });
    if (failNextRequest) {
      failNextRequest = false;
      throw new Error('the queue went away');
    }
  };

  let service: VideoService;
  let counter = 0;

  /** A video of `owner` in the database, `processing` as an upload leaves it. */
  async function insertVideo(visibility: Visibility, extra: { duration?: number } = {}): Promise<string> {
    const id = `video${String(++counter).padStart(7, '0')}`;
    await videos.insert(
      f.db,
      videoFixture(id, {
        visibility,
        owner_key_id: owner.kind === 'api-key' ? owner.keyId : null,
        duration_seconds: extra.duration ?? 2,
      }),
    );
    return id;
  }

  /** A ready video with files in the store (one served encode, its source). Returns the encode id. */
  async function readyVideo(visibility: Visibility): Promise<{ id: string; encodeId: string }> {
    const id = await insertVideo(visibility, { duration: 7.5 });
    const encodeId = `enc${id}`;
    assert.deepEqual(await encodes.claimEncode(id, encodeId), { abandoned: null });
    const outputs = { master: 'master.m3u8', mp4: null, posters: [], storyboard: null };
    assert.ok(await encodes.finishEncode(id, encodeId, outputs, []));
    await f.store.put(`videos/${id}/${encodeId}/master.m3u8`, '#EXTM3U\n');
    await f.store.put(`videos/${id}/${encodeId}/180p/seg_00001.m4s`, Buffer.alloc(100, 1));
    await f.store.put(`sources/${id}/original.mp4`, Buffer.alloc(10, 2));
    return { id, encodeId };
  }

  async function deletedVideo(visibility: Visibility): Promise<string> {
    const { id } = await readyVideo(visibility);
    assert.ok(await videos.markDeleted(id));
    return id;
  }

  before(async () => {
    f = await openServiceFixture();
    videos = new VideoRepository(f.db);
    encodes = new EncodeRepository(f.db);
    admin = await createKeyPrincipal(f.db, 'admin', 'admin');
    owner = await createKeyPrincipal(f.db, 'owner', 'member');
    other = await createKeyPrincipal(f.db, 'other', 'member');
    queue = new PgBossJobQueue(f.database, QUEUE_SETTINGS);
    await queue.start([cleanupVideoJob]);
    service = new VideoService({
      db: f.db,
      videos,
      store: f.store,
      requestProcessing,
      queue,
      clock: f.clock,
      log: createLogger(false),
      cache: new CatalogCache({
        cache: createLruCache({ maxEntries: 1000 }),
        changes: new LocalChangeBus(),
        ttlSeconds: 60,
      }),
    });
  });
  after(async () => {
    await queue?.stop({ timeoutMs: 1000 });
    await f?.close();
  });

  describe('get', () => {
    const viewers = (): Array<[string, Viewer]> => [
      ['admin', admin],
      ['owner', owner],
      ['other member', other],
      ['anonymous', undefined],
    ];
    const table: Array<[Visibility, Record<string, 'seen' | 'VIDEO_NOT_FOUND'>]> = [
      ['public', { admin: 'seen', owner: 'seen', 'other member': 'seen', anonymous: 'seen' }],
      ['unlisted', { admin: 'seen', owner: 'seen', 'other member': 'seen', anonymous: 'seen' }],
      [
        'private',
        { admin: 'seen', owner: 'seen', 'other member': 'VIDEO_NOT_FOUND', anonymous: 'VIDEO_NOT_FOUND' },
      ],
    ];
    for (const [visibility, expected] of table) {
      it(`${visibility}: ${JSON.stringify(expected)}`, async () => {
        const id = await insertVideo(visibility);
        for (const [name, viewer] of viewers()) {
          if (expected[name] === 'seen') {
            const row = await service.get(id, viewer);
            assert.deepEqual([row.id, row.visibility, row.status], [id, visibility, 'processing'], name);
          } else {
            await rejectsWith(service.get(id, viewer), expected[name]!);
          }
        }
      });
    }

    it('an unknown id is VIDEO_NOT_FOUND for everyone', async () => {
      for (const [, viewer] of viewers())
        await rejectsWith(service.get('nosuchvideo1', viewer), 'VIDEO_NOT_FOUND');
    });

    it('a deleted video is VIDEO_DELETED to those who may see it, VIDEO_NOT_FOUND (hidden) to the others', async () => {
      const publicId = await deletedVideo('public');
      for (const [, viewer] of viewers()) await rejectsWith(service.get(publicId, viewer), 'VIDEO_DELETED');
      const privateId = await deletedVideo('private');
      await rejectsWith(service.get(privateId, admin), 'VIDEO_DELETED');
      await rejectsWith(service.get(privateId, owner), 'VIDEO_DELETED');
      await rejectsWith(service.get(privateId, other), 'VIDEO_NOT_FOUND');
      await rejectsWith(service.get(privateId, undefined), 'VIDEO_NOT_FOUND');
    });

    it('a signed-URL grant sees the private video it was signed for, not another one', async () => {
      const id = await insertVideo('private');
      const elsewhere = await insertVideo('private');
      assert.equal((await service.get(id, { kind: 'signed-url', videoId: id })).id, id);
      await rejectsWith(service.get(elsewhere, { kind: 'signed-url', videoId: id }), 'VIDEO_NOT_FOUND');
    });
  });

  describe('cache', () => {
    it('serves a ready video from the cache (dates intact) until the service changes it', async () => {
      const { id } = await readyVideo('public');
      const first = await service.get(id, undefined);
      // A write that bypasses the service is not seen: the row comes from the cache.
      await f.db
        .updateTable('videos')
        .set({ title: 'changed behind its back' })
        .where('id', '=', id)
        .execute();
      const cached = await service.get(id, undefined);
      assert.equal(cached.title, first.title);
      assert.ok(cached.created_at instanceof Date && cached.updated_at instanceof Date);
      assert.equal(cached.created_at.getTime(), first.created_at.getTime());
      // An edit through the service is seen by the very next read (read-your-writes).
      await service.update(id, owner, { title: 'Edited' });
      assert.equal((await service.get(id, undefined)).title, 'Edited');
    });

    it('never caches a video still processing: its progress is always current', async () => {
      const id = await insertVideo('public');
      assert.equal((await service.get(id, undefined)).progress_percent, 0);
      await f.db.updateTable('videos').set({ progress_percent: 42 }).where('id', '=', id).execute();
      assert.equal((await service.get(id, undefined)).progress_percent, 42);
    });

    it('a deletion is seen at once', async () => {
      const { id } = await readyVideo('public');
      await service.get(id, undefined);
      await service.delete(id, owner);
      await rejectsWith(service.get(id, undefined), 'VIDEO_DELETED');
    });
  });

  describe('reprocess', () => {
    it('the owner reprocesses a ready video: status processing, progress reset, processing requested in the transaction', async () => {
      const { id, encodeId } = await readyVideo('public');
      const before = requested.length;
      const updated = await service.reprocess(id, owner);
      assert.deepEqual(
        [updated.status, updated.progress_percent, updated.eta_seconds, updated.error],
        ['processing', 0, null, null],
      );
      assert.equal(updated.updated_at.getTime(), f.clock.nowMs());
      assert.equal(updated.encode_id, encodeId, 'the current encode keeps being served');
      assert.deepEqual(requested.slice(before), [
        { id, durationSeconds: 7.5, statusInTransaction: 'processing' },
      ]);
      const row = await videos.find(id);
      assert.deepEqual([row?.status, row?.encode_id, row?.playable], ['processing', encodeId, true]);
      // Now busy: a second reprocess is refused and requests nothing.
      await rejectsWith(service.reprocess(id, owner), 'VIDEO_BUSY');
      assert.equal(requested.length, before + 1);
    });

    it('a video still processing (fresh from its upload) is VIDEO_BUSY', async () => {
      const id = await insertVideo('public');
      const before = requested.length;
      await rejectsWith(service.reprocess(id, owner), 'VIDEO_BUSY');
      assert.equal(requested.length, before);
      assert.equal((await videos.find(id))?.status, 'processing');
    });

    it('a failed video may be reprocessed; the failure is cleared', async () => {
      const id = await insertVideo('private');
      await encodes.claimEncode(id, 'failedencode');
      await encodes.markFailed(id, 'failedencode', { code: 'MEDIA_UNSUPPORTED', message: 'bad' }, 'log');
      assert.equal((await videos.find(id))?.status, 'failed');
      const updated = await service.reprocess(id, admin);
      assert.deepEqual([updated.status, updated.error], ['processing', null]);
    });

    it('when requesting processing fails, the status change rolls back with it', async () => {
      const { id } = await readyVideo('public');
      failNextRequest = true;
      await assert.rejects(service.reprocess(id, owner), /the queue went away/);
      assert.equal(requested.at(-1)?.statusInTransaction, 'processing', 'the request ran inside the update');
      const row = await videos.find(id);
      assert.deepEqual([row?.status, row?.progress_percent], ['ready', 100]);
      await service.reprocess(id, owner); // nothing was left half-done
    });

    it("only the owner or an admin: others' public videos are FORBIDDEN, others' hidden ones VIDEO_NOT_FOUND", async () => {
      const before = requested.length;
      const publicVideo = (await readyVideo('public')).id;
      await rejectsWith(service.reprocess(publicVideo, other), 'FORBIDDEN');
      await rejectsWith(service.reprocess(publicVideo, undefined), 'FORBIDDEN');
      const unlisted = (await readyVideo('unlisted')).id;
      await rejectsWith(service.reprocess(unlisted, other), 'VIDEO_NOT_FOUND');
      await rejectsWith(service.reprocess(unlisted, undefined), 'VIDEO_NOT_FOUND');
      const hidden = (await readyVideo('private')).id;
      await rejectsWith(service.reprocess(hidden, other), 'VIDEO_NOT_FOUND');
      await rejectsWith(
        service.reprocess(hidden, { kind: 'signed-url', videoId: hidden }),
        'VIDEO_NOT_FOUND',
      );
      assert.equal(requested.length, before, 'no refusal requested processing');
      for (const id of [publicVideo, unlisted, hidden])
        assert.equal((await videos.find(id))?.status, 'ready');
      await service.reprocess(hidden, admin);
      assert.equal((await videos.find(hidden))?.status, 'processing');
      await service.reprocess(unlisted, owner);
      assert.equal((await videos.find(unlisted))?.status, 'processing');
    });

    it('a deleted video is VIDEO_DELETED', async () => {
      const id = await deletedVideo('public');
      await rejectsWith(service.reprocess(id, owner), 'VIDEO_DELETED');
      assert.equal((await videos.find(id))?.status, 'deleted');
    });
  });

  describe('delete', () => {
    it("removes every encode under videos/<id>/ and the source, leaves other videos' files, and answers 410 after", async () => {
      const { id, encodeId } = await readyVideo('public');
      const neighbour = await readyVideo('public');
      const neighbourFiles = await f.store.list(`videos/${neighbour.id}/`);
      // An older encode's leftovers are the video's too.
      await f.store.put(`videos/${id}/olderencode1/master.m3u8`, '#EXTM3U\n');
      assert.equal((await f.store.list(`videos/${id}/`)).length, 3);
      assert.ok(await f.store.stat(`videos/${id}/${encodeId}/master.m3u8`));

      await service.delete(id, owner);
      assert.deepEqual(await f.store.list(`videos/${id}/`), []);
      assert.equal(await f.store.stat(`sources/${id}/original.mp4`), undefined);
      assert.deepEqual(await f.store.list(`videos/${neighbour.id}/`), neighbourFiles);
      assert.ok(await f.store.stat(`sources/${neighbour.id}/original.mp4`));
      assert.ok(!(await f.filesInStore()).some((file) => file.startsWith(`videos/${id}/`)));

      const row = await videos.find(id);
      assert.deepEqual([row?.status, row?.playable], ['deleted', false]);
      await rejectsWith(service.get(id, owner), 'VIDEO_DELETED');
      await rejectsWith(service.delete(id, owner), 'VIDEO_DELETED');
    });

    it('commits a cleanup job with the mark; when storage fails the delete still succeeds and the job finishes it', async () => {
      const { id, encodeId } = await readyVideo('public');
      const deletePrefix = f.store.deletePrefix;
      f.store.deletePrefix = async () => {
        throw new Error('storage is down');
      };
      try {
        await service.delete(id, owner);
      } finally {
        f.store.deletePrefix = deletePrefix;
      }
      assert.equal((await videos.find(id))?.status, 'deleted');
      assert.ok(await f.store.stat(`videos/${id}/${encodeId}/master.m3u8`), 'left behind by the failure');
      const jobs = await f.database.executeSql(
        `select data from pgboss.job where name = '${cleanupVideoJob.name}' and data->>'videoId' = $1`,
        [id],
      );
      assert.deepEqual(
        jobs.rows.map((row) => (row as { data: unknown }).data),
        [{ videoId: id, sourceKey: `sources/${id}/original.mp4` }],
      );
      // What the job's worker runs (twice: a retry after a partial run is harmless).
      for (let run = 0; run < 2; run++)
        await removeVideoFiles(f.store, { videoId: id, sourceKey: `sources/${id}/original.mp4` });
      assert.deepEqual(await f.store.list(`videos/${id}/`), []);
      assert.equal(await f.store.stat(`sources/${id}/original.mp4`), undefined);
    });

    it('a refused delete commits no cleanup job', async () => {
      const { id } = await readyVideo('public');
      await rejectsWith(service.delete(id, other), 'FORBIDDEN');
      const jobs = await f.database.executeSql(
        `select 1 from pgboss.job where name = '${cleanupVideoJob.name}' and data->>'videoId' = $1`,
        [id],
      );
      assert.equal(jobs.rows.length, 0);
    });

    it('others may not delete: FORBIDDEN on a public video, VIDEO_NOT_FOUND on unlisted and private ones; nothing is removed', async () => {
      const publicVideo = await readyVideo('public');
      const unlistedVideo = await readyVideo('unlisted');
      const privateVideo = await readyVideo('private');
      const filesBefore = await f.filesInStore();
      await rejectsWith(service.delete(publicVideo.id, other), 'FORBIDDEN');
      await rejectsWith(service.delete(publicVideo.id, undefined), 'FORBIDDEN');
      await rejectsWith(service.delete(unlistedVideo.id, other), 'VIDEO_NOT_FOUND');
      await rejectsWith(service.delete(unlistedVideo.id, undefined), 'VIDEO_NOT_FOUND');
      await rejectsWith(service.delete(privateVideo.id, other), 'VIDEO_NOT_FOUND');
      await rejectsWith(service.delete(privateVideo.id, undefined), 'VIDEO_NOT_FOUND');
      assert.deepEqual(await f.filesInStore(), filesBefore);
      assert.equal((await videos.find(publicVideo.id))?.status, 'ready');
      assert.equal((await videos.find(privateVideo.id))?.status, 'ready');
      assert.equal((await videos.find(unlistedVideo.id))?.status, 'ready');
      // An admin may delete anyone's video.
      await service.delete(privateVideo.id, admin);
      assert.deepEqual(await f.store.list(`videos/${privateVideo.id}/`), []);
      assert.equal((await videos.find(privateVideo.id))?.status, 'deleted');
    });
  });
});
