import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { makeClip } from './support/media.ts';
import { type RunningS3rver, startS3rver } from './support/s3rver.ts';
import {
  runCli,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from './support/server-process.ts';
import { chunkOf, digestHeader } from './support/uploads.ts';

/*
 * Scale-out mode end to end: PostgreSQL + S3 (s3rver) (+ Redis when TEST_REDIS_URL is set), two
 * API-only nodes (`reel serve --no-workers`) and one transcoding node (`reel worker`), all separate
 * processes. Chunks of one upload land on both API nodes; the worker transcodes; both nodes serve it.
 */
const databaseUrl = process.env.TEST_DATABASE_URL;
if (!databaseUrl) {
  console.log(
    '# TEST_DATABASE_URL not set: the scale-out test (PostgreSQL + S3 + workers) is not part of this run',
  );
} else {
  describe('scale-out: two API nodes and a worker on PostgreSQL + S3', () => {
    const name = `reel_scale_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    let dir: string;
    let s3: RunningS3rver;
    let nodes: ServerProcess[] = [];
    let worker: ReturnType<typeof startWorkerProcess> | undefined;
    let env: Record<string, string>;
    let passed = false;

    before(async () => {
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = new URL(databaseUrl);
      url.pathname = `/${name}`;
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-scale-'));
      s3 = await startS3rver();
      env = {
        DATABASE_URL: url.toString(),
        S3_BUCKET: s3.bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: s3.config.region,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        DATA_DIR: dir,
        HLS_SEGMENT_SECONDS: '2',
        ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
      };
      const migrated = await runCli(['migrate'], env);
      assert.equal(migrated.code, 0, migrated.stderr);
      nodes = await Promise.all([
        startServerProcess(env, undefined, ['--no-workers']),
        startServerProcess(env, undefined, ['--no-workers']),
      ]);
      worker = startWorkerProcess(env);
    });

    after(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await worker?.stop();
      await s3?.stop();
      if (passed) await admin.query(`drop database ${name}`);
      await admin.end();
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('uploads through both nodes, transcodes on the worker and serves from S3 on both nodes', async () => {
      const created = await runCli(['keys', 'create', '--name', 'scale'], env);
      assert.equal(created.code, 0, created.stderr);
      const apiKey = created.stdout.trim().split('\n').at(-1)!;
      const call = (node: number, url: string, init: RequestInit = {}) =>
        fetch(`${nodes[node]!.baseUrl}${url}`, {
          ...init,
          headers: { authorization: `Bearer ${apiKey}`, ...(init.headers ?? {}) },
        });

      const file = await fs.readFile(await makeClip(dir, { seconds: 4, width: 640, height: 360 }));
      const chunkSize = 5 * 1024 * 1024; // S3's minimum part size
      const padded = Buffer.concat([file, randomBytes(chunkSize * 2 + 1234 - file.length)]);
      const create = await call(0, '/api/v1/uploads', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          filename: 'scale.mp4',
          size: padded.length,
          contentType: 'video/mp4',
          chunkSize,
        }),
      });
      assert.equal(create.status, 201, await create.clone().text());
      const session = (await create.json()) as { id: string; totalChunks: number };
      assert.equal(session.totalChunks, 3);
      // Chunks in parallel, spread over both API nodes.
      const puts = await Promise.all(
        [2, 0, 1].map((index) => {
          const bytes = chunkOf(padded, chunkSize, index);
          return call(index % 2, `/api/v1/uploads/${session.id}/chunks/${index}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/octet-stream', 'content-digest': digestHeader(bytes) },
            body: new Uint8Array(bytes),
          });
        }),
      );
      assert.deepEqual(
        puts.map((response) => response.status),
        [200, 200, 200],
      );
      const status = (await (await call(1, `/api/v1/uploads/${session.id}`)).json()) as {
        receivedChunks: number;
      };
      assert.equal(status.receivedChunks, 3);
      const complete = await call(1, `/api/v1/uploads/${session.id}/complete`, { method: 'POST' });
      assert.equal(complete.status, 202, await complete.clone().text());
      const { videoId } = (await complete.json()) as { videoId: string };

      let video: any;
      const deadline = Date.now() + 120_000;
      for (;;) {
        video = await (await call(0, `/api/v1/videos/${videoId}`)).json();
        if (video.status !== 'processing') break;
        assert.ok(Date.now() < deadline, `not ready: ${JSON.stringify(video)}\n${worker!.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      assert.equal(video.status, 'ready', JSON.stringify(video.error));

      // Both nodes serve the ladder from the bucket: the master on one, a ranged segment on the other.
      const masterPath = new URL(video.playback.hls).pathname;
      const master = await call(1, masterPath);
      assert.equal(master.status, 200);
      assert.match(await master.text(), /#EXT-X-STREAM-INF:.*RESOLUTION=640x360/);
      const segmentPath = masterPath.replace('master.m3u8', '360p/seg_00000.m4s');
      const ranged = await call(0, segmentPath, { headers: { range: 'bytes=0-99' } });
      assert.equal(ranged.status, 206);
      assert.equal((await ranged.arrayBuffer()).byteLength, 100);
      passed = true;
    });
  });
}
