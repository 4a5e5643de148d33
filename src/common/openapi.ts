import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { apiCodesWithStatus } from '../../core/failures.js';

class ApiErrorDetailView {
  @ApiProperty({ example: 'JOB_NOT_FOUND', description: 'Stable error code' }) code!: string;
  @ApiProperty({ description: 'What went wrong and what to send instead' }) message!: string;
  @ApiPropertyOptional({ description: 'Machine-readable extras for some codes' }) details?: unknown;
}

/** The body of every error response. */
export class ApiErrorView {
  @ApiProperty({ type: ApiErrorDetailView }) error!: ApiErrorDetailView;
}

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
};

/** Each documented status with the codes it carries, for the operation's description in /openapi.json. */
function codesFor(status: number): string {
  return apiCodesWithStatus(status).join(', ');
}

/**
 * Documents an operation's error responses: each status with the `{ error: { code, message } }` body
 * (and Retry-After on 429 and 503), so a client, and the fuzzer, can check every answer against the schema.
 */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ApiErrorView),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        // JSON even where the operation itself produces text or an event stream.
        content: { 'application/json': { schema: { $ref: getSchemaPath(ApiErrorView) } } },
        description: codesFor(status) || 'An error',
        ...(status === 429 || status === 503 ? { headers: retryAfter } : {}),
      }),
    ),
  );
}
