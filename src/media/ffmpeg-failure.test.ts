import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyFfmpegFailure,
  type EndedRun,
  FfmpegError,
  ffmpegFailure,
  stderrTail,
} from './ffmpeg-failure.ts';

describe('classifyFfmpegFailure', () => {
  // [title, stderr tail of a non-zero exit (ffmpeg 5.1 wording), expected]
  const stderrTable: Array<[string, string, 'permanent' | 'transient']> = [
    [
      'random bytes',
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x56505ff908c0] Format mov,mp4,m4a,3gp,3g2,mj2 detected only with low ' +
        'score of 1, misdetection possible!\n[mov,mp4,m4a,3gp,3g2,mj2 @ 0x56505ff908c0] moov atom not found\n' +
        '/in/junk.mp4: Invalid data found when processing input',
      'permanent',
    ],
    ['truncated mp4', '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5620f67058c0] moov atom not found', 'permanent'],
    ['missing input file', '/in/missing.mp4: No such file or directory', 'permanent'],
    [
      'no codec parameters',
      '[mpegts @ 0x55] Could not find codec parameters for stream 0 (Video: h264, none): unspecified size\n' +
        "Consider increasing the value for the 'analyzeduration' (0) and 'probesize' (5000000) options",
      'permanent',
    ],
    [
      'no decoder',
      'Decoder (codec av1) not found for input stream #0:0\nError while opening decoder',
      'permanent',
    ],
    ['unsupported codec', '[matroska @ 0x55] Unsupported codec with id 0 for input stream 1', 'permanent'],
    ['nothing to encode', 'Output file #0 does not contain any stream', 'permanent'],
    [
      'map without a match',
      "Stream map '0:a' matches no streams.\nTo ignore this, add a trailing '?'",
      'permanent',
    ],
    [
      'encoder rejects the parameters',
      '[libx264 @ 0x558c9bb34fc0] width not divisible by 2 (321x181)\nError initializing output stream 0:0 -- ' +
        'Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate',
      'permanent',
    ],
    ['invalid argument', '[libx264 @ 0x55] Error setting profile high.\nInvalid argument', 'permanent'],
    ['bad filter', "[AVFilterGraph @ 0x55] No such filter: 'zscale'", 'permanent'],
    [
      'connection refused',
      '[tcp @ 0x5606fb189fc0] Connection to tcp://127.0.0.1:9 failed: Connection refused\n' +
        'http://127.0.0.1:9/x.mp4: Connection refused',
      'transient',
    ],
    [
      'server error',
      '[http @ 0x55d442f5f0c0] HTTP error 503 Service Unavailable\n' +
        'http://127.0.0.1:18765/x.mp4: Server returned 5XX Server Error reply',
      'transient',
    ],
    [
      'network failure mid-read beats the invalid data it causes',
      '[tls @ 0x55] Error in the pull function.\n[tls @ 0x55] Connection reset by peer\n' +
        'https://s3.example/v.mp4: Invalid data found when processing input',
      'transient',
    ],
    ['I/O error', "[hls @ 0x55] Opening '/out/720p/seg_00003.m4s' failed: I/O error", 'transient'],
    ['Input/output error', 'https://s3.example/v.mp4: Input/output error', 'transient'],
    ['disk full', '[mp4 @ 0x55] Error writing trailer: No space left on device', 'transient'],
    ['interrupted by SIGTERM (exit 255)', 'Exiting normally, received signal 15.', 'transient'],
    ['unknown non-zero exit', 'Conversion failed!', 'transient'],
    ['empty stderr', '', 'transient'],
  ];
  for (const [title, stderrTail, expected] of stderrTable) {
    it(`${title} → ${expected}`, () => {
      const error = new FfmpegError('x', { reason: 'exit', exitCode: 1, stderrTail });
      assert.equal(classifyFfmpegFailure(error), expected);
    });
  }
  const otherTable: Array<[string, FfmpegError]> = [
    [
      'killed by a signal (OOM killer)',
      new FfmpegError('x', { reason: 'exit', signal: 'SIGKILL', stderrTail: 'moov atom not found' }),
    ],
    ['aborted', new FfmpegError('x', { reason: 'aborted', signal: 'SIGKILL' })],
    ['timeout', new FfmpegError('x', { reason: 'timeout', signal: 'SIGKILL' })],
    ['spawn EAGAIN', new FfmpegError('x', { reason: 'spawn', spawnCode: 'EAGAIN' })],
  ];
  for (const [title, error] of otherTable) {
    it(`${title} → transient`, () => assert.equal(classifyFfmpegFailure(error), 'transient'));
  }
});

describe('stderrTail', () => {
  const numbered = (count: number, width = 0) =>
    Array.from({ length: count }, (_, i) => `line ${i}`.padEnd(width, '.')).join('\n');
  const table: Array<[title: string, stderr: string, expected: string]> = [
    ['empty', '', ''],
    ['trailing white space is dropped', 'Conversion failed!\n\n  \n', 'Conversion failed!'],
    ['CR, LF and CRLF all end lines', 'a\rb\r\nc\nd', 'a\nb\nc\nd'],
    ['60 lines are kept whole', numbered(60), numbered(60)],
    ['only the last 60 lines', numbered(61), numbered(61).slice('line 0\n'.length)],
  ];
  for (const [title, stderr, expected] of table) {
    it(title, () => assert.equal(stderrTail(stderr), expected));
  }

  it('at most 8 KiB: the end of the last lines', () => {
    const long = numbered(60, 200); // 60 × 201 characters
    const tail = stderrTail(long);
    assert.equal(tail.length, 8 * 1024);
    assert.equal(tail, long.slice(-8 * 1024));
  });
});

describe('ffmpegFailure', () => {
  const ended = (fields: Partial<EndedRun>): EndedRun => ({
    reason: 'exit',
    exitCode: 1,
    signal: null,
    stderrTail: '',
    ...fields,
  });
  const table: Array<[title: string, run: EndedRun, message: string]> = [
    [
      'an exit ends with the last line of stderr',
      ended({ stderrTail: '[in] moov atom not found\n/in/x.mp4: Invalid data found when processing input' }),
      'ffmpeg exited with code 1: /in/x.mp4: Invalid data found when processing input',
    ],
    ['an exit without stderr', ended({ exitCode: 234 }), 'ffmpeg exited with code 234'],
    [
      'killed by a signal from outside',
      ended({ exitCode: null, signal: 'SIGKILL', stderrTail: 'frame=10' }),
      'ffmpeg was killed by SIGKILL: frame=10',
    ],
    [
      'a timeout does not quote stderr',
      ended({ reason: 'timeout', exitCode: null, signal: 'SIGKILL', stderrTail: 'x', timeoutMs: 300 }),
      'ffmpeg was killed after 300 ms',
    ],
    [
      'an abort does not quote stderr',
      ended({ reason: 'aborted', exitCode: null, signal: 'SIGKILL', stderrTail: 'x' }),
      'ffmpeg was aborted',
    ],
  ];
  for (const [title, run, message] of table) {
    it(title, () => {
      const error = ffmpegFailure('ffmpeg', run);
      assert.ok(error instanceof FfmpegError);
      assert.equal(error.message, message);
      assert.deepEqual(
        [error.reason, error.exitCode, error.signal, error.stderrTail, error.spawnCode],
        [run.reason, run.exitCode, run.signal, run.stderrTail, null],
      );
    });
  }

  it('keeps the cause it is given', () => {
    const cause = new Error('shutting down');
    const error = ffmpegFailure('ffprobe', ended({ reason: 'aborted', signal: 'SIGKILL', cause }));
    assert.equal(error.cause, cause);
    assert.equal(error.name, 'FfmpegError');
  });
});
