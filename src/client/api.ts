import http from 'node:http';
import https from 'node:https';
import { parseRetryAfter } from './retry.ts';

/** An error answer from a Reel server: `{ error: { code, message, details } }` and its HTTP status. */
export class ReelApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  /** From Retry-After, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown>,
    retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ReelApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
  }
}

/** No byte moved on the connection for too long. */
export class RequestTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Idle time (no bytes either way) after which the request fails and may be retried. */
  idleTimeoutMs?: number;
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string | undefined;
  /** Connections kept open to the server: the number of parallel chunk uploads. */
  maxSockets: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** A small JSON-over-HTTP client for the Reel API on one keep-alive connection pool. */
export class ReelApi {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #agent: http.Agent;
  readonly #transport: typeof http | typeof https;
  readonly #base: URL;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#base = new URL(`${this.baseUrl}/`);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') {
      throw new TypeError(`The server URL must start with http:// or https://, got "${options.baseUrl}"`);
    }
    this.#apiKey = options.apiKey;
    this.#transport = this.#base.protocol === 'https:' ? https : http;
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets,
      maxFreeSockets: options.maxSockets,
    };
    this.#agent =
      this.#base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** Sends `body` as JSON (when given) and parses the JSON answer; error answers throw ReelApiError. */
  async json<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = payload ? { 'content-type': 'application/json' } : {};
    return parseAnswer<T>(await this.send(method, path, headers, payload, options));
  }

  /** Raw bytes with their headers; error answers throw ReelApiError. */
  async bytes<T>(
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: Buffer,
    options: RequestOptions = {},
  ): Promise<T> {
    return parseAnswer<T>(
      await this.send(
        method,
        path,
        { 'content-type': 'application/octet-stream', ...headers },
        body,
        options,
      ),
    );
  }

  send(
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: Buffer | undefined,
    options: RequestOptions,
  ): Promise<RawAnswer> {
    const url = new URL(path.replace(/^\/+/, ''), this.#base);
    const allHeaders: http.OutgoingHttpHeaders = {
      accept: 'application/json',
      ...headers,
      'content-length': body?.length ?? 0,
    };
    if (this.#apiKey) allHeaders.authorization = `Bearer ${this.#apiKey}`;
    return new Promise<RawAnswer>((resolve, reject) => {
      const request = this.#transport.request(url, {
        method,
        agent: this.#agent,
        headers: allHeaders,
        signal: options.signal,
      });
      request.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
        request.destroy(
          new RequestTimeoutError(`${method} ${url.pathname}: no answer from the server in time`),
        );
      });
      request.once('error', reject);
      request.once('response', (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.once('error', reject);
        response.once('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: header(response.headers['retry-after']),
            text: Buffer.concat(parts).toString('utf8'),
          }),
        );
      });
      request.end(body);
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}

export interface RawAnswer {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The JSON body of a 2xx answer, else the ReelApiError the answer describes. */
export function parseAnswer<T>(answer: RawAnswer, nowMs = Date.now()): T {
  let parsed: unknown;
  try {
    parsed = answer.text ? JSON.parse(answer.text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (answer.status >= 200 && answer.status < 300) return parsed as T;
  const retryAfterMs = parseRetryAfter(answer.retryAfter, nowMs);
  const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  if (error && typeof error.code === 'string') {
    const details =
      error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : {};
    return throwError(
      new ReelApiError(answer.status, error.code, String(error.message ?? ''), details, retryAfterMs),
    );
  }
  // Not a Reel answer (a proxy, a load balancer): keep what it said, briefly.
  const snippet = answer.text.replace(/\s+/g, ' ').trim().slice(0, 200);
  const message = `The server answered HTTP ${answer.status}${snippet ? `: ${snippet}` : ''}`;
  return throwError(new ReelApiError(answer.status, `HTTP_${answer.status}`, message, {}, retryAfterMs));
}

function throwError(error: Error): never {
  throw error;
}
