import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { Logger as TemporalLogger, LogLevel as TemporalLogLevel, LogMetadata } from '@temporalio/common';
import type { Config } from '../config/config.js';

/**
 * Never written to a log: credentials in request and response headers, and password, secret and key
 * fields wherever an object carrying them is logged (one level deep, and inside document options).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'password',
  '*.password',
  'options.password',
  '*.options.password',
  'passwordHash',
  '*.passwordHash',
  'apiKey',
  '*.apiKey',
  'sessionSecret',
  '*.sessionSecret',
];

/** The process's one pino logger: JSON lines on stdout (or `destination`) at LOG_LEVEL, secrets redacted. */
export function createRootLogger(
  config: Config,
  process: 'api' | 'worker',
  destination?: DestinationStream,
): PinoLogger {
  const options = {
    level: config.logLevel,
    base: { process },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

const levels: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal Runtime's logger, writing through pino: SDK, Core and activity-context lines
 * (`Context.current().log`) become JSON lines with their attributes (workflowId, activityType, attempt,
 * and the jobId and pageNumber added by activityLogAttributes).
 */
export class TemporalPinoLogger implements TemporalLogger {
  constructor(private readonly logger: PinoLogger) {}

  log(level: TemporalLogLevel, message: string, meta?: LogMetadata): void {
    // Symbol keys (the SDK's own timestamp) are not JSON; pino stamps the time itself.
    const fields = meta ? Object.fromEntries(Object.entries(meta)) : {};
    this.logger[levels[level]](fields, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** The Core SDK's own log filter for a pino level (Core is chatty below WARN). */
export function coreLogLevel(level: Config['logLevel']): TemporalLogLevel {
  if (level === 'trace') return 'TRACE';
  if (level === 'debug') return 'DEBUG';
  return level === 'info' || level === 'warn' ? 'WARN' : 'ERROR';
}
