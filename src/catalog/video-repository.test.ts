import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DatabaseFixture, forEachDatabase, trackFailures } from '../../test/support/databases.ts';
import { videoFixture } from '../../test/support/videos.ts';
import { VideoRepository } from './video-repository.ts';

forEachDatabase(
  'the video repository tests',
  (name, open) => {
    describe(`VideoRepository: ${name}`, () => {
      let fixture: DatabaseFixture;
      let videos: VideoRepository;
      const { test, state } = trackFailures(it);
      before(async () => {
        fixture = await open();
        videos = new VideoRepository(fixture.first.db);
      });
      after(() => fixture?.cleanup(!state.failed));

      test('a new video round-trips arrays, JSON, doubles and big numbers with their JS types', async () => {
        const video = await videos.insert(
          fixture.first.db,
          videoFixture('roundtrip001', {
            tags: ['x', 'y z'],
            duration_seconds: 2.5,
            fps: 29.97,
            bitrate: 5_000_000_000,
            container: 'mov,mp4',
            probe: { streams: [{ codec_name: 'h264' }] },
            source_size: 6 * 1024 ** 3,
          }),
        );
        const found = await new VideoRepository(fixture.second.db).find(video.id);
        assert.deepEqual(found?.tags, ['x', 'y z']);
        assert.deepEqual(found?.probe, { streams: [{ codec_name: 'h264' }] });
        assert.equal(found?.bitrate, 5_000_000_000);
        assert.equal(found?.fps, 29.97);
        assert.equal(found?.source_size, 6 * 1024 ** 3);
        assert.equal(found?.status, 'processing');
        assert.deepEqual(found?.renditions, []);
      });

      test('summaries leave out the probe and the log; unknown ids are absent', async () => {
        await videos.insert(fixture.first.db, videoFixture('summary00001'));
        const [summary, ...rest] = await videos.findSummaries(['summary00001', 'unknown00001']);
        assert.equal(rest.length, 0);
        assert.equal(summary?.id, 'summary00001');
        assert.ok(!('probe' in (summary ?? {})));
        assert.ok(!('processing_log' in (summary ?? {})));
      });

      test('a video is marked deleted once', async () => {
        await videos.insert(fixture.first.db, videoFixture('deleteonce01'));
        const [a, b] = await Promise.all([
          videos.markDeleted('deleteonce01'),
          new VideoRepository(fixture.second.db).markDeleted('deleteonce01'),
        ]);
        assert.equal([a, b].filter(Boolean).length, 1);
        assert.equal((await videos.findSummary('deleteonce01'))?.status, 'deleted');
      });
    });
  },
  { migrated: true },
);
