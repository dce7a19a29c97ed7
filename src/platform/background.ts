import type { Logger } from './logger.ts';
import type { DomainModule } from './module.ts';
import type { JobQueue } from './queue/job-queue.ts';

/**
 * Runs the domains' job workers and periodic duties in this process. Returns the function that stops
 * the duties (the queue itself stops with the platform, finishing running jobs).
 */
export async function startBackground(
  modules: readonly DomainModule[],
  queue: JobQueue,
  log: Logger,
): Promise<() => void> {
  for (const worker of modules.flatMap((module) => module.workers ?? [])) {
    await queue.work(worker.job, { concurrency: worker.concurrency }, worker.handle);
  }
  const timers = modules
    .flatMap((module) => module.duties ?? [])
    .map((duty) => {
      const run = () => duty.run().catch((error) => log.warn({ err: error }, `${duty.name} failed`));
      const timer = setInterval(run, duty.everyMs);
      timer.unref();
      void run();
      return timer;
    });
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
