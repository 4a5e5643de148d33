import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { genericCodeOf } from '../../core/failures.js';
import { ApiError, type ApiErrorBody } from './errors.js';
import { isDatabaseUnavailable } from '../../core/db/connections.js';
import { StorageUnavailable } from '../../core/storage/storage.js';

/** Seconds a client is asked to wait when the database is away (a restart takes about this long). */
const DATABASE_RETRY_AFTER = '5';
/** Seconds a client is asked to wait when the document store is away. */
const STORAGE_RETRY_AFTER = '10';

/** The one place HTTP errors are rendered: a stable code, a message saying what to fix, no stack traces. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    if (res.headersSent) return;

    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let body: ApiErrorBody = { error: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.' } };
    if (exception instanceof ApiError) {
      status = exception.getStatus();
      body = exception.getResponse() as ApiErrorBody;
      for (const [name, value] of Object.entries(exception.headers)) res.setHeader(name, value);
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const response = exception.getResponse();
      const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : exception.message;
      const validation = status === Number(HttpStatus.BAD_REQUEST) && Array.isArray(raw);
      const code = validation ? 'VALIDATION_FAILED' : genericCodeOf(status);
      body = { error: { code, message } };
    } else if (isDatabaseUnavailable(exception)) {
      // The request was fine; the database is restarting or unreachable. Say when to come back.
      status = HttpStatus.SERVICE_UNAVAILABLE;
      body = {
        error: { code: 'DATABASE_UNAVAILABLE', message: 'The database is unavailable; retry in a few seconds.' },
      };
      res.setHeader('Retry-After', DATABASE_RETRY_AFTER);
      this.logger.warn(`${req.method} ${req.originalUrl}: database unavailable (${(exception as Error).message})`);
    } else if (exception instanceof StorageUnavailable) {
      // The request was fine; the object store is down or unreachable. Nothing was recorded for it.
      status = HttpStatus.SERVICE_UNAVAILABLE;
      body = {
        error: {
          code: 'STORAGE_UNAVAILABLE',
          message: 'The document store is unavailable; nothing was recorded. Send the request again in a few seconds.',
        },
      };
      res.setHeader('Retry-After', STORAGE_RETRY_AFTER);
      this.logger.warn(`${req.method} ${req.originalUrl}: ${exception.message}`);
    } else {
      this.logger.error(
        `${req.method} ${req.originalUrl} failed`,
        exception instanceof Error ? exception.stack : exception,
      );
    }
    res.status(status).json(body);
  }
}
