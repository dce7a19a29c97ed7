import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatBytes,
  formatDuration,
  formatProgress,
  formatRate,
  type ProgressStream,
  ProgressWriter,
  RateMeter,
} from './progress.ts';

const MiB = 1024 * 1024;

describe('formatBytes', () => {
  for (const [bytes, expected] of [
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [8 * MiB, '8.0 MiB'],
    [1024 * MiB, '1.00 GiB'],
    [1.5 * 1024 * MiB, '1.50 GiB'],
  ] as const) {
    test(`${bytes} → ${expected}`, () => assert.equal(formatBytes(bytes), expected));
  }
});

describe('formatRate and formatDuration', () => {
  test('rates in MiB/s, unknown as dashes', () => {
    assert.equal(formatRate(42 * MiB), '42.0 MiB/s');
    assert.equal(formatRate(0.25 * MiB), '0.3 MiB/s');
    assert.equal(formatRate(undefined), '-- MiB/s');
    assert.equal(formatRate(Number.POSITIVE_INFINITY), '-- MiB/s');
  });
  test('durations round up, with hours only when needed', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(0.2), '0:01');
    assert.equal(formatDuration(75), '1:15');
    assert.equal(formatDuration(3599.5), '1:00:00');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(undefined), '--:--');
    assert.equal(formatDuration(Number.NaN), '--:--');
  });
});

describe('formatProgress', () => {
  test('half way at 42 MiB/s', () => {
    assert.equal(
      formatProgress({
        label: 'clip.mp4',
        bytesDone: 128 * MiB,
        bytesTotal: 256 * MiB,
        bytesPerSecond: 42 * MiB,
      }),
      'clip.mp4 [############............]  50%  128.0 MiB / 256.0 MiB  42.0 MiB/s  ETA 0:04',
    );
  });
  test('start: no rate yet, no ETA', () => {
    assert.equal(
      formatProgress({ label: 'a.mkv', bytesDone: 0, bytesTotal: 3 * 1024 * MiB, bytesPerSecond: undefined }),
      'a.mkv [........................]   0%  0 B / 3.00 GiB  -- MiB/s  ETA --:--',
    );
  });
  test('percent rounds down: 100 % only when every byte is done', () => {
    assert.equal(
      formatProgress({ label: 'x', bytesDone: 999, bytesTotal: 1000, bytesPerSecond: 100, barWidth: 10 }),
      'x [#########.]  99%  999 B / 1000 B  0.0 MiB/s  ETA 0:01',
    );
  });
  test('done, with a note in place of the ETA', () => {
    assert.equal(
      formatProgress({
        label: 'x.mp4',
        bytesDone: 10 * MiB,
        bytesTotal: 10 * MiB,
        bytesPerSecond: 5 * MiB,
        barWidth: 4,
        note: 'verifying…',
      }),
      'x.mp4 [####] 100%  10.0 MiB / 10.0 MiB  5.0 MiB/s  verifying…',
    );
    assert.equal(
      formatProgress({ label: 'x', bytesDone: 5, bytesTotal: 5, bytesPerSecond: undefined, barWidth: 2 }),
      'x [##] 100%  5 B / 5 B  -- MiB/s  ETA 0:00',
    );
  });
});

describe('RateMeter', () => {
  test('unknown until 250 ms were observed, then the slope over the window', () => {
    const meter = new RateMeter(5000);
    meter.add(0, 0);
    assert.equal(meter.rate(), undefined);
    meter.add(200, 2 * MiB);
    assert.equal(meter.rate(), undefined);
    meter.add(1000, 10 * MiB);
    assert.equal(meter.rate(), 10 * MiB);
  });
  test('old samples leave the window: the rate follows a slowdown', () => {
    const meter = new RateMeter(2000);
    meter.add(0, 0);
    meter.add(1000, 100 * MiB); // fast start
    meter.add(2000, 101 * MiB);
    meter.add(3000, 102 * MiB);
    meter.add(4000, 103 * MiB);
    // window [2000, 4000]: 2 MiB in 2 s
    assert.equal(meter.rate(), MiB);
  });
});

function recorder(isTTY: boolean): ProgressStream & { writes: string[] } {
  const writes: string[] = [];
  return { isTTY, columns: 200, writes, write: (text: string) => writes.push(text) };
}

describe('ProgressWriter', () => {
  test('terminal: one line redrawn at most every 100 ms, newline at the end', () => {
    let now = 0;
    const stream = recorder(true);
    const writer = new ProgressWriter(stream, 'f', () => now);
    writer.update({ bytesSent: 0, bytesTotal: 4 * MiB });
    now = 50;
    writer.update({ bytesSent: MiB, bytesTotal: 4 * MiB }); // too soon
    now = 1000;
    writer.update({ bytesSent: 4 * MiB, bytesTotal: 4 * MiB });
    writer.finish();
    assert.deepEqual(stream.writes, [
      '\rf [........................]   0%  0 B / 4.0 MiB  -- MiB/s  ETA --:--\x1b[K',
      '\rf [########################] 100%  4.0 MiB / 4.0 MiB  4.0 MiB/s  ETA 0:00\x1b[K',
      '\n',
    ]);
  });
  test('not a terminal: plain lines at most every 2 s, and the completing phase at once', () => {
    let now = 0;
    const stream = recorder(false);
    const writer = new ProgressWriter(stream, 'f', () => now);
    writer.update({ bytesSent: 0, bytesTotal: 4 * MiB });
    now = 1500;
    writer.update({ bytesSent: 2 * MiB, bytesTotal: 4 * MiB });
    now = 2000;
    writer.update({ bytesSent: 4 * MiB, bytesTotal: 4 * MiB });
    writer.update({ bytesSent: 4 * MiB, bytesTotal: 4 * MiB, phase: 'completing' });
    writer.update({ bytesSent: 4 * MiB, bytesTotal: 4 * MiB, phase: 'completing' });
    writer.finish();
    assert.deepEqual(stream.writes, [
      'f [........................]   0%  0 B / 4.0 MiB  -- MiB/s  ETA --:--\n',
      'f [########################] 100%  4.0 MiB / 4.0 MiB  2.0 MiB/s  ETA 0:00\n',
      'f [########################] 100%  4.0 MiB / 4.0 MiB  2.0 MiB/s  verifying…\n',
    ]);
  });
  test('terminal lines are cut to the width of the terminal', () => {
    const stream = { ...recorder(true), columns: 20 };
    new ProgressWriter(stream, 'a-long-file-name.mp4', () => 0).update({ bytesSent: 0, bytesTotal: 1 });
    assert.equal(stream.writes[0], '\ra-long-file-name.mp\x1b[K');
  });
});
