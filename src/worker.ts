import { createAuth } from './auth/module.ts';
import { VideoRepository } from './catalog/video-repository.ts';
import type { Config } from './config.ts';
import { resolveMediaTools } from './media/ffmpeg-binary.ts';
import { probeMedia } from './media/probe.ts';
import { startBackground } from './platform/background.ts';
import { createLogger, type LoggerOptions } from './platform/logger.ts';
import type { DomainModule } from './platform/module.ts';
import { openPlatform } from './platform/platform.ts';
import { createProcessing } from './processing/module.ts';
import { createUploads } from './uploads/module.ts';

export interface Worker {
  close(): Promise<void>;
}

/**
 * The composition root of `reel worker`: only what background work needs — transcoding, and the
 * upload sweeper (expired sessions, abandoned completions) — with a pino logger and no HTTP server.
 */
export async function startWorker(config: Config, options: { logger?: LoggerOptions } = {}): Promise<Worker> {
  const platform = await openPlatform(config, { log: createLogger(options.logger) });
  try {
    const db = platform.database.db;
    const tools = resolveMediaTools({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
    const processing = createProcessing({
      ...platform,
      db,
      tools,
      config: config.processing,
      retryLimit: config.jobs.retryLimit,
      concurrency: config.workers.transcodeConcurrency,
    });
    // The sweeper resumes abandoned completions, which create videos and enqueue their processing.
    const auth = createAuth({
      db,
      uploadTokenTtlSeconds: config.uploads.uploadTokenTtlSeconds,
      tokensPerMinute: config.rateLimit.uploadTokensPerMinute,
    });
    const uploads = createUploads({
      ...platform,
      db,
      auth: auth.authenticator,
      tokens: auth.uploadTokens,
      videos: new VideoRepository(db),
      requestProcessing: processing.requestProcessing,
      probe: (input) => probeMedia(tools.ffprobe, input),
      config,
    });
    const modules: DomainModule[] = [processing, uploads];
    await platform.queue.start(modules.flatMap((module) => module.jobs ?? []));
    const stop = await startBackground(modules, platform.queue, platform.log);
    platform.log.info({ concurrency: config.workers.transcodeConcurrency }, 'worker started');
    return {
      async close() {
        stop();
        await platform.close();
      },
    };
  } catch (error) {
    await platform.close();
    throw error;
  }
}
