import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { createRootLogger } from './logger.js';

/** Injection token of the process's root pino logger. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** A caller's request id is kept when it is short and plain, so it cannot forge log lines. */
const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the caller's X-Request-Id when acceptable, else a new UUID; echoed in the response. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && acceptableRequestId.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

@Module({})
class RootLoggerModule {}

/**
 * Structured JSON logs through nestjs-pino: Nest's own and the app's `Logger` lines, and one line per
 * HTTP request (pino-http) carrying its requestId; lines logged while serving a request carry it too.
 */
@Module({})
export class LoggingModule {
  /** The logging of one process (`api` or `worker`); the root pino logger is injectable as ROOT_LOGGER. */
  static forProcess(name: 'api' | 'worker'): DynamicModule {
    const root: DynamicModule = {
      module: RootLoggerModule,
      global: true,
      providers: [
        { provide: ROOT_LOGGER, inject: [CONFIG], useFactory: (c: Config): PinoLogger => createRootLogger(c, name) },
      ],
      exports: [ROOT_LOGGER],
    };
    const http = LoggerModule.forRootAsync({
      inject: [ROOT_LOGGER],
      useFactory: (logger: PinoLogger) => ({
        pinoHttp: {
          logger,
          genReqId: requestId,
          customAttributeKeys: { reqId: 'requestId' },
          // The answer's status is what a request line needs; its headers are the same security headers on
          // every answer and were most of each line's bytes and serialisation time.
          serializers: { res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
          // Lines logged inside a request carry its id, not the whole request again.
          quietReqLogger: true,
          // Health checks arrive every few seconds from the load balancer and orchestrator.
          autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health/') ?? false },
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
            err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        },
      }),
    });
    return { module: LoggingModule, imports: [root, http], exports: [root, http] };
  }
}
