import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../errors.ts';
import { errorResponses } from '../http/schemas.ts';
import type { Clock } from '../platform/clock.ts';
import {
  type BatchProblem,
  type BeaconBatch,
  BeaconBatchSchema,
  checkBatch,
  MAX_BATCH_BYTES,
  MAX_EVENTS,
} from './beacon.ts';
import type { BeaconVideos } from './beacon-videos.ts';
import { classifyUserAgent } from './user-agent.ts';
import type { ViewRecorder } from './view-recorder.ts';
import type { ViewerHasher } from './viewer-salt.ts';

export interface BeaconRouteOptions {
  recorder: ViewRecorder;
  videos: BeaconVideos;
  hasher: ViewerHasher;
  clock: Clock;
  /** Whether a token lets beacons count for an unlisted or private video (playback's MediaLinks). */
  acceptsToken(videoId: string, token: string): boolean;
  beaconsPerMinutePerIp: number;
  beaconsPerMinutePerViewer: number;
  flushSeconds: number;
}

const DESCRIPTION =
  'Batched events of one playback session (`navigator.sendBeacon` may send it as text/plain). No API key: ' +
  'public videos take beacons from anyone; unlisted and private ones need `token` (the video’s ' +
  '`playback.beaconToken`, or `<expires>.<signature>.<encodeId>` of its signed URL). A batch is counted once ' +
  'per `sessionId` + `seq`, however often it is sent. Nothing identifying is kept: the viewer id only as an ' +
  'HMAC under a salt that changes daily, the user agent as browser/OS/device classes, no address.';

/** `POST /api/v1/playback/events`: validate, authorize, hold for the next flush, answer 202. */
export async function beaconRoutes(parent: FastifyInstance, options: BeaconRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  // sendBeacon sends a string body as text/plain; it is the same JSON (this plugin's scope only).
  app.addContentTypeParser(
    'text/plain',
    { parseAs: 'string', bodyLimit: MAX_BATCH_BYTES },
    (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(errors.validation('The body is not JSON'), undefined);
      }
    },
  );
  const perViewer = app.createRateLimit({
    max: options.beaconsPerMinutePerViewer,
    timeWindow: 60_000,
    keyGenerator: (request) => `beacon-viewer:${(request.body as BeaconBatch).viewerId}`,
  });
  app.post(
    '/api/v1/playback/events',
    {
      bodyLimit: MAX_BATCH_BYTES,
      config: {
        rateLimit: {
          max: options.beaconsPerMinutePerIp,
          timeWindow: 60_000,
          keyGenerator: (request: FastifyRequest) => `beacon-ip:${request.ip}`,
        },
      },
      schema: {
        tags: ['views'],
        summary: 'Playback beacons (views, watch time, quality of experience)',
        description: DESCRIPTION,
        body: BeaconBatchSchema,
        response: {
          202: Type.Object({ accepted: Type.Integer({ description: 'Events held for counting' }) }),
          ...errorResponses(400, 403, 404, 413, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const batch = request.body as BeaconBatch;
      const now = options.clock.nowMs();
      const problem = checkBatch(batch, now);
      if (problem) throw batchError(problem);
      const video = await options.videos.find(batch.videoId);
      if (!video) throw errors.videoNotFound(`No video ${batch.videoId}`);
      if (video.visibility !== 'public' && !(batch.token && options.acceptsToken(video.id, batch.token))) {
        if (video.visibility === 'private') throw errors.videoNotFound(`No video ${batch.videoId}`);
        throw errors.beaconTokenInvalid(
          'Beacons for an unlisted video need its playback.beaconToken as `token`',
        );
      }
      const limit = await perViewer(request);
      if (!limit.isAllowed && limit.isExceeded) throw errors.rateLimited(Math.max(1, limit.ttlInSeconds));
      const accepted = options.recorder.accept({
        videoId: video.id,
        sessionId: batch.sessionId,
        viewerHash: await options.hasher.hash(batch.viewerId, now),
        seq: batch.seq,
        events: batch.events,
        client: classifyUserAgent(request.headers['user-agent']),
        receivedAt: now,
        durationSeconds: video.durationSeconds,
        ownerKeyId: video.ownerKeyId,
      });
      if (!accepted)
        throw errors.viewsBacklogFull(options.flushSeconds, 'Too many beacons waiting to be counted');
      return reply.status(202).send({ accepted: batch.events.length });
    },
  );
}

const PROBLEM_ERRORS = {
  BEACON_TOO_MANY_EVENTS: errors.beaconTooManyEvents,
  BEACON_TIME_OUT_OF_RANGE: errors.beaconTimeOutOfRange,
  BEACON_OUT_OF_ORDER: errors.beaconOutOfOrder,
  BEACON_WATCHED_IMPLAUSIBLE: errors.beaconWatchedImplausible,
};

/** The error a schema-valid but refused batch is answered with. */
function batchError(problem: BatchProblem) {
  const details = 'index' in problem ? { index: problem.index } : { maxEvents: MAX_EVENTS };
  return PROBLEM_ERRORS[problem.code](problem.message, details);
}
