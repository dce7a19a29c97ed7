import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { makeClip, mediaTools } from '../../test/support/media.ts';
import {
  createKeyPrincipal,
  openServiceFixture,
  rejectsWith,
  type ServiceFixture,
} from '../../test/support/services.ts';
import { chunkOf, digestHeader, sha256Hex } from '../../test/support/uploads.ts';
import { ownerKeyId, type Principal } from '../auth/principal.ts';
import { UploadTokens } from '../auth/upload-tokens.ts';
import { VideoRepository } from '../catalog/video-repository.ts';
import type { UploadLimits } from '../config.ts';
import { probeMedia } from '../media/probe.ts';
import { PgBossJobQueue } from '../platform/queue/job-queue.ts';
import {
  processingRequests,
  processingTimeoutSeconds,
  processVideoJob,
  type RequestProcessing,
} from '../processing/jobs.ts';
import { UploadRepository } from './upload-repository.ts';
import { UploadService } from './upload-service.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

const LIMITS: UploadLimits = {
  defaultChunkSize: 64 * KiB,
  minChunkSize: 4 * KiB,
  maxChunkSize: 1 * MiB,
  minSize: 1,
  maxSize: 1024 * MiB,
  sessionTtlSeconds: 3600,
  maxDurationSeconds: 600,
  maxWidth: 4096,
  maxHeight: 4096,
  uploadTokenTtlSeconds: 3600,
  maxActiveSessions: 100,
  maxReservedBytes: 10 * 1024 * MiB,
  idleTimeoutSeconds: 30,
  maxConcurrentChunksPerIp: 8,
};

describe('UploadService (real PGlite, local store, pg-boss, ffprobe)', () => {
  let f: ServiceFixture;
  let queue: PgBossJobQueue;
  let tokens: UploadTokens;
  let clip: Buffer;
  let admin: Principal;
  /** What requestProcessing was asked, and whether the video row was already there inside its transaction. */
  const requested: Array<{ id: string; durationSeconds: number; rowInTransaction: boolean }> = [];
  let probes = 0;

  /** The real enqueue (pg-boss, in the caller's transaction), recording what it was asked. */
  const recordingProcessing: RequestProcessing = async (tx, video) => {
    const row = await tx.selectFrom('videos').select('id').where('id', '=', video.id).executeTakeFirst();
    requested.push({ ...video, rowInTransaction: row !== undefined });
    await processingRequests(queue)(tx, video);
  };

  function service(limits: Partial<UploadLimits> = {}, requestProcessing = recordingProcessing) {
    return new UploadService({
      db: f.db,
      uploads: new UploadRepository(f.db),
      videos: new VideoRepository(f.db),
      tokens,
      store: f.store,
      requestProcessing,
      limits: { ...LIMITS, ...limits },
      probe: (input) => {
        probes++;
        return probeMedia(mediaTools().ffprobe, input);
      },
      clock: f.clock,
    });
  }

  const member = (name: string) => createKeyPrincipal(f.db, name, 'member');

  async function send(
    svc: UploadService,
    who: Principal,
    id: string,
    bytes: Buffer,
    index: number,
    digest?: string,
  ) {
    return svc.receiveChunk(who, id, index, Readable.from([bytes]), {
      contentDigest: digest ?? digestHeader(bytes),
      contentLength: bytes.length,
    });
  }

  /** Creates a session for `file` and sends every chunk. */
  async function uploadAll(
    svc: UploadService,
    who: Principal,
    file: Buffer,
    extra: { sha256?: string } = {},
  ) {
    const chunkSize = 16 * KiB;
    const session = await svc.create(who, {
      filename: 'clip.mp4',
      size: file.length,
      contentType: 'video/mp4',
      chunkSize,
      ...extra,
    });
    for (let index = 0; index < session.totalChunks; index++) {
      await send(svc, who, session.id, chunkOf(file, chunkSize, index), index);
    }
    return session;
  }

  async function jobsFor(videoId: string) {
    const result = await f.database.executeSql(
      `select data, expire_seconds from pgboss.job where name = $1 and data->>'videoId' = $2`,
      [processVideoJob.name, videoId],
    );
    return result.rows as Array<{
      data: { videoId: string; durationSeconds: number };
      expire_seconds: number;
    }>;
  }

  const uploadRow = (id: string) =>
    f.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  before(async () => {
    f = await openServiceFixture();
    queue = new PgBossJobQueue(f.database, {
      retryLimit: 1,
      retryDelaySeconds: 1,
      heartbeatSeconds: 30,
      monitorIntervalSeconds: 60,
    });
    await queue.start([processVideoJob]);
    tokens = new UploadTokens(f.db, 3600);
    admin = await createKeyPrincipal(f.db, 'admin', 'admin'); // the first key is the admin
    clip = await fs.readFile(await makeClip(f.dir, { seconds: 2 }));
    assert.ok(clip.length > 2 * 16 * KiB, `the clip (${clip.length} bytes) spans several chunks`);
  });
  after(async () => {
    await queue?.stop({ timeoutMs: 5000 });
    await f?.close();
  });

  describe('create', () => {
    it('refuses sizes and types outside the limits, and stores nothing for them', async () => {
      const svc = service({ minSize: 100, maxSize: 1 * MiB });
      const who = await member('limits');
      const input = { filename: 'a.mp4', size: 1000, contentType: 'video/mp4' };
      const filesBefore = await f.filesInStore();
      const tooLarge = await rejectsWith(svc.create(who, { ...input, size: MiB + 1 }), 'UPLOAD_TOO_LARGE');
      assert.deepEqual(tooLarge.details, { maxSize: MiB });
      await rejectsWith(svc.create(who, { ...input, size: 99 }), 'UPLOAD_TOO_SMALL');
      await rejectsWith(svc.create(who, { ...input, filename: 'notes.txt' }), 'UPLOAD_TYPE_NOT_ALLOWED');
      await rejectsWith(svc.create(who, { ...input, filename: 'noextension' }), 'UPLOAD_TYPE_NOT_ALLOWED');
      await rejectsWith(svc.create(who, { ...input, contentType: 'text/plain' }), 'UPLOAD_TYPE_NOT_ALLOWED');
      const owned = await f.db
        .selectFrom('uploads')
        .select('id')
        .where('owner_key_id', '=', ownerKeyId(who))
        .execute();
      assert.deepEqual(owned, []);
      assert.deepEqual(await f.filesInStore(), filesBefore);

      // The bounds themselves are allowed; an unknown content type is left to sniffing.
      await svc.create(who, { ...input, size: MiB });
      await svc.create(who, { ...input, size: 100, contentType: 'application/octet-stream' });
    });

    it('chooses the chunk size: the proposal within bounds, else the default, grown to stay ≤ 10,000 chunks', async () => {
      const svc = service();
      const who = await member('chunk sizes');
      const input = { filename: 'a.mkv', size: 200 * KiB + 5, contentType: 'video/x-matroska' };

      const byDefault = await svc.create(who, input);
      assert.deepEqual([byDefault.chunkSize, byDefault.totalChunks], [64 * KiB, 4]);
      assert.equal(byDefault.expiresAt, new Date(f.clock.nowMs() + 3600 * 1000).toISOString());

      const proposed = await svc.create(who, { ...input, chunkSize: 16 * KiB });
      assert.deepEqual([proposed.chunkSize, proposed.totalChunks], [16 * KiB, 13]);
      const status = await svc.status(who, proposed.id);
      assert.deepEqual(
        [status.state, status.size, status.chunkSize, status.totalChunks, status.receivedChunks],
        ['active', input.size, 16 * KiB, 13, 0],
      );
      assert.equal(status.missingChunks.length, 13);

      const below = await rejectsWith(
        svc.create(who, { ...input, chunkSize: 4 * KiB - 1 }),
        'UPLOAD_CHUNK_SIZE_INVALID',
      );
      assert.deepEqual(below.details, { chunkSize: 4 * KiB - 1 });
      await rejectsWith(svc.create(who, { ...input, chunkSize: MiB + 1 }), 'UPLOAD_CHUNK_SIZE_INVALID');

      // 10,000 default chunks and one byte more: the chunk size grows so there are at most 10,000 chunks.
      const small = service({ defaultChunkSize: 4 * KiB });
      const big = await small.create(who, { ...input, size: 10_000 * 4 * KiB + 1 });
      assert.equal(big.chunkSize, 4 * KiB + 1);
      assert.equal(big.totalChunks, Math.ceil((10_000 * 4 * KiB + 1) / (4 * KiB + 1)));
      assert.ok(big.totalChunks <= 10_000);
      // A proposal that would need more than 10,000 chunks is refused.
      await rejectsWith(
        small.create(who, { ...input, size: 10_000 * 4 * KiB + 1, chunkSize: 4 * KiB }),
        'UPLOAD_CHUNK_SIZE_INVALID',
      );
    });

    it('counts open sessions per key: UPLOAD_TOO_MANY_SESSIONS, freed by an abort; other keys unaffected', async () => {
      const svc = service({ maxActiveSessions: 2 });
      const [a, b] = [await member('sessions a'), await member('sessions b')];
      const input = { filename: 'a.mp4', size: 10 * KiB, contentType: 'video/mp4' };
      const first = await svc.create(a, input);
      await svc.create(a, input);
      const filesBefore = await f.filesInStore();
      const refused = await rejectsWith(svc.create(a, input), 'UPLOAD_TOO_MANY_SESSIONS');
      assert.deepEqual(refused.details, { activeSessions: 2, maxActiveSessions: 2 });
      assert.deepEqual(await f.filesInStore(), filesBefore, 'the refused session left no file behind');
      await svc.create(b, input); // the quota is per key
      await svc.abort(a, first.id);
      await svc.create(a, input);
    });

    it('counts reserved bytes per key: UPLOAD_QUOTA_EXCEEDED past the limit, exactly the limit allowed', async () => {
      const svc = service({ maxReservedBytes: 100 * KiB });
      const who = await member('bytes');
      const input = { filename: 'a.mp4', contentType: 'video/mp4' };
      await svc.create(who, { ...input, size: 60 * KiB });
      const filesBefore = await f.filesInStore();
      const refused = await rejectsWith(
        svc.create(who, { ...input, size: 40 * KiB + 1 }),
        'UPLOAD_QUOTA_EXCEEDED',
      );
      assert.deepEqual(refused.details, {
        reservedBytes: 60 * KiB,
        size: 40 * KiB + 1,
        maxReservedBytes: 100 * KiB,
      });
      assert.deepEqual(await f.filesInStore(), filesBefore, 'the refused session left no file behind');
      await svc.create(who, { ...input, size: 40 * KiB });
      await rejectsWith(svc.create(who, { ...input, size: 1 }), 'UPLOAD_QUOTA_EXCEEDED');
    });

    it('an upload token creates one session, owned by its key; a second create is UPLOAD_TOKEN_ALREADY_USED', async () => {
      const svc = service();
      const key = await member('token issuer');
      const { token } = await tokens.issue(key.keyId);
      const grant = await tokens.verify(token);
      assert.ok(grant);
      const fresh: Principal = { kind: 'upload-token', ...grant };
      const input = { filename: 'a.mp4', size: 10 * KiB, contentType: 'video/mp4' };
      const session = await svc.create(fresh, input);
      assert.equal((await uploadRow(session.id)).owner_key_id, key.keyId);
      assert.equal((await svc.status(key, session.id)).id, session.id, 'the issuing key sees the session');

      // The same principal again (as two concurrent requests would both hold it): the bind refuses.
      const filesBefore = await f.filesInStore();
      await rejectsWith(svc.create(fresh, input), 'UPLOAD_TOKEN_ALREADY_USED');
      assert.deepEqual(await f.filesInStore(), filesBefore, 'the refused session left no file behind');
      const owned = await f.db
        .selectFrom('uploads')
        .select('id')
        .where('owner_key_id', '=', key.keyId)
        .execute();
      assert.deepEqual(owned, [{ id: session.id }]);
      // The token as verified now knows its session: refused before anything is tried.
      const used = await tokens.verify(token);
      assert.equal(used?.uploadId, session.id);
      await rejectsWith(svc.create({ kind: 'upload-token', ...used! }, input), 'UPLOAD_TOKEN_ALREADY_USED');
    });
  });

  describe('chunks and status', () => {
    it('a chunk whose bytes do not match its digest is UPLOAD_CHUNK_DIGEST_MISMATCH and stays missing', async () => {
      const svc = service();
      const who = await member('digest');
      const session = await svc.create(who, {
        filename: 'c.mp4',
        size: clip.length,
        contentType: 'video/mp4',
        chunkSize: 16 * KiB,
      });
      const chunk1 = chunkOf(clip, 16 * KiB, 1);
      const wrong = digestHeader(Buffer.from('something else'));
      const mismatch = await rejectsWith(
        send(svc, who, session.id, chunk1, 1, wrong),
        'UPLOAD_CHUNK_DIGEST_MISMATCH',
      );
      assert.equal(mismatch.details?.index, 1);
      const status = await svc.status(who, session.id);
      assert.equal(status.receivedChunks, 0);
      assert.ok(status.missingChunks.includes(1));
      // The claim was released: the right bytes are accepted, and are then idempotent.
      assert.deepEqual(await send(svc, who, session.id, chunk1, 1), {
        index: 1,
        duplicate: false,
        receivedChunks: 1,
        totalChunks: session.totalChunks,
      });
      assert.equal((await send(svc, who, session.id, chunk1, 1)).duplicate, true);
      // Other bytes for a received chunk are a conflict, not an overwrite.
      const other = Buffer.alloc(chunk1.length, 1);
      await rejectsWith(send(svc, who, session.id, other, 1), 'UPLOAD_CHUNK_CONFLICT');
      const storageKey = (await uploadRow(session.id)).storage_key;
      assert.equal(
        await f.store.stat(storageKey),
        undefined,
        'not assembled yet: no object under the source key',
      );
    });

    it('status reports the missing chunks and bytes received; each chunk slides the expiry', async () => {
      const svc = service();
      const who = await member('status');
      const chunkSize = 16 * KiB;
      const size = 2 * chunkSize + 100; // 3 chunks, the last one 100 bytes
      const file = Buffer.concat([clip.subarray(0, 2 * chunkSize), Buffer.alloc(100, 9)]);
      const session = await svc.create(who, { filename: 's.mp4', size, contentType: 'video/mp4', chunkSize });
      await send(svc, who, session.id, chunkOf(file, chunkSize, 2), 2);
      f.clock.advance(10 * 60 * 1000);
      await send(svc, who, session.id, chunkOf(file, chunkSize, 0), 0);
      const status = await svc.status(who, session.id);
      assert.deepEqual(
        {
          receivedChunks: status.receivedChunks,
          missingChunks: status.missingChunks,
          bytesReceived: status.bytesReceived,
          expiresAt: status.expiresAt,
          videoId: status.videoId,
        },
        {
          receivedChunks: 2,
          missingChunks: [1],
          bytesReceived: chunkSize + 100,
          expiresAt: new Date(f.clock.nowMs() + 3600 * 1000).toISOString(),
          videoId: null,
        },
      );
      await rejectsWith(svc.complete(who, session.id, {}), 'UPLOAD_INCOMPLETE');
      assert.equal(
        (await uploadRow(session.id)).state,
        'active',
        'an incomplete session can still be completed later',
      );
    });
  });

  describe('complete', () => {
    it('creates the video and requests its processing in one transaction; a second complete answers the same video', async () => {
      const svc = service();
      const who = await member('complete');
      const session = await uploadAll(svc, who, clip, { sha256: sha256Hex(clip).toUpperCase() });
      const before = requested.length;
      const { videoId } = await svc.complete(who, session.id, {
        title: '  My clip  ',
        tags: ['a', 'b'],
        visibility: 'unlisted',
      });

      const video = await new VideoRepository(f.db).find(videoId);
      assert.ok(video);
      const upload = await uploadRow(session.id);
      assert.deepEqual(
        {
          title: video.title,
          tags: video.tags,
          visibility: video.visibility,
          status: video.status,
          width: video.width,
          height: video.height,
          video_codec: video.video_codec,
          audio_codec: video.audio_codec,
          source_key: video.source_key,
          source_size: video.source_size,
          upload_id: video.upload_id,
          owner_key_id: video.owner_key_id,
        },
        {
          title: 'My clip',
          tags: ['a', 'b'],
          visibility: 'unlisted',
          status: 'processing',
          width: 320,
          height: 180,
          video_codec: 'h264',
          audio_codec: 'aac',
          source_key: upload.storage_key,
          source_size: clip.length,
          upload_id: session.id,
          owner_key_id: ownerKeyId(who),
        },
      );
      assert.ok(Math.abs(video.duration_seconds - 2) < 0.2, `duration ${video.duration_seconds}`);
      assert.deepEqual([upload.state, upload.video_id], ['completed', videoId]);
      // The assembled source is the uploaded file, byte for byte.
      const hash = createHash('sha256');
      await pipeline(await f.store.read(video.source_key), hash);
      assert.equal(hash.digest('hex'), sha256Hex(clip));

      // Processing was requested inside the transaction that created the row, and its job committed with it.
      assert.deepEqual(requested.slice(before), [
        { id: videoId, durationSeconds: video.duration_seconds, rowInTransaction: true },
      ]);
      const jobs = await jobsFor(videoId);
      assert.deepEqual(jobs, [
        {
          data: { videoId, durationSeconds: video.duration_seconds },
          expire_seconds: processingTimeoutSeconds(video.duration_seconds),
        },
      ]);

      // Idempotent: the same video, no second row, no second job.
      assert.deepEqual(await svc.complete(who, session.id, { title: 'other' }), { videoId });
      assert.equal(requested.length, before + 1);
      assert.equal((await jobsFor(videoId)).length, 1);
      const videos = await f.db
        .selectFrom('videos')
        .select('id')
        .where('upload_id', '=', session.id)
        .execute();
      assert.deepEqual(videos, [{ id: videoId }]);
      assert.equal((await new VideoRepository(f.db).find(videoId))?.title, 'My clip');
    });

    it('when requesting processing fails, neither the video nor its job exists and the session can be completed again', async () => {
      const who = await member('rollback');
      const asked: string[] = [];
      const failing: RequestProcessing = async (tx, video) => {
        asked.push(video.id);
        await processingRequests(queue)(tx, video); // enqueued in the transaction…
        throw new Error('the queue went away'); // …which then rolls back
      };
      const svc = service({}, failing);
      const session = await uploadAll(svc, who, clip);
      await assert.rejects(svc.complete(who, session.id, {}), /the queue went away/);
      assert.equal(asked.length, 1);
      assert.equal(await new VideoRepository(f.db).find(asked[0]!), undefined);
      assert.deepEqual(await jobsFor(asked[0]!), []);
      const upload = await uploadRow(session.id);
      assert.deepEqual([upload.state, upload.video_id], ['active', null]);
      assert.ok(await f.store.stat(upload.storage_key), 'the bytes are kept for the retry');

      const { videoId } = await service().complete(who, session.id, {});
      assert.notEqual(videoId, asked[0]);
      assert.equal((await new VideoRepository(f.db).find(videoId))?.upload_id, session.id);
      assert.equal((await jobsFor(videoId)).length, 1);
    });

    it('a file that cannot be read as video is rejected for good: the same error again, bytes and quota freed', async () => {
      const svc = service({ maxActiveSessions: 1 });
      const who = await member('rejected');
      // The clip's first 40 KiB: it sniffs as MP4, but its index (moov, written last) is missing.
      const truncated = clip.subarray(0, 40 * KiB);
      const session = await uploadAll(svc, who, truncated);
      const storageKey = (await uploadRow(session.id)).storage_key;
      const probesBefore = probes;
      const first = await rejectsWith(svc.complete(who, session.id, {}), 'MEDIA_UNREADABLE');
      assert.equal(probes, probesBefore + 1);

      const upload = await uploadRow(session.id);
      assert.deepEqual([upload.state, upload.video_id], ['rejected', null]);
      assert.equal(await f.store.stat(storageKey), undefined);
      assert.deepEqual(
        (await f.filesInStore()).filter((file) => file.startsWith(storageKey)),
        [],
        'neither the object nor its partial file is left',
      );
      assert.equal((await svc.status(who, session.id)).receivedChunks, 0);

      const again = await rejectsWith(svc.complete(who, session.id, {}), 'MEDIA_UNREADABLE');
      assert.deepEqual([again.message, again.details], [first.message, first.details]);
      assert.equal(probes, probesBefore + 1, 'answered from the stored outcome, not probed again');
      const videos = await f.db
        .selectFrom('videos')
        .select('id')
        .where('upload_id', '=', session.id)
        .execute();
      assert.deepEqual(videos, []);
      // The rejected session no longer counts against the key's one open session.
      await svc.create(who, { filename: 'next.mp4', size: 10 * KiB, contentType: 'video/mp4' });
    });

    it('a whole-file SHA-256 that does not match is UPLOAD_FILE_DIGEST_MISMATCH, answered again on retry', async () => {
      const svc = service();
      const who = await member('file digest');
      const session = await uploadAll(svc, who, clip, { sha256: 'ab'.repeat(32) });
      const first = await rejectsWith(svc.complete(who, session.id, {}), 'UPLOAD_FILE_DIGEST_MISMATCH');
      assert.deepEqual(first.details, { expected: 'ab'.repeat(32), actual: sha256Hex(clip) });
      assert.equal((await uploadRow(session.id)).state, 'rejected');
      assert.equal(await f.store.stat((await uploadRow(session.id)).storage_key), undefined);
      const again = await rejectsWith(svc.complete(who, session.id, {}), 'UPLOAD_FILE_DIGEST_MISMATCH');
      assert.deepEqual(again.details, first.details);
    });
  });

  describe('abort and expiry', () => {
    it('abort frees the bytes and the quota; the session then refuses chunks, complete and abort', async () => {
      const svc = service({ maxActiveSessions: 1 });
      const who = await member('abort');
      const chunkSize = 16 * KiB;
      const session = await svc.create(who, {
        filename: 'x.mp4',
        size: clip.length,
        contentType: 'video/mp4',
        chunkSize,
      });
      await send(svc, who, session.id, chunkOf(clip, chunkSize, 0), 0);
      const storageKey = (await uploadRow(session.id)).storage_key;
      assert.deepEqual(
        (await f.filesInStore()).filter((file) => file.startsWith(storageKey)),
        [`${storageKey}.partial`],
      );
      await svc.abort(who, session.id);
      assert.equal((await uploadRow(session.id)).state, 'aborted');
      assert.deepEqual(
        (await f.filesInStore()).filter((file) => file.startsWith(storageKey)),
        [],
      );
      assert.equal((await svc.status(who, session.id)).receivedChunks, 0);
      await rejectsWith(send(svc, who, session.id, chunkOf(clip, chunkSize, 1), 1), 'UPLOAD_NOT_ACTIVE');
      await rejectsWith(svc.complete(who, session.id, {}), 'UPLOAD_NOT_ACTIVE');
      await rejectsWith(svc.abort(who, session.id), 'UPLOAD_NOT_ACTIVE');
      await svc.create(who, { filename: 'y.mp4', size: 10 * KiB, contentType: 'video/mp4' });
    });

    it('sweepExpired frees sessions idle past their TTL (bytes included) and spares those still receiving', async () => {
      const svc = service({ sessionTtlSeconds: 60, maxActiveSessions: 2 });
      const who = await member('sweep');
      const chunkSize = 16 * KiB;
      const input = { filename: 'x.mp4', size: clip.length, contentType: 'video/mp4', chunkSize };
      const idle = await svc.create(who, input);
      const busy = await svc.create(who, input);
      await send(svc, who, idle.id, chunkOf(clip, chunkSize, 0), 0);
      const idleKey = (await uploadRow(idle.id)).storage_key;

      f.clock.advance(30_000);
      await send(svc, who, busy.id, chunkOf(clip, chunkSize, 0), 0); // busy now expires 60 s from here
      f.clock.advance(30_000); // idle's expiry exactly: not yet past it
      assert.equal(await svc.sweepExpired(), 0);
      f.clock.advance(1);
      // Past its TTL, even before the sweep, the session takes no more chunks.
      await rejectsWith(send(svc, who, idle.id, chunkOf(clip, chunkSize, 1), 1), 'UPLOAD_EXPIRED');
      assert.equal(await svc.sweepExpired(), 1);

      assert.equal((await uploadRow(idle.id)).state, 'expired');
      assert.equal((await uploadRow(busy.id)).state, 'active');
      assert.deepEqual(
        (await f.filesInStore()).filter((file) => file.startsWith(idleKey)),
        [],
      );
      assert.equal((await svc.status(who, idle.id)).receivedChunks, 0);
      await rejectsWith(svc.complete(who, idle.id, {}), 'UPLOAD_EXPIRED');
      await rejectsWith(send(svc, who, idle.id, chunkOf(clip, chunkSize, 1), 1), 'UPLOAD_EXPIRED');
      assert.equal(await svc.sweepExpired(), 0, 'swept once');
      // The expired session no longer counts against the key's two open sessions.
      await svc.create(who, input);
    });
  });

  describe('access', () => {
    it("another member key's session does not exist for it (UPLOAD_NOT_FOUND); an admin may use it", async () => {
      const svc = service();
      const [owner, other] = [await member('access owner'), await member('access other')];
      const session = await svc.create(owner, {
        filename: 'x.mp4',
        size: clip.length,
        contentType: 'video/mp4',
        chunkSize: 16 * KiB,
      });
      const chunk = chunkOf(clip, 16 * KiB, 0);
      await rejectsWith(svc.status(other, session.id), 'UPLOAD_NOT_FOUND');
      await rejectsWith(send(svc, other, session.id, chunk, 0), 'UPLOAD_NOT_FOUND');
      await rejectsWith(svc.complete(other, session.id, {}), 'UPLOAD_NOT_FOUND');
      await rejectsWith(svc.abort(other, session.id), 'UPLOAD_NOT_FOUND');
      await rejectsWith(svc.status(owner, 'nosuchupload'), 'UPLOAD_NOT_FOUND');
      const row = await uploadRow(session.id);
      assert.equal(row.state, 'active', 'the refused abort changed nothing');
      assert.equal(
        (await svc.status(owner, session.id)).receivedChunks,
        0,
        'the refused chunk was not stored',
      );
      assert.equal((await svc.status(admin, session.id)).id, session.id);
      await send(svc, admin, session.id, chunk, 0);
      assert.equal((await svc.status(owner, session.id)).receivedChunks, 1);
    });

    it('an upload token used for another session is FORBIDDEN, even one of its own key', async () => {
      const svc = service();
      const key = await member('token access');
      const grant = await tokens.verify((await tokens.issue(key.keyId)).token);
      const tokenSession = await svc.create(
        { kind: 'upload-token', ...grant! },
        {
          filename: 'x.mp4',
          size: 10 * KiB,
          contentType: 'video/mp4',
        },
      );
      const token: Principal = { kind: 'upload-token', ...grant!, uploadId: tokenSession.id };
      const keySession = await svc.create(key, {
        filename: 'y.mp4',
        size: 10 * KiB,
        contentType: 'video/mp4',
      });
      assert.equal((await svc.status(token, tokenSession.id)).id, tokenSession.id);
      await rejectsWith(svc.status(token, keySession.id), 'FORBIDDEN');
      await rejectsWith(svc.abort(token, keySession.id), 'FORBIDDEN');
      await rejectsWith(svc.complete(token, keySession.id, {}), 'FORBIDDEN');
      await rejectsWith(svc.status(token, 'nosuchupload'), 'FORBIDDEN');
      assert.equal((await uploadRow(keySession.id)).state, 'active');
    });
  });
});
