import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/harness.ts';
import { createSession, makeVideoOfSize, putChunk } from './support/uploads.ts';

const RACES = 50;

/**
 * Two PUTs of one chunk index with different bytes, each with its own correct Content-Digest, sent at
 * once: the stored bytes and the recorded digest must always come from the same request.
 */
for (const storage of ['local', 's3'] as const) {
  describe(`concurrent different bodies for one chunk (${storage} storage)`, () => {
    let t: TestApp;
    let bodies: [Buffer, Buffer];
    before(async () => {
      t = await startTestApp({ storage, env: { UPLOAD_MAX_ACTIVE_SESSIONS: '100' } });
      // Two valid video files of one size that differ (random padding): either may win.
      bodies = [
        await makeVideoOfSize(t.dir, 200_000, 'a.mp4'),
        await makeVideoOfSize(t.dir, 200_000, 'b.mp4'),
      ];
      assert.notDeepEqual(sha(bodies[0]), sha(bodies[1]));
    });
    after(() => t.close());

    it(`${RACES} races: one request wins, the loser changes nothing, bytes = recorded digest`, async () => {
      const winners = new Set<number>();
      for (let race = 0; race < RACES; race++) {
        const session = await createSession(t, bodies[0]);
        // Alternate which body is sent first, so either may win.
        const order = race % 2 === 0 ? [0, 1] : [1, 0];
        const sent = await Promise.all(order.map((i) => putChunk(t, session.id, 0, bodies[i]!)));
        const answers = order[0] === 0 ? sent : [sent[1]!, sent[0]!];
        const won = answers.findIndex((a) => a.statusCode === 200);
        assert.ok(won >= 0, `race ${race}: no request won (${answers.map((a) => a.body).join(' | ')})`);
        winners.add(won);
        const loser = answers[1 - won]!;
        assert.equal(loser.statusCode, 409, `race ${race}: ${loser.body}`);
        assert.equal(loser.json().error.code, 'UPLOAD_CHUNK_CONFLICT');
        assert.equal(answers[won]!.json().duplicate, false);

        // The client can neither overwrite nor be confused: winner's bytes are a duplicate, loser's a conflict.
        const again = await putChunk(t, session.id, 0, bodies[won]!);
        assert.equal(again.json().duplicate, true);
        assert.equal((await putChunk(t, session.id, 0, bodies[1 - won]!)).statusCode, 409);

        const recorded = await t.app.database.db
          .selectFrom('upload_chunks')
          .select(['digest', 'state'])
          .where('upload_id', '=', session.id)
          .execute();
        assert.deepEqual(recorded, [{ digest: sha(bodies[won]!).toString('base64'), state: 'received' }]);

        const complete = await t.request({ method: 'POST', url: `/api/v1/uploads/${session.id}/complete` });
        assert.equal(complete.statusCode, 202, complete.body);
        const video = await t.app.catalog.videos.find(complete.json().videoId);
        const stored = createHash('sha256');
        await pipeline(await t.app.store.read(video!.source_key), stored);
        assert.deepEqual(
          stored.digest(),
          sha(bodies[won]!),
          `race ${race}: stored bytes are not the winner's`,
        );
      }
      // Not an assertion on timing: just a note of whether both sides ever won.
      process.stdout.write(`# ${storage}: winners seen ${[...winners].join(',')}\n`);
    });
  });
}

function sha(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}
