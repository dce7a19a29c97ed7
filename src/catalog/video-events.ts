import type { OutgoingHttpHeaders } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ConcurrencyGate } from '../http/concurrency-gate.ts';
import { errorResponses, IdParam } from '../http/schemas.ts';
import type { VideoApi } from './video-api.ts';
import type { VideoChangeFeed } from './video-change-feed.ts';
import type { VideoSummary } from './video-repository.ts';

/** What one stream remembers between looks at its video. */
export interface EventState {
  /** `[status, progress, playable]` as last sent in a `progress` event. */
  key: string;
  playableAnnounced: boolean;
}

export interface VideoEvent {
  event: 'progress' | 'playable' | 'ready' | 'failed' | 'deleted';
  data: VideoApi;
}

/**
 * The events one look at the video produces: `progress` whenever status, progress or playable change,
 * `playable` once, and a final `ready`, `failed` or `deleted` after which the stream is `done`. Pure.
 */
export function nextEvents(
  previous: EventState | undefined,
  video: VideoApi,
): { events: VideoEvent[]; state: EventState; done: boolean } {
  const events: VideoEvent[] = [];
  const key = JSON.stringify([video.status, video.progress, video.playable]);
  if (key !== previous?.key) events.push({ event: 'progress', data: video });
  let playableAnnounced = previous?.playableAnnounced ?? false;
  if (video.playable && !playableAnnounced) {
    playableAnnounced = true;
    events.push({ event: 'playable', data: video });
  }
  const status = video.status;
  const done = status === 'ready' || status === 'failed' || status === 'deleted';
  if (done) events.push({ event: status, data: video });
  return { events, state: { key, playableAnnounced }, done };
}

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

export interface VideoEventRouteOptions {
  /** The process-wide poll that feeds every stream. */
  feed: VideoChangeFeed;
  /** Runs before the handler: credentials, when sent, must be valid (401 otherwise). */
  preHandler?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** The access check: the video this request may see, or throws (404 private/unknown, 410 deleted). */
  authorize(request: IdRequest): Promise<VideoSummary>;
  /**
   * Re-checks access on every fresh row (no query): a video this request may no longer see (made
   * private) ends the stream without a word, as an unknown id would.
   */
  canRead(row: VideoSummary, request: FastifyRequest): boolean;
  toApi(row: VideoSummary, request: FastifyRequest): VideoApi;
  /** SSE_MAX_CONNECTIONS_PER_IP: open streams per client address (this process). */
  maxConnectionsPerIp: number;
}

/**
 * What hooks set on `reply` (@fastify/cors, @fastify/helmet): a hijacked reply does not send them by
 * itself, so they are copied into `writeHead`.
 */
function replyHeaders(reply: FastifyReply): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEP_ALIVE_MS = 15_000;

/** A client over the cap may retry once one of its streams has closed. */
const CAP_RETRY_AFTER_SECONDS = 5;

/**
 * `GET /api/v1/videos/:id/events`. CORS comes from the app's policy (@fastify/cors): its headers are set
 * on `reply` and copied into the hijacked response, so CORS_ORIGINS applies here as everywhere else.
 */
export async function videoEventRoutes(parent: FastifyInstance, options: VideoEventRouteOptions) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const perIp = new ConcurrencyGate(options.maxConnectionsPerIp, CAP_RETRY_AFTER_SECONDS);
  /** Ends each open stream; resolves once its response has finished (its socket is then idle). */
  const open = new Set<() => Promise<void>>();

  // Streams end only when their video does: on shutdown end them, or the server would wait for them.
  // Awaited, so that server.close() finds their sockets idle and closes them at once.
  app.addHook('preClose', async () => {
    await Promise.all([...open].map((finish) => finish()));
  });

  app.get(
    '/api/v1/videos/:id/events',
    {
      schema: {
        tags: ['videos'],
        summary:
          'Server-Sent Events: status, progress and ETA (≤ 1/s), playable, then ready, failed or deleted',
        description:
          'Events: `progress` (the video, whenever status, progress or playable change), `playable` (once), ' +
          'and a final `ready`, `failed` or `deleted`, after which the stream ends. Who may listen: as for ' +
          '`GET /api/v1/videos/:id` (checked again on every change). At most SSE_MAX_CONNECTIONS_PER_IP ' +
          'open streams per client address (429 RATE_LIMITED).',
        params: Type.Object({ id: IdParam }),
        response: errorResponses(401, 404, 410, 429),
      },
      ...(options.preHandler ? { preHandler: options.preHandler } : {}),
    },
    async (request, reply) => {
      // Checked before any query: a client over the cap costs nothing.
      const release = perIp.enter(request.ip);
      let first: VideoSummary;
      try {
        first = await options.authorize(request);
      } catch (error) {
        release();
        throw error;
      }
      const stream = openStream(reply, () => {
        open.delete(stream.finish);
        release();
      });
      open.add(stream.finish);
      followVideo(stream, request, first, options);
    },
  );
}

/** One open event stream on a hijacked reply. */
interface EventStream {
  send(event: string, data: unknown): void;
  /** A comment line: keeps proxies from closing an idle stream. */
  comment(text: string): void;
  /** Ends the stream (once); resolves when the response has finished, its socket then idle. */
  finish(): Promise<void>;
  readonly finished: boolean;
  /** Runs when the stream finishes, for whatever reason. */
  onFinish(cleanup: () => void): void;
}

function openStream(reply: FastifyReply, released: () => void): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...replyHeaders(reply), // CORS (Access-Control-Allow-Origin, Vary: Origin…) and security headers
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const cleanups: Array<() => void> = [released];
  const ended = new Promise<void>((resolve) => {
    raw.once('finish', resolve);
    raw.once('close', resolve);
  });
  let finished = false;
  const stream: EventStream = {
    send: (event, data) => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    comment: (text) => raw.write(`: ${text}\n\n`),
    finish() {
      if (!finished) {
        finished = true;
        for (const cleanup of cleanups) cleanup();
        if (!raw.writableEnded) raw.end();
      }
      return ended;
    },
    get finished() {
      return finished;
    },
    onFinish: (cleanup) => cleanups.push(cleanup),
  };
  raw.on('close', stream.finish); // the client left, or the response ended
  raw.on('error', stream.finish);
  return stream;
}

/** Sends the video's events as it changes (from the shared feed) until a final one or until it may not be seen. */
function followVideo(
  stream: EventStream,
  request: IdRequest,
  first: VideoSummary,
  options: VideoEventRouteOptions,
): void {
  let state: EventState | undefined;
  const push = (video: VideoApi) => {
    const next = nextEvents(state, video);
    state = next.state;
    for (const { event, data } of next.events) stream.send(event, data);
    if (next.done) void stream.finish();
  };
  push(options.toApi(first, request));
  if (stream.finished) return;
  // A deleted video keeps a tombstone row (status `deleted` → the final event); no row at all is
  // treated the same way as a video this request may no longer see.
  const unsubscribe = options.feed.subscribe(request.params.id, (row) => {
    if (stream.finished) return;
    if (row && options.canRead(row, request)) push(options.toApi(row, request));
    else void stream.finish();
  });
  const keepAlive = setInterval(() => stream.comment('keep-alive'), KEEP_ALIVE_MS);
  keepAlive.unref();
  stream.onFinish(() => {
    unsubscribe();
    clearInterval(keepAlive);
  });
}
