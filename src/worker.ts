import { videoCleanup } from './catalog/video-cleanup.ts';
import { VideoRepository } from './catalog/video-repository.ts';
import type { Config } from './config.ts';
import { authFor, mediaTools, processingFor, uploadsFor } from './domains.ts';
import { startBackground } from './platform/background.ts';
import { createLogger, type LoggerOptions } from './platform/logger.ts';
import type { DomainModule } from './platform/module.ts';
import { openPlatform } from './platform/platform.ts';

export interface Worker {
  close(): Promise<void>;
}

/**
 * The composition root of `reel worker`: only what background work needs — transcoding, and the
 * upload sweeper (expired sessions, abandoned completions, which create videos and enqueue their
 * processing) — with a pino logger and no HTTP server.
 */
export async function startWorker(config: Config, options: { logger?: LoggerOptions } = {}): Promise<Worker> {
  const platform = await openPlatform(config, { log: createLogger(options.logger) });
  try {
    const tools = mediaTools(config);
    const processing = processingFor(config, platform, tools);
    const auth = authFor(config, platform);
    const videos = new VideoRepository(platform.database.db);
    const uploads = uploadsFor(config, platform, { auth, processing, videos, tools });
    const modules: DomainModule[] = [processing, uploads, videoCleanup(platform.store)];
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
