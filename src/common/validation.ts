/**
 * One way requests are checked: class-validator rules on DTO classes, the same classes @nestjs/swagger turns
 * into the OpenAPI document. A rule names the failure code it stands for (`context: { code }`); a request that
 * breaks it gets that code, and every message at once.
 */
import { ValidationPipe, applyDecorators, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform, type ClassConstructor } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  Max,
  Min,
  registerDecorator,
  validate,
  type ValidationOptions,
} from 'class-validator';
import { DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY } from '../../core/contracts.js';

import { parsePageRange } from '../../core/page-range.js';
import { callbackUrlProblem } from '../../core/webhooks.js';
import { isApiErrorCode } from '../../core/failures.js';
import { ApiError, type ApiErrorCode } from './errors.js';

const PRIORITIES = Array.from({ length: MAX_PRIORITY - MIN_PRIORITY + 1 }, (_, i) => MIN_PRIORITY + i);

/** The rule's own code (its `context.code`), else `fallback`; every broken rule's message. */
export function validationFailure(errors: ValidationError[], fallback: ApiErrorCode): ApiError {
  const flat = flatten(errors);
  const coded = flat
    .flatMap((e) => Object.keys(e.constraints ?? {}).map((name) => (e.contexts?.[name] as { code?: unknown })?.code))
    .find(isApiErrorCode);
  const messages = flat.flatMap((e) => Object.values(e.constraints ?? {}));
  return new ApiError(coded ?? fallback, messages.join('; ') || 'The request is not valid.');
}

function flatten(errors: ValidationError[]): ValidationError[] {
  return errors.flatMap((e) => [e, ...flatten(e.children ?? [])]);
}

/** JSON bodies: unknown fields refused, VALIDATION_FAILED unless a rule names its own code. */
export class BodyValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => validationFailure(errors, 'VALIDATION_FAILED'),
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Query strings have their own pipe (unknown parameters are ignored there, as HTTP clients expect).
    if (metadata.type === 'query') return Promise.resolve(value);
    return super.transform(value, metadata);
  }
}

/** Query strings: INVALID_QUERY naming each bad parameter; unknown parameters are ignored. */
export const queryValidation = new ValidationPipe({
  whitelist: true,
  transform: true,
  exceptionFactory: (errors) => validationFailure(errors, 'INVALID_QUERY'),
});

/** Validates plain values (e.g. multipart fields) against a DTO class, as the pipes do. */
export async function validated<T extends object>(
  type: ClassConstructor<T>,
  values: Record<string, unknown>,
  fallback: ApiErrorCode,
): Promise<T> {
  const instance = plainToInstance(type, values);
  const errors = await validate(instance, { whitelist: true });
  if (errors.length > 0) throw validationFailure(errors, fallback);
  return instance;
}

/** A query value given as digits only (`limit=10`), as a number; anything else is left for the rules to refuse. */
export function digits({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * An optional integer query parameter from `min` to `max` (limit, offset…): its OpenAPI property, digits read as
 * a number, and one message naming the range for any value outside it.
 */
export function IntegerQueryParam(
  name: string,
  range: { min: number; max: number; default?: number; description?: string },
): PropertyDecorator {
  const { min, max } = range;
  const message = `${name} must be an integer from ${min} to ${max}`;
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: min,
      maximum: max,
      ...(range.default === undefined ? {} : { default: range.default }),
      ...(range.description === undefined ? {} : { description: range.description }),
    }),
    IsOptional(),
    Transform(digits),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}

/** `a,b` or a repeated parameter (`x=a&x=b`) as one list, trimmed, without duplicates. */
export function commaList({ value }: { value: unknown }): unknown {
  if (value === undefined) return undefined;
  const values: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
  const items = values.flatMap((v): unknown[] => (typeof v === 'string' ? v.split(',') : [v]));
  return [...new Set(items.map((v) => (typeof v === 'string' ? v.trim() : v)).filter((v) => v !== ''))];
}

/** The priority rule of a submission (a form field) and of PATCH /v1/jobs/{id} (a JSON number). */
export function IsJobPriority(): PropertyDecorator {
  return (target, property) => {
    Transform(digits)(target, property);
    IsIn(PRIORITIES, {
      message: ({ value }) =>
        `priority must be a whole number from ${MIN_PRIORITY} (most urgent) to ${MAX_PRIORITY} (least urgent); got ${JSON.stringify(value)}. Leave it out for ${DEFAULT_PRIORITY}.`,
      context: { code: 'PRIORITY_INVALID' },
    })(target, property);
  };
}

/** An empty string is no value. */
export function emptyAsAbsent({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

/** A page selection such as "1-3,7,10-" (core/page-range.ts); the message says what to fix. */
export function IsPageRange(options: ValidationOptions = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPageRange',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !('error' in parsePageRange(value)),
        defaultMessage: (args) => {
          const parsed = typeof args?.value === 'string' ? parsePageRange(args.value) : undefined;
          return parsed && 'error' in parsed
            ? parsed.error
            : `${args?.property} must be a page selection such as "1-3,7"`;
        },
      },
    });
}

/** A webhook callback URL: absolute http(s), no credentials, at most MAX_CALLBACK_URL_CHARS (core/webhooks.ts). */
export function IsCallbackUrl(options: ValidationOptions = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCallbackUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && callbackUrlProblem(value) === null,
        defaultMessage: (args) =>
          (typeof args?.value === 'string' ? callbackUrlProblem(args.value) : null) ??
          `${args?.property} must be an absolute https (or http) URL`,
      },
    });
}
