import { ParseUUIDPipe } from '@nestjs/common';
import { ApiError } from './errors.js';

/** A job id in a route: a UUID, or 404 JOB_NOT_FOUND (no job could have any other id). */
export const jobIdPipe = new ParseUUIDPipe({
  exceptionFactory: () => new ApiError('JOB_NOT_FOUND', 'Job ids are UUIDs; this one is not.'),
});

/** A batch id in a route: a UUID, or 404 BATCH_NOT_FOUND. */
export const batchIdPipe = new ParseUUIDPipe({
  exceptionFactory: () => new ApiError('BATCH_NOT_FOUND', 'Batch ids are UUIDs; this one is not.'),
});
