import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgressParser, type FfmpegProgress, parseProgress } from './ffmpeg-progress.ts';

// Verbatim from ffmpeg 5.1 (`-progress pipe:1` of a 2 s, 25 fps encode).
const BLOCK_START =
  'frame=1\nfps=0.00\nstream_0_0_q=0.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=0\nout_time_ms=0\n' +
  'out_time=00:00:00.000000\ndup_frames=0\ndrop_frames=0\nspeed=   0x\nprogress=continue';
const BLOCK_END =
  'frame=50\nfps=0.00\nstream_0_0_q=-1.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=2000000\n' +
  'out_time_ms=2000000\nout_time=00:00:02.000000\ndup_frames=0\ndrop_frames=0\nspeed= 106x\nprogress=end';

const p = (outTimeSeconds: number | null, speed: number | null, frame: number | null, done = false) =>
  ({ outTimeSeconds, speed, frame, done }) satisfies FfmpegProgress;

describe('parseProgress', () => {
  const table: Array<[title: string, text: string, expected: FfmpegProgress[]]> = [
    [
      'a real two-block run (ffmpeg 5.1)',
      `${BLOCK_START}\n${BLOCK_END}\n`,
      [p(0, 0, 1), p(2, 106, 50, true)],
    ],
    [
      'out_time_us wins, in microseconds',
      'frame=1234\nout_time_us=41041000\nout_time_ms=41041000\nspeed=1.23x\nprogress=continue\n',
      [p(41.041, 1.23, 1234)],
    ],
    [
      'out_time_ms alone is microseconds too',
      'frame=7\nout_time_ms=1500000\nspeed=0.5x\nprogress=continue\n',
      [p(1.5, 0.5, 7)],
    ],
    [
      'N/A everywhere',
      'frame=0\nout_time_us=N/A\nout_time_ms=N/A\nout_time=N/A\nspeed=N/A\nprogress=continue\n',
      [p(null, null, 0)],
    ],
    [
      'a negative start time (audio priming) is clamped to 0',
      'out_time_us=-23220\nout_time_ms=-23220\nout_time=-00:00:00.023220\nprogress=continue\n',
      [p(0, null, null)],
    ],
    ['CRLF line ends', 'frame=3\r\nout_time_us=120000\r\nprogress=end\r\n', [p(0.12, null, 3, true)]],
    [
      'a trailing incomplete block is not reported',
      'frame=3\nout_time_us=1000000\nprogress=continue\nframe=4\nout_time_us=2000000\n',
      [p(1, null, 3)],
    ],
    ['nothing', '', []],
  ];
  for (const [title, text, expected] of table) {
    it(title, () => assert.deepEqual(parseProgress(text), expected));
  }

  it('blocks split across chunks at every possible position give the same result', () => {
    const text = `${BLOCK_START}\n${BLOCK_END}\n`;
    const whole = parseProgress(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = createProgressParser();
      const parts = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      assert.deepEqual(parts, whole, `cut at ${cut}`);
    }
  });

  it('one character at a time', () => {
    const parser = createProgressParser();
    const blocks: FfmpegProgress[] = [];
    for (const char of `${BLOCK_START}\n${BLOCK_END}\n`) blocks.push(...parser.push(char));
    assert.deepEqual(blocks, [p(0, 0, 1), p(2, 106, 50, true)]);
  });
});
