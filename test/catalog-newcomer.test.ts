import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listIds, patchVideo, walkList } from './support/catalog.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { makeClip } from './support/media.ts';
import { uploadVideo, waitForVideo } from './support/processing.ts';

/**
 * Issue 9's "done when", end to end through the API with real uploads and transcodes: three videos
 * uploaded, edited, found by a misspelled word, and paged through — with the catalog cache on, so the
 * lists a visitor loaded before the videos were ready must not hide them afterwards.
 */
describe('a newcomer uploads three videos, edits them, finds each with a typo', () => {
  let t: TestApp;
  const ids: string[] = [];
  before(async () => {
    t = await startTestApp();
    await t.app.startWorkers();
  });
  after(() => t.close());

  it('uploads three clips; a list cached while they were processing shows them once they are ready', async () => {
    assert.deepEqual(await listIds(t, '', null), []); // cached now: the ready announcements must retire it
    const uploads: Array<[string, Record<string, unknown>]> = [
      ['networking.mp4', { title: 'Kubernetes networking', tags: ['devops'] }],
      ['espresso.mp4', { title: 'Espresso at the café', tags: ['coffee'] }],
      ['lesson.mp4', { title: 'Guitar lessons', tags: ['music'] }],
    ];
    for (const [name, fields] of uploads) {
      const file = await makeClip(t.dir, { seconds: 2, width: 320, height: 180, name });
      ids.push(await uploadVideo(t, file, fields));
    }
    for (const id of ids) await waitForVideo(t, id, (video) => video.status === 'ready');
    assert.deepEqual(new Set(await listIds(t, '', null)), new Set(ids));
  });

  it('edits their titles and tags; the list and the search show the edits', async () => {
    const edits = [
      { title: 'Kubernetes networking, deep dive', tags: ['DevOps', 'Cluster '] },
      { title: 'Espresso at the Café de Flore', tags: ['coffee', 'paris'] },
      { title: 'Guitar lessons for beginners', tags: ['music', 'acoustic'] },
    ];
    for (const [index, edit] of edits.entries()) {
      const response = await patchVideo(t, ids[index]!, edit);
      assert.equal(response.statusCode, 200, response.body);
    }
    const titles = (await t.request({ method: 'GET', url: '/api/v1/videos?sort=title', auth: null }))
      .json()
      .items.map((item: { title: string; tags: string[] }) => [item.title, item.tags]);
    assert.deepEqual(titles, [
      ['Espresso at the Café de Flore', ['coffee', 'paris']],
      ['Guitar lessons for beginners', ['music', 'acoustic']],
      ['Kubernetes networking, deep dive', ['devops', 'cluster']],
    ]);
  });

  it('finds each by a misspelled word, with the correction reported', async () => {
    const cases: Array<[string, number, Array<{ from: string; to: string }>]> = [
      ['kubernets', 0, [{ from: 'kubernets', to: 'kubernetes' }]],
      ['expresso', 1, [{ from: 'expresso', to: 'espresso' }]],
      [
        'gitar lesons',
        2,
        [
          { from: 'gitar', to: 'guitar' },
          { from: 'lesons', to: 'lessons' },
        ],
      ],
      ['cafe flore', 1, []], // accents folded: no typo to correct
    ];
    for (const [q, index, corrections] of cases) {
      const response = await t.request({
        method: 'GET',
        url: `/api/v1/search?q=${encodeURIComponent(q)}`,
        auth: null,
      });
      assert.equal(response.statusCode, 200, response.body);
      const answer = response.json();
      assert.deepEqual(
        answer.items.map((item: { id: string }) => item.id),
        [ids[index]],
        q,
      );
      assert.deepEqual(answer.corrections, corrections, q);
    }
  });

  it('pages through all three, one a page', async () => {
    const { pages } = await walkList(t, 'limit=1', { auth: null });
    assert.deepEqual(
      pages.map((page) => page.length),
      [1, 1, 1],
    );
    assert.deepEqual(new Set(pages.flat()), new Set(ids));
  });
});
