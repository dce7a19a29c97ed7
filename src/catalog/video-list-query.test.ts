import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type DatabaseFixture, forEachDatabase, trackFailures } from '../../test/support/databases.ts';
import { videoFixture } from '../../test/support/videos.ts';
import { LIST_SORTS, type ListSort, planVideoList } from './video-list.ts';
import { listVideos, popularTags } from './video-list-query.ts';
import { VideoRepository } from './video-repository.ts';

/** Titles whose order differs between collations: the folded C order must be the same everywhere. */
const TITLES = [
  'Éclair',
  'delta',
  'Fox',
  'apple',
  'Zebra',
  'eclair B',
  'Ångström',
  '_under',
  'Banana',
  'café',
];

/** Every id of the catalog in one sort, walking pages of `limit`. */
async function walk(db: DatabaseFixture['first']['db'], sort: ListSort, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await listVideos(db, planVideoList({ sort, limit, cursor }, undefined));
    ids.push(...result.rows.map((row) => row.id));
    if (!result.nextCursor) return ids;
    cursor = result.nextCursor;
  }
  throw new Error('too many pages');
}

forEachDatabase(
  'the catalog list queries',
  (name, open) => {
    describe(`catalog list SQL: ${name}`, () => {
      let fixture: DatabaseFixture;
      const { test, state } = trackFailures(it);
      before(async () => {
        fixture = await open();
        const videos = new VideoRepository(fixture.first.db);
        for (const [i, title] of TITLES.entries()) {
          await videos.insert(
            fixture.first.db,
            videoFixture(`listsql${String(i).padStart(5, '0')}`, {
              title,
              duration_seconds: [5, 3, 9, 3, 1, 7, 2, 8, 6, 4][i]!,
              tags: i % 2 ? ['Even'.toLowerCase()] : ['odd', 'rock'],
              visibility: i === 9 ? 'private' : 'public',
            }),
          );
        }
        // Ready, with distinct upload times (one second apart, in insertion order); one stays processing.
        await sql`update videos set status = 'ready',
          created_at = timestamptz '2026-01-01 00:00:00+00' + (substr(id, 8)::int * interval '1 second')
          where id <> 'listsql00005'`.execute(fixture.first.db);
      });
      after(() => fixture?.cleanup(!state.failed));

      test('titles sort by their folded form, byte order, on both databases', async () => {
        const rows = (
          await listVideos(fixture.first.db, planVideoList({ sort: 'title', limit: 100 }, undefined))
        ).rows;
        assert.deepEqual(
          rows.map((row) => row.title),
          ['_under', 'Ångström', 'apple', 'Banana', 'delta', 'Éclair', 'Fox', 'Zebra'],
        );
      });

      test('only public ready videos; newest first with the exact order', async () => {
        const ids = await walk(fixture.first.db, 'newest', 100);
        assert.deepEqual(ids, [
          'listsql00008',
          'listsql00007',
          'listsql00006',
          'listsql00004',
          'listsql00003',
          'listsql00002',
          'listsql00001',
          'listsql00000',
        ]);
      });

      test('every sort pages through the same set in pages of 3 as in one page, on both handles', async () => {
        for (const sort of LIST_SORTS) {
          const whole = await walk(fixture.first.db, sort, 100);
          assert.equal(whole.length, 8, sort);
          assert.deepEqual(await walk(fixture.second.db, sort, 3), whole, sort);
        }
      });

      test('duration ties (two of 3 s) break by id', async () => {
        const rows = (
          await listVideos(fixture.first.db, planVideoList({ sort: 'duration', limit: 3 }, undefined))
        ).rows;
        assert.deepEqual(
          rows.map((row) => [row.duration_seconds, row.id]),
          [
            [1, 'listsql00004'],
            [2, 'listsql00006'],
            [3, 'listsql00001'],
          ],
        );
      });

      test('tag filters: any and all', async () => {
        const any = await listVideos(
          fixture.first.db,
          planVideoList({ tags: ['Rock', 'even'], limit: 100 }, undefined),
        );
        assert.equal(any.rows.length, 8);
        const all = await listVideos(
          fixture.first.db,
          planVideoList({ tags: ['odd', 'rock'], tagMode: 'all', limit: 100 }, undefined),
        );
        assert.deepEqual(all.rows.map((row) => row.id).sort(), [
          'listsql00000',
          'listsql00002',
          'listsql00004',
          'listsql00006',
          'listsql00008',
        ]);
      });

      test('popular tags of the public catalog, most used first, prefix literal', async () => {
        assert.deepEqual(await popularTags(fixture.first.db, '', 10), [
          { tag: 'odd', count: 5 },
          { tag: 'rock', count: 5 },
          { tag: 'even', count: 3 },
        ]);
        assert.deepEqual(await popularTags(fixture.first.db, 'r', 10), [{ tag: 'rock', count: 5 }]);
        assert.deepEqual(await popularTags(fixture.first.db, '%', 10), []);
      });

      test('tag counts follow every change: visibility, tags, status, deletion of the row', async () => {
        const db = fixture.first.db;
        const count = async (tag: string) =>
          (await popularTags(db, tag, 10)).find((row) => row.tag === tag)?.count ?? 0;
        assert.equal(await count('rock'), 5);
        await sql`update videos set visibility = 'unlisted' where id = 'listsql00000'`.execute(db);
        assert.equal(await count('rock'), 4);
        await sql`update videos set tags = array['rock', 'jazz'] where id = 'listsql00001'`.execute(db);
        assert.deepEqual([await count('rock'), await count('jazz'), await count('even')], [5, 1, 2]);
        await sql`update videos set status = 'deleted' where id = 'listsql00001'`.execute(db);
        assert.deepEqual([await count('rock'), await count('jazz')], [4, 0]);
        await sql`delete from videos where id = 'listsql00002'`.execute(db);
        assert.equal(await count('rock'), 3);
        await sql`update videos set visibility = 'public' where id = 'listsql00000'`.execute(db);
        assert.equal(await count('rock'), 4);
      });
    });
  },
  { migrated: true },
);
