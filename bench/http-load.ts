/**
 * The load generator of bench/serve.ts: keep-alive node:http clients, run in a child process so that
 * the load never shares an event loop with a server under test.
 *
 * - closed loop: `connections` connections, each sends its next request when the previous answer has
 *   been read to the end, for `durationMs`.
 * - open loop: requests are sent on schedule at `rate` req/s whatever the answers; latency is measured
 *   from the scheduled instant (no coordinated omission); the first `warmupMs` are sent but not measured.
 *
 *   node bench/http-load.ts '<job as JSON>'   → prints the result as JSON
 */
import { spawn } from 'node:child_process';
import http from 'node:http';

export interface ClosedLoopJob {
  kind: 'closed';
  baseUrl: string;
  paths: string[];
  connections: number;
  durationMs: number;
}
export interface OpenLoopJob {
  kind: 'open';
  baseUrl: string;
  paths: string[];
  rate: number;
  /** Sent on schedule but not measured: connections opening, JIT warming up (client and server). */
  warmupMs: number;
  durationMs: number;
  headers: Record<string, string>;
}
export interface ClientResult {
  requests: number;
  bytes: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

function get(agent: http.Agent, url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () =>
        response.statusCode === 200 ? resolve(bytes) : reject(new Error(`${response.statusCode}`)),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

export async function runClient(job: ClosedLoopJob | OpenLoopJob): Promise<ClientResult> {
  const result: ClientResult = { requests: 0, bytes: 0, errors: 0, seconds: 0, latenciesMs: [] };
  const start = performance.now();
  const deadline = start + job.durationMs;
  if (job.kind === 'closed') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections });
    await Promise.all(
      Array.from({ length: job.connections }, async (_, worker) => {
        for (let next = worker; performance.now() < deadline; next += job.connections) {
          try {
            // Not `result.bytes += await …`: that reads result.bytes before the await and loses updates.
            const bytes = await get(agent, job.baseUrl + job.paths[next % job.paths.length]);
            result.bytes += bytes;
            result.requests++;
          } catch {
            result.errors++;
          }
        }
      }),
    );
    agent.destroy();
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const pending: Promise<void>[] = [];
    const warmup = Math.round((job.rate * job.warmupMs) / 1000);
    const total = warmup + Math.round((job.rate * job.durationMs) / 1000);
    let sent = 0;
    while (sent < total) {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * job.rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const scheduled = start + (sent * 1000) / job.rate;
        const measured = sent >= warmup;
        pending.push(
          get(agent, job.baseUrl + job.paths[sent % job.paths.length], job.headers).then(
            (bytes) => {
              if (!measured) return;
              result.latenciesMs.push(performance.now() - scheduled);
              result.bytes += bytes;
              result.requests++;
            },
            () => {
              if (measured) result.errors++;
            },
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
    agent.destroy();
    // Throughput over the measured part: from its first scheduled instant to the last answer.
    result.seconds = (performance.now() - start - job.warmupMs) / 1000;
    return result;
  }
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/** Runs one load job in a child process (this file). */
export function runClientProcess(job: ClosedLoopJob | OpenLoopJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load client exited with ${code}`));
      else resolve(JSON.parse(out) as ClientResult);
    });
  });
}

if (import.meta.filename === process.argv[1]) {
  const result = await runClient(JSON.parse(process.argv[2]!) as ClosedLoopJob | OpenLoopJob);
  process.stdout.write(JSON.stringify(result));
}
