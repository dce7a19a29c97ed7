import { Type } from 'typebox';

/**
 * The playback beacon wire format (issue 10): batches of events from one player session. The web
 * player, the tests and outside players all speak it; the schema checks shapes, `checkBatch` the rest.
 */
const Time = Type.Number({ minimum: 0, description: 'ms since the epoch' });
const Seconds = Type.Number({ minimum: 0, maximum: 86_400 });
const Height = Type.Integer({ minimum: 1, maximum: 8640 });

export const BeaconEventSchema = Type.Union([
  Type.Object({ type: Type.Literal('start'), t: Time }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('firstFrame'), t: Time }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('heartbeat'),
      t: Time,
      position: Seconds,
      watched: Type.Number({ minimum: 0, maximum: 3600 }),
      height: Type.Optional(Height),
      bitrate: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
      buffer: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
      playerHeight: Type.Optional(Height),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('stall'), t: Time, phase: Type.Union([Type.Literal('start'), Type.Literal('end')]) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('seek'), t: Time, from: Seconds, to: Seconds },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('rendition'),
      t: Time,
      fromHeight: Type.Optional(Height),
      toHeight: Height,
      auto: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('error'),
      t: Time,
      fatal: Type.Boolean(),
      code: Type.Optional(Type.String({ maxLength: 100 })),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('end'), t: Time }, { additionalProperties: false }),
]);

export const MAX_EVENTS = 50;
export const MAX_BATCH_BYTES = 16 * 1024;

export const BeaconBatchSchema = Type.Object(
  {
    videoId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    sessionId: Type.String({
      pattern: '^[A-Za-z0-9_-]{8,64}$',
      description: 'A random id per playback (a UUID)',
    }),
    viewerId: Type.String({
      pattern: '^[A-Za-z0-9_-]{8,64}$',
      description:
        'A random id the player keeps (localStorage); only an HMAC of it under a daily salt is stored',
    }),
    seq: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    token: Type.Optional(Type.String({ maxLength: 512 })),
    events: Type.Array(BeaconEventSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type BeaconEvent =
  | { type: 'start'; t: number }
  | { type: 'firstFrame'; t: number }
  | {
      type: 'heartbeat';
      t: number;
      position: number;
      watched: number;
      height?: number;
      bitrate?: number;
      buffer?: number;
      playerHeight?: number;
    }
  | { type: 'stall'; t: number; phase: 'start' | 'end' }
  | { type: 'seek'; t: number; from: number; to: number }
  | { type: 'rendition'; t: number; fromHeight?: number; toHeight: number; auto: boolean }
  | { type: 'error'; t: number; fatal: boolean; code?: string }
  | { type: 'end'; t: number };

export interface BeaconBatch {
  videoId: string;
  sessionId: string;
  viewerId: string;
  seq: number;
  token?: string;
  events: BeaconEvent[];
}

/** Why a batch that fits the schema is still refused (the route turns it into an error code). */
export type BatchProblem =
  | { code: 'BEACON_TOO_MANY_EVENTS'; message: string }
  | { code: 'BEACON_TIME_OUT_OF_RANGE'; message: string; index: number }
  | { code: 'BEACON_OUT_OF_ORDER'; message: string; index: number }
  | { code: 'BEACON_WATCHED_IMPLAUSIBLE'; message: string; index: number };

const DAY_MS = 24 * 3600 * 1000;
/** Slack for `watched` against the wall time between events (timer jitter, rounding). */
const WATCHED_SLACK_SECONDS = 1;

/**
 * What the schema cannot say: at most MAX_EVENTS, every time within a day of the server's clock, times
 * never going back, and no heartbeat claiming more watching than the time since the previous event
 * allows (+1 s). Pure; undefined when the batch is acceptable.
 */
export function checkBatch(batch: BeaconBatch, nowMs: number): BatchProblem | undefined {
  if (batch.events.length > MAX_EVENTS) {
    return { code: 'BEACON_TOO_MANY_EVENTS', message: `At most ${MAX_EVENTS} events a batch` };
  }
  let previous: number | undefined;
  for (const [index, event] of batch.events.entries()) {
    if (Math.abs(event.t - nowMs) > DAY_MS) {
      return { code: 'BEACON_TIME_OUT_OF_RANGE', message: 'Event times must be within 24 h of now', index };
    }
    if (previous !== undefined && event.t < previous) {
      return { code: 'BEACON_OUT_OF_ORDER', message: 'Events must be in time order', index };
    }
    if (event.type === 'heartbeat' && previous !== undefined) {
      const wallSeconds = (event.t - previous) / 1000;
      if (event.watched > wallSeconds + WATCHED_SLACK_SECONDS) {
        return {
          code: 'BEACON_WATCHED_IMPLAUSIBLE',
          message: `watched ${event.watched} s exceeds the ${wallSeconds.toFixed(1)} s since the previous event`,
          index,
        };
      }
    }
    previous = event.t;
  }
  return undefined;
}
