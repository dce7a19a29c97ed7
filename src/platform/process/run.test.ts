import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type RunOptions, type RunResult, redactStrings, run, SpawnError } from './run.ts';

/** Runs a tiny Node script as the child process. */
const node = (script: string, options?: RunOptions) => run(process.execPath, ['-e', script], options);

/** The fields a table row compares (durationMs varies; stdout as text). */
const outcome = ({ code, signal, killedFor, stdout, truncated, stderr }: RunResult) => ({
  code,
  signal,
  killedFor,
  stdout: stdout.toString('utf8'),
  truncated,
  stderr,
});

const exited = (fields: Partial<ReturnType<typeof outcome>>): ReturnType<typeof outcome> => ({
  code: 0,
  signal: null,
  killedFor: null,
  stdout: '',
  truncated: false,
  stderr: '',
  ...fields,
});

const FOREVER = 'setInterval(() => {}, 1000)';
const secret = '?X-Amz-Signature=deadbeef';
const redact = redactStrings([secret], '?<redacted>');

describe('run', () => {
  const table: Array<
    [title: string, script: string, options: RunOptions, expected: ReturnType<typeof outcome>]
  > = [
    ['exit 0, nothing written', '', {}, exited({})],
    ['a non-zero exit code', 'process.exit(3)', {}, exited({ code: 3 })],
    [
      'stdout and stderr are captured',
      'process.stdout.write("out"); process.stderr.write("err\\n")',
      {},
      exited({ stdout: 'out', stderr: 'err\n' }),
    ],
    [
      'stdout beyond maxOutput is dropped; the process runs on',
      'process.stdout.write("0123456789"); process.exitCode = 4',
      { maxOutput: 4 },
      exited({ code: 4, stdout: '0123', truncated: true }),
    ],
    [
      'exactly maxOutput is not truncated',
      'process.stdout.write("0123")',
      { maxOutput: 4 },
      exited({ stdout: '0123' }),
    ],
    [
      'overflow kill: SIGKILL once stdout passes maxOutput',
      `setInterval(() => process.stdout.write("x".repeat(100)), 5)`,
      { maxOutput: 1000, overflow: 'kill' },
      exited({
        code: null,
        signal: 'SIGKILL',
        killedFor: 'overflow',
        stdout: 'x'.repeat(1000),
        truncated: true,
      }),
    ],
    [
      'only the tail of stderr is kept',
      'process.stderr.write("abcdefghij\\nklmnop")',
      { maxStderr: 8 },
      exited({ stderr: 'j\nklmnop' }),
    ],
    [
      'a killed process: its signal, not killed by run',
      'process.kill(process.pid, "SIGKILL")',
      {},
      exited({ code: null, signal: 'SIGKILL' }),
    ],
    [
      'redacts stderr, in lines split across writes',
      `process.stderr.write("GET https://s3/v.mp4?X-Amz-Sig"); setTimeout(() => process.stderr.write("nature=deadbeef failed\\n"), 50)`,
      { redact },
      exited({ stderr: 'GET https://s3/v.mp4?<redacted> failed\n' }),
    ],
    [
      'redacts an unfinished last line too',
      `process.stderr.write("https://s3/v.mp4${secret}")`,
      { redact },
      exited({ stderr: 'https://s3/v.mp4?<redacted>' }),
    ],
    [
      'a multi-byte character split across writes',
      'process.stderr.write(Buffer.from([0xc3])); setTimeout(() => process.stderr.write(Buffer.from([0xa9])), 50)',
      {},
      exited({ stderr: 'é' }),
    ],
  ];
  for (const [title, script, options, expected] of table) {
    it(title, async () => assert.deepEqual(outcome(await node(script, options)), expected));
  }

  it('redacts before cutting the tail: no half secret survives', async () => {
    const line = `GET https://s3/v.mp4${secret}\n`;
    const result = await node(`process.stderr.write(${JSON.stringify(line.repeat(200))})`, {
      redact,
      maxStderr: 50,
    });
    assert.equal(result.stderr, redact(line.repeat(200)).slice(-50));
    assert.doesNotMatch(result.stderr, /deadbeef|Signature/);
  });

  it('onStdout gets every chunk as it comes', async () => {
    const chunks: string[] = [];
    const script = 'process.stdout.write("a"); setTimeout(() => process.stdout.write("b"), 100)';
    const result = await node(script, { onStdout: (chunk) => chunks.push(chunk.toString()) });
    assert.deepEqual(chunks, ['a', 'b']);
    assert.equal(result.stdout.toString(), 'ab');
  });

  it('onStdout is called before the process ends: abort on the first chunk', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const result = await node(`process.stdout.write("ready"); ${FOREVER}`, {
      signal: controller.signal,
      onStdout: () => controller.abort(),
    });
    assert.deepEqual(
      outcome(result),
      exited({ code: null, signal: 'SIGKILL', killedFor: 'aborted', stdout: 'ready' }),
    );
    assert.ok(performance.now() - started < 5000);
  });

  it('a throwing onStdout kills the process and rejects with its error', async () => {
    const failure = new Error('bad progress');
    const started = performance.now();
    await assert.rejects(
      node(`process.stdout.write("x"); ${FOREVER}`, {
        onStdout: () => {
          throw failure;
        },
      }),
      (error) => error === failure,
    );
    assert.ok(performance.now() - started < 5000);
  });

  it('a timeout kills the process', async () => {
    const result = await node(FOREVER, { timeoutMs: 200 });
    assert.deepEqual(outcome(result), exited({ code: null, signal: 'SIGKILL', killedFor: 'timeout' }));
    assert.ok(result.durationMs >= 190 && result.durationMs < 5000, `${result.durationMs} ms`);
  });

  it('a process that ends before its timeout is not killed, and durationMs measures it', async () => {
    const result = await node('setTimeout(() => {}, 150)', { timeoutMs: 10_000 });
    assert.deepEqual(outcome(result), exited({}));
    assert.ok(result.durationMs >= 140 && result.durationMs < 5000, `${result.durationMs} ms`);
  });

  it('aborting mid-run kills the process', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 200);
    const result = await node(FOREVER, { signal: controller.signal });
    assert.deepEqual(outcome(result), exited({ code: null, signal: 'SIGKILL', killedFor: 'aborted' }));
  });

  it('an already aborted signal starts nothing and rejects with SpawnError ABORT_ERR', async () => {
    const reason = new Error('shutting down');
    const error = await node('', { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    assert.ok(error instanceof SpawnError);
    assert.equal(error.code, 'ABORT_ERR');
    assert.equal(error.cause, reason);
  });

  it('a command that does not exist rejects with SpawnError ENOENT, its arguments redacted', async () => {
    const missing = path.join(tmpdir(), `no-such-binary-${process.pid}`);
    const error = await run(missing, ['-i', `https://s3/v.mp4${secret}`], { redact }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof SpawnError);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.message, `spawn ${missing} ENOENT`);
    const cause = error.cause as NodeJS.ErrnoException & { spawnargs: string[] };
    assert.equal(cause.code, 'ENOENT');
    assert.doesNotMatch(JSON.stringify(cause.spawnargs), /deadbeef/);
  });

  it('runs in cwd', async () => {
    const dir = realpathSync(tmpdir());
    const result = await node('process.stdout.write(process.cwd())', { cwd: dir });
    assert.equal(result.stdout.toString(), dir);
  });
});

describe('redactStrings', () => {
  const table: Array<[title: string, secrets: string[], text: string, expected: string]> = [
    ['every occurrence', ['?sig=1'], 'a?sig=1 b?sig=1', 'a<x> b<x>'],
    ['several secrets, in order', ['/in/a.mp4', 'b.mp4'], '/in/a.mp4 and b.mp4', '<x> and <x>'],
    ['empty secrets are ignored', ['', 'k'], 'ok', 'o<x>'],
    ['nothing to redact', [], 'plain', 'plain'],
  ];
  for (const [title, secrets, text, expected] of table) {
    it(title, () => assert.equal(redactStrings(secrets, '<x>')(text), expected));
  }
});
