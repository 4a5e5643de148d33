import { ParseUUIDPipe } from '@nestjs/common';
import { ApiError } from './errors.js';

/** A job id in a route: a UUID, or 404 JOB_NOT_FOUND (no job could have any other id). */
export const jobIdPipe = new ParseUUIDPipe({
  exceptionFactory: () => new ApiError('JOB_NOT_FOUND', 'Job ids are UUIDs; this one is not.'),
});
