import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'src/cli.ts');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A `reel` child process with its output collected. */
interface ReelProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Both streams, as they came. */
  output(): string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number>;
  /** Sends `name` unless the process is already gone, then waits for the exit. */
  signal(name: NodeJS.Signals): Promise<void>;
}

function spawnReel(args: string[], env: Record<string, string>): ReelProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout!.on('data', (data: Buffer) => {
    stdout += data.toString();
    output += data.toString();
  });
  child.stderr!.on('data', (data: Buffer) => {
    stderr += data.toString();
    output += data.toString();
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    exited,
    async signal(name) {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
      await exited;
    },
  };
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `reel serve [args]` as a real child process and waits until /readyz answers 200. */
export async function startServerProcess(
  env: Record<string, string>,
  port?: number,
  args: string[] = [],
): Promise<ServerProcess> {
  const chosen = port ?? (await freePort());
  const reel = spawnReel(['serve', ...args], {
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(chosen),
    ...env,
  });
  const baseUrl = `http://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (reel.child.exitCode !== null) {
      throw new Error(`server exited early (${reel.child.exitCode}):\n${reel.output()}`);
    }
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await reel.signal('SIGKILL');
      throw new Error(`server not ready after 60 s:\n${reel.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    child: reel.child,
    baseUrl,
    output: reel.output,
    kill: () => reel.signal('SIGKILL'),
    stop: () => reel.signal('SIGTERM'),
  };
}

/** Runs `reel worker` (transcoding only); stop() sends SIGTERM and waits for the exit. */
export function startWorkerProcess(env: Record<string, string>): { output(): string; stop(): Promise<void> } {
  const reel = spawnReel(['worker'], { LOG_LEVEL: 'warn', ...env });
  return { output: reel.output, stop: () => reel.signal('SIGTERM') };
}

/** Runs `reel <args>` to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const reel = spawnReel(args, env);
  const code = await reel.exited;
  return { code, stdout: reel.stdout(), stderr: reel.stderr() };
}
