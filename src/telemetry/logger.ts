import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';
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

/** How a process writes its log lines: LOG_FORMAT, where `auto` means readable on a terminal, else JSON lines. */
export function resolveLogFormat(setting: Config['logFormat'], stdoutIsTerminal: boolean): 'pretty' | 'json' {
  if (setting !== 'auto') return setting;
  return stdoutIsTerminal ? 'pretty' : 'json';
}

/**
 * pino-pretty's formatter for Folio's JSON lines: one readable line per entry (local time, level, the
 * process in brackets, the message, other fields as compact JSON; errors keep their stack). Request headers
 * are left out (they are in the JSON lines). A line that is not JSON comes back unchanged. Colours only on a
 * terminal that takes them (NO_COLOR is honoured).
 */
export function prettyLines(stdoutIsTerminal: boolean): (line: string) => string {
  return pinoPretty.prettyFactory({
    colorize: stdoutIsTerminal && pinoPretty.isColorSupported,
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
    messageFormat: '{if process}[{process}] {end}{msg}',
    ignore: 'pid,hostname,process,req.headers,req.remoteAddress,req.remotePort',
  });
}

/**
 * The process's one pino logger at LOG_LEVEL, secrets redacted, on stdout (or `destination`): JSON lines, or
 * with LOG_FORMAT=pretty (or `auto` on a terminal) the same entries formatted by pino-pretty in this thread,
 * written synchronously so that the last lines before a crash are not lost.
 */
export function createRootLogger(config: Config, name: 'api' | 'worker', destination?: DestinationStream): PinoLogger {
  const options = {
    level: config.logLevel,
    base: { process: name },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const terminal = destination === undefined && Boolean(process.stdout.isTTY);
  if (resolveLogFormat(config.logFormat, terminal) === 'json') {
    return destination ? pino(options, destination) : pino(options);
  }
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  const prettify = prettyLines(terminal);
  return pino(options, {
    write: (line: string) => {
      out.write(prettify(line));
    },
  });
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
