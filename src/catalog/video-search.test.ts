import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type DatabaseFixture, forEachDatabase, trackFailures } from '../../test/support/databases.ts';
import { videoFixture } from '../../test/support/videos.ts';
import type { Viewer } from '../auth/policy.ts';
import { planVideoList } from './video-list.ts';
import { VideoRepository } from './video-repository.ts';
import { searchVideos, suggest } from './video-search.ts';

/** The catalog every relevance case runs against: id → title, tags, description, visibility. */
const VIDEOS: Array<[string, string, string[], string, 'public' | 'unlisted' | 'private']> = [
  ['kubetitle001', 'Kubernetes basics', ['devops'], 'Pods and services.', 'public'],
  ['kubedescr001', 'Cluster night', ['ops'], 'We talk about kubernetes for an hour.', 'public'],
  ['opensource01', 'Open source video tools', ['foss'], 'Editing without licences.', 'public'],
  ['sourceopen01', 'Source code, open minds', ['talk'], 'A conversation.', 'public'],
  ['guitaracou01', 'Acoustic guitar lesson', ['music'], 'Fingerpicking.', 'public'],
  ['guitarelec01', 'Electric guitar lesson', ['music'], 'Distortion.', 'public'],
  ['cafeculture1', 'Café Culture', ['paris'], 'Espresso everywhere.', 'public'],
  ['videoedit001', 'Video editing', ['tutorial'], 'Cuts and fades.', 'public'],
  ['catscompil01', 'Cats compilation', ['funny'], 'Ninety cats.', 'public'],
  ['hiddenkube01', 'Kubernetes secrets', ['devops'], 'Unlisted.', 'unlisted'],
  ['privatekube1', 'Kubernetes private notes', ['devops'], 'Private.', 'private'],
];

forEachDatabase(
  'the search relevance table',
  (name, open) => {
    describe(`search relevance: ${name}`, () => {
      let fixture: DatabaseFixture;
      const { test, state } = trackFailures(it);
      const search = async (q: string, viewer: Viewer = undefined) => {
        const page = await searchVideos(fixture.first.db, planVideoList({ q, limit: 100 }, viewer));
        return { ids: page.rows.map((row) => row.id), corrections: page.corrections, rows: page.rows };
      };
      before(async () => {
        fixture = await open();
        const videos = new VideoRepository(fixture.first.db);
        for (const [id, title, tags, description, visibility] of VIDEOS) {
          await videos.insert(fixture.first.db, videoFixture(id, { title, tags, description, visibility }));
        }
        await sql`update videos set status = 'ready'`.execute(fixture.first.db);
      });
      after(() => fixture?.cleanup(!state.failed));

      test('a title match ranks above a description match', async () => {
        assert.deepEqual((await search('kubernetes')).ids, ['kubetitle001', 'kubedescr001']);
      });
      test('a phrase needs its words together, in order', async () => {
        assert.deepEqual((await search('"open source"')).ids, ['opensource01']);
        assert.deepEqual((await search('open source ')).ids.sort(), ['opensource01', 'sourceopen01']);
      });
      test('an excluded word removes its videos', async () => {
        assert.deepEqual((await search('guitar -electric')).ids, ['guitaracou01']);
      });
      test('or matches either', async () => {
        assert.deepEqual((await search('acoustic or electric ')).ids.sort(), [
          'guitaracou01',
          'guitarelec01',
        ]);
      });
      test('the last word is a prefix', async () => {
        assert.deepEqual((await search('kub')).ids, ['kubetitle001', 'kubedescr001']);
        assert.deepEqual((await search('kub ')).ids, [], 'a finished word is not a prefix');
      });
      test('accents and case are folded, in the query and the text', async () => {
        assert.deepEqual((await search('cafe')).ids, ['cafeculture1']);
        assert.deepEqual((await search('CAFÉ culture')).ids, ['cafeculture1']);
      });
      test('one typo in a 5–8 letter word is corrected and reported', async () => {
        const found = await search('vidoe editing');
        assert.deepEqual(found.ids, ['videoedit001', 'opensource01'], 'the title with both words first');
        assert.deepEqual(found.corrections, [{ from: 'vidoe', to: 'video' }]);
      });
      test('two typos in a word of 9+ letters are corrected', async () => {
        const found = await search('kuberentes ');
        assert.deepEqual(found.ids, ['kubetitle001', 'kubedescr001']);
        assert.deepEqual(found.corrections, [{ from: 'kuberentes', to: 'kubernetes' }]);
      });
      test('a typo in a 4-letter word does not match anything', async () => {
        const found = await search('cast ');
        assert.deepEqual(found, { ids: [], corrections: [], rows: [] });
      });
      test('an exact word is never corrected', async () => {
        assert.deepEqual((await search('lesson ')).corrections, []);
      });
      test('unlisted and private videos are never found without a key; an admin key does not list them either', async () => {
        const ids = (await search('kubernetes secrets private notes or kubernetes')).ids;
        assert.ok(!ids.includes('hiddenkube01') && !ids.includes('privatekube1'), ids.join());
        const admin: Viewer = { kind: 'api-key', keyId: 'admin', role: 'admin' };
        const asAdmin = (await search('kubernetes', admin)).ids;
        assert.ok(!asAdmin.includes('hiddenkube01') && !asAdmin.includes('privatekube1'));
      });
      test('highlights are offsets of the matched words in the original title', async () => {
        const [hit] = (await search('CAFE')).rows;
        assert.deepEqual(hit?.highlights.title, [{ start: 0, end: 4 }]);
        assert.equal(hit?.title.slice(0, 4), 'Café');
      });
      test('hostile queries give results or nothing, never an error', async () => {
        for (const q of [
          '"',
          '-',
          "&|!:*()'\\",
          "'; drop table videos; --",
          '"unbalanced',
          'a:*',
          '((',
          '!!!kub',
          '\u0000',
        ]) {
          await search(q);
        }
        assert.equal((await search('-')).ids.length, 0);
      });
      test('suggest completes titles then tags, folded', async () => {
        const items = await suggest(fixture.first.db, 'KUB');
        assert.deepEqual(items, [{ kind: 'title', text: 'Kubernetes basics', videoId: 'kubetitle001' }]);
        const music = await suggest(fixture.first.db, 'mus');
        assert.deepEqual(music, [{ kind: 'tag', text: 'music' }]);
      });
    });
  },
  { migrated: true },
);
