import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type DatabaseFixture, trackFailures } from '../../test/support/databases.ts';
import { UploadRepository } from './upload-repository.ts';

let sequence = 0;
function uploadRow(overrides: Partial<Parameters<UploadRepository['insert']>[1]> = {}) {
  sequence++;
  return {
    id: `up${String(sequence).padStart(10, '0')}`,
    state: 'active' as const,
    filename: 'a.mp4',
    size: 6 * 1024 ** 3, // beyond 32 bits on purpose
    content_type: 'video/mp4',
    chunk_size: 8 * 1024 * 1024,
    total_chunks: 768,
    sha256: null,
    storage_key: `sources/x${sequence}/original.mp4`,
    storage_upload_id: '',
    owner_key_id: null,
    expires_at: new Date(Date.now() + 3_600_000),
    ...overrides,
  };
}

/** UploadRepository's guarantees across processes, on PGlite and PostgreSQL (upload-repository.test.ts). */
export function uploadRepositoryContract(name: string, open: () => Promise<DatabaseFixture>): void {
  describe(`upload repository contract: ${name}`, () => {
    let fixture: DatabaseFixture;
    let first: UploadRepository;
    let second: UploadRepository;
    const { test, state } = trackFailures(it);

    before(async () => {
      fixture = await open();
      first = new UploadRepository(fixture.first.db);
      second = new UploadRepository(fixture.second.db);
    });
    after(async () => {
      await fixture?.cleanup(!state.failed);
    });

    test('an upload row keeps sizes beyond 32 bits as numbers, and its timestamps as Dates', async () => {
      const row = await first.insert(fixture.first.db, uploadRow());
      assert.equal(row.size, 6 * 1024 ** 3);
      assert.equal(typeof row.size, 'number');
      assert.ok(row.created_at instanceof Date);
      assert.deepEqual(await second.find(row.id), row);
    });

    test('concurrent chunk claims from two processes: one writer per index, no record lost', async () => {
      const row = await first.insert(fixture.first.db, uploadRow());
      const expires = new Date(Date.now() + 3_600_000);
      const claims = [];
      for (let idx = 0; idx < 60; idx++) {
        // Two requests race for every index, each promising its own bytes.
        for (const [writer, repository] of [
          [`a${idx}`, first],
          [`b${idx}`, second],
        ] as const) {
          const claim = { idx, size: 10, digest: `d-${writer}`, writer };
          claims.push(repository.claimChunk(row.id, claim, 60).then((won) => ({ claim, won, repository })));
        }
      }
      const results = await Promise.all(claims);
      for (let idx = 0; idx < 60; idx++) {
        assert.equal(results.filter((r) => r.claim.idx === idx && r.won).length, 1, `index ${idx}`);
      }
      const records = await Promise.all(
        results.map((r) =>
          r.repository.recordChunk(row.id, { idx: r.claim.idx, writer: r.claim.writer, etag: null }, expires),
        ),
      );
      assert.deepEqual(
        records,
        results.map((r) => r.won),
        'only the claim holder records',
      );
      assert.equal(await first.countChunks(row.id), 60);
      const chunks = await second.chunks(row.id);
      assert.deepEqual(
        chunks.map((chunk) => chunk.idx),
        Array.from({ length: 60 }, (_, i) => i),
      );
      for (const chunk of chunks) {
        const winner = results.find((r) => r.claim.idx === chunk.idx && r.won)!;
        assert.equal(chunk.digest, winner.claim.digest, "the digest is the recording writer's");
      }
    });

    test('a lapsed claim can be taken over, its old writer cannot record; a received chunk is final', async () => {
      const row = await first.insert(fixture.first.db, uploadRow());
      const expires = new Date(Date.now() + 3_600_000);
      assert.ok(await first.claimChunk(row.id, { idx: 0, size: 10, digest: 'd1', writer: 'w1' }, 60));
      // Its writer died: the lease runs out (set in the past; the clock's resolution must not matter).
      await sql`update upload_chunks set lease_until = now() - interval '1 second'
        where upload_id = ${row.id} and idx = 0`.execute(fixture.first.db);
      assert.ok(await second.claimChunk(row.id, { idx: 0, size: 10, digest: 'd2', writer: 'w2' }, 60));
      assert.equal(await first.renewChunkClaim(row.id, 0, 'w1', 60), false);
      assert.equal(await first.recordChunk(row.id, { idx: 0, writer: 'w1', etag: null }, expires), false);
      assert.ok(await second.recordChunk(row.id, { idx: 0, writer: 'w2', etag: 'e2' }, expires));
      assert.equal(
        await first.claimChunk(row.id, { idx: 0, size: 10, digest: 'd3', writer: 'w3' }, 0),
        false,
      );
      assert.deepEqual(await first.chunks(row.id), [{ idx: 0, size: 10, digest: 'd2', etag: 'e2' }]);
      assert.ok(await first.claimChunk(row.id, { idx: 1, size: 10, digest: 'd4', writer: 'w4' }, 60));
      await first.releaseChunkClaim(row.id, 1, 'w4');
      assert.equal(await first.findChunk(row.id, 1), undefined, 'a released claim leaves the chunk missing');
    });

    test('chunks are not claimed or recorded once the session left the active state', async () => {
      const row = await first.insert(fixture.first.db, uploadRow());
      assert.ok(await first.claimChunk(row.id, { idx: 0, size: 1, digest: 'd', writer: 'w0' }, 60));
      assert.ok(await first.transition(row.id, ['active'], 'aborted'));
      assert.equal(
        await second.claimChunk(row.id, { idx: 1, size: 1, digest: 'd', writer: 'w1' }, 60),
        false,
      );
      const recorded = await second.recordChunk(row.id, { idx: 0, writer: 'w0', etag: null }, new Date());
      assert.equal(recorded, false);
      assert.equal(await first.countChunks(row.id), 0);
    });

    test('a state transition is won by exactly one of many concurrent callers', async () => {
      const row = await first.insert(fixture.first.db, uploadRow());
      const attempts = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? first : second).transition(row.id, ['active'], 'completing'),
        ),
      );
      assert.equal(attempts.filter(Boolean).length, 1);
    });

    test('expired sessions are claimed once, even by concurrent sweepers', async () => {
      const past = new Date(Date.now() - 60_000);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++)
        ids.push((await first.insert(fixture.first.db, uploadRow({ expires_at: past }))).id);
      const fresh = await first.insert(fixture.first.db, uploadRow());
      const [a, b] = await Promise.all([
        first.claimExpired(new Date(), 100),
        second.claimExpired(new Date(), 100),
      ]);
      const claimed = [...a!, ...b!].map((row) => row.id).filter((id) => ids.includes(id));
      assert.equal(claimed.length, 6);
      assert.equal(new Set(claimed).size, 6);
      assert.equal((await first.find(fresh.id))?.state, 'active');
    });
  });
}
