import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, errors } from '../errors.ts';

/** The one place errors become HTTP responses: `{ error: { code, message, details } }`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = toAppError(error);
    if (appError.httpStatus >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code }, appError.message);
    if (appError.headers) reply.headers(appError.headers);
    return reply.status(appError.httpStatus).send({
      error: { code: appError.code, message: appError.message, details: appError.details ?? {} },
    });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = errors.notFound(`No route ${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send({ error: { code: error.code, message: error.message, details: {} } });
  });
}

export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return errors.validation(`Invalid request: ${fastifyError.message}`, {
      issues: fastifyError.validation.map((issue) => ({
        path: issue.instancePath || `/${fastifyError.validationContext ?? ''}`,
        message: issue.message,
      })),
    });
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    const make =
      status === 415
        ? errors.unsupportedMediaType
        : status === 413
          ? errors.payloadTooLarge
          : errors.badRequest;
    return make(fastifyError.message, { cause: fastifyError.code });
  }
  return errors.internal('Something went wrong on the server; it has been logged');
}
