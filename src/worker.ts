import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { ConfigModule } from './config/config.module.js';
import { loadProcessConfig, type Config } from './config/config.js';
import { APP_MODELS, DatabaseModule } from './database/database.module.js';
import type { AppModels } from '../core/db/models.js';
import { STORAGE, StorageModule } from './storage/storage.module.js';
import type { DocumentStorage } from '../core/storage/storage.js';
import { createUploadStore } from '../core/uploads/upload-store.js';
import { createActivities } from '../activities/index.js';
import { webhookRunSettings } from './config/webhooks.js';
import { pagePlanOf } from '../core/page-plan.js';
import { declaredSchedules, upsertSchedules } from './temporal/schedules.js';
import { Client, Connection } from '@temporalio/client';
import { PdfjsEngine } from '../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../activities/adapters/tesseract.js';
import { LoggingModule, ROOT_LOGGER } from './telemetry/logging.module.js';
import { coreLogLevel, TemporalPinoLogger } from './telemetry/logger.js';
import { activityLogAttributes } from './telemetry/activity-log-attributes.js';
import { createRegistry, registerDiskGauges } from './telemetry/metrics.js';
import { createPageMetrics } from '../activities/page-metrics.js';
import { startMetricsServer, type MetricsServer } from './telemetry/metrics-server.js';
import { registeredSearchAttributes } from './temporal/temporal.module.js';
import { freeLoopbackPort } from './common/ports.js';
import { createSequelize } from '../core/db/connections.js';
import { guardLegacyConnection } from '../core/legacy/guard.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Pre-bundled workflow code written by `npm run build`; the worker bundles at start without it. */
const prebuiltBundle = path.resolve(here, '../workflow-bundle.js');
const workflowsPath = path.resolve(here, '../workflows/index.js');

/** What the worker process needs from Nest: config, logging, the app DB and storage. No HTTP. */
@Module({ imports: [ConfigModule, LoggingModule.forProcess('worker'), DatabaseModule.forWorker(), StorageModule] })
class WorkerModule {}

/**
 * Routes the Temporal SDK's logs (its own, Core's and activities' `Context.current().log`) into pino and,
 * with WORKER_METRICS_PORT set, has the SDK export its worker metrics on a loopback port that the
 * worker's /metrics merges in. Returns that port's address, if any.
 */
async function installTemporalRuntime(config: Config, pino: PinoLogger): Promise<string | undefined> {
  const sdkMetrics = config.metrics.workerPort === undefined ? undefined : `127.0.0.1:${await freeLoopbackPort()}`;
  const level = coreLogLevel(config.logLevel);
  Runtime.install({
    logger: new TemporalPinoLogger(pino.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      ...(sdkMetrics ? { metrics: { prometheus: { bindAddress: sdkMetrics } } } : {}),
    },
  });
  return sdkMetrics;
}

async function main(): Promise<void> {
  // An invalid environment stops the start here, with a message naming each bad variable.
  const config = loadProcessConfig('worker');
  const ctx = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  const logger = ctx.get(Logger);
  ctx.useLogger(logger);
  const sdkMetrics = await installTemporalRuntime(config, ctx.get<PinoLogger>(ROOT_LOGGER));
  const registry = createRegistry();
  const metrics = createPageMetrics(registry);
  // Free space where this worker writes: the document store's folder, or its cache of bucket objects; uploads.
  registerDiskGauges(registry, [
    config.storage.kind === 'local'
      ? { folder: 'storage', dir: config.storage.dir }
      : { folder: 'storage-cache', dir: config.storage.cache.dir },
    ...(config.uploads.kind === 'local' ? [{ folder: 'uploads', dir: config.uploads.dir }] : []),
  ]);
  const models = ctx.get<AppModels>(APP_MODELS);
  const storage = ctx.get<DocumentStorage>(STORAGE);
  // Local copies of bucket objects a previous run of this worker left (a crash leaves them): gone before work starts.
  await storage.clearLocalCopies();
  const p = config.pipeline;

  const pdf = new PdfjsEngine({
    threads: p.pdfThreads,
    maxHeapMb: p.pdfThreadHeapMb,
    maxRenders: p.pdfMaxRenders,
    taskTimeoutMs: p.pdfTaskTimeoutMs,
  });
  const ocr = new TesseractEngine({
    workers: p.ocrWorkers,
    ...p.models,
    maxPagesPerWorker: p.ocrWorkerMaxPages,
  });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  // The mirror's connection (it connects on first use): guarded like the API's, no query retry of its own — the
  // mirror activities' retry policy waits out a legacy DB that is away. Always there: a document started by an
  // API with LEGACY_MIRROR on is mirrored whatever this worker's setting.
  const legacy = guardLegacyConnection(createSequelize(config.database.legacyUrl, 2, 'legacy'));
  let metricsServer: MetricsServer | undefined;
  try {
    if (config.metrics.workerPort !== undefined) {
      metricsServer = await startMetricsServer({
        host: config.metrics.host,
        port: config.metrics.workerPort,
        registry,
        // The worker's own metrics still go out when the SDK's exporter does not answer.
        extra: () =>
          fetch(`http://${sdkMetrics}/metrics`, { signal: AbortSignal.timeout(5000) })
            .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))))
            .catch((err: unknown) => {
              logger.warn(`Temporal SDK metrics unavailable: ${String(err)}`, 'Worker');
              return '';
            }),
      });
      logger.log(`Metrics on http://${config.metrics.host}:${metricsServer.port}/metrics`, 'Worker');
    }
    const code: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = fs.existsSync(prebuiltBundle)
      ? { workflowBundle: { codePath: prebuiltBundle } }
      : { workflowsPath };
    const activities = createActivities({
      models,
      storage,
      pdf,
      ocr,
      metrics,
      documentSecretKey: config.documentPasswords.secretKey,
      temporal: client,
      uploads: createUploadStore(config.uploads),
      legacy,
      settings: {
        dpi: p.dpi,
        renderMaxPixels: p.renderMaxPixels,
        orientation: p.orientation,
        deskew: p.deskew,
        defaultLanguages: p.defaultLanguages,
        maxPages: config.limits.maxPages,
        plan: pagePlanOf(p),
        run: {
          taskQueue: config.temporal.taskQueue,
          passwordWaitSeconds: config.documentPasswords.waitSeconds,
          webhooks: webhookRunSettings(config),
          legacyMirror: config.legacyMirror,
          // The reconciler starts queued jobs' workflows with the search attributes the namespace has.
          searchAttributes: await registeredSearchAttributes(client, config.temporal.namespace, {
            warn: (message: string) => logger.warn(message, 'Worker'),
          }),
        },
        searchablePdf: config.searchablePdf,
        webhooks: config.webhooks,
        legacyMirror: config.legacyMirror,
        // Several heartbeats per timeout, so one late timer never costs a page its attempt.
        heartbeatIntervalMs: Math.min(5_000, p.pageHeartbeatTimeoutSeconds * 250),
      },
    });
    if (config.schedules.upsertAtStart) {
      const schedules = await upsertSchedules(
        client,
        config.temporal.taskQueue,
        config.schedules.timezone,
        declaredSchedules(config),
      );
      logger.log(
        `Schedules: created [${schedules.created.join(', ')}], updated [${schedules.updated.join(', ')}], unchanged [${schedules.unchanged.join(', ')}]`,
        'Worker',
      );
    }
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      ...code,
      // Cancellation reaches an activity only in a heartbeat's answer, and heartbeats are sent at most every
      // 0.8 × heartbeatTimeout (24 s) by default: 5 s lets a cancelled job's running pages stop within seconds.
      maxHeartbeatThrottleInterval: '5 seconds',
      interceptors: { activity: [activityLogAttributes] },
      activities,
      maxConcurrentActivityTaskExecutions: p.workerMaxActivities,
      shutdownGraceTime: '20 seconds',
    });
    logger.log(`Worker polling task queue ${config.temporal.taskQueue} at ${config.temporal.address}`, 'Worker');
    // The SDK's runtime stops the worker on SIGINT/SIGTERM; run() resolves once it has drained.
    await worker.run();
  } finally {
    await Promise.allSettled([pdf.close(), ocr.close(), metricsServer?.close()]);
    await connection.close();
    await clientConnection.close();
    await legacy.close();
    logger.log('Worker stopped', 'Worker');
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  // Before the logger exists (an invalid configuration) this is the only way to say why.
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
