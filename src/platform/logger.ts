import { type Logger as PinoLogger, pino } from 'pino';

/** The process's structured log (pino): the HTTP server and every domain write to the same one. */
export type Logger = PinoLogger;

/** `false`: silent; `true`: info; otherwise pino options, with an optional destination `stream`. */
export type LoggerOptions = boolean | { level?: string; stream?: { write(line: string): void } };

/**
 * One logger per process. Fastify takes it as its `loggerInstance` (adding its request serializers);
 * `reel worker` has no Fastify and logs through it directly.
 */
export function createLogger(options: LoggerOptions = false): Logger {
  if (options === false) return pino({ level: 'silent' });
  const { stream, ...settings } = options === true ? {} : options;
  return stream ? pino({ level: 'info', ...settings }, stream) : pino({ level: 'info', ...settings });
}
