import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { ConfigModule } from './config/config.module.js';
import { loadConfig, nestLogLevels } from './config/config.js';
import { APP_MODELS, DatabaseModule } from './database/database.module.js';
import type { AppModels } from './database/models.js';
import { STORAGE, StorageModule } from './storage/storage.module.js';
import type { DocumentStorage } from './storage/storage.js';
import { createActivities } from '../activities/index.js';
import { createMaintenanceActivities } from '../activities/maintenance.js';
import { declaredSchedules, upsertSchedules } from './temporal/schedules.js';
import { Client, Connection } from '@temporalio/client';
import { PdfjsEngine } from '../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../activities/adapters/tesseract.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Pre-bundled workflow code written by `npm run build`; the worker bundles at start without it. */
const prebuiltBundle = path.resolve(here, '../workflow-bundle.js');
const workflowsPath = path.resolve(here, '../workflows/index.js');

/** What the worker process needs from Nest: config, the app DB and storage. No HTTP. */
@Module({ imports: [ConfigModule, DatabaseModule, StorageModule] })
class WorkerModule {}

async function main(): Promise<void> {
  const logger = new Logger('Worker');
  const config = loadConfig();
  const ctx = await NestFactory.createApplicationContext(WorkerModule, { logger: nestLogLevels(config) });
  const models = ctx.get<AppModels>(APP_MODELS);
  const storage = ctx.get<DocumentStorage>(STORAGE);
  const p = config.pipeline;

  const pdf = new PdfjsEngine({
    threads: p.pdfThreads,
    maxHeapMb: p.pdfThreadHeapMb,
    taskTimeoutMs: p.pdfTaskTimeoutMs,
  });
  const ocr = new TesseractEngine({ workers: p.ocrWorkers, model: p.ocrModel });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  try {
    const code: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = fs.existsSync(prebuiltBundle)
      ? { workflowBundle: { codePath: prebuiltBundle } }
      : { workflowsPath };
    const documentActivities = createActivities({
      models,
      storage,
      pdf,
      ocr,
      settings: {
        dpi: p.dpi,
        renderMaxPixels: p.renderMaxPixels,
        maxPages: config.limits.maxPages,
        orientation: p.orientation,
        plan: {
          window: p.pageWindow,
          pagesPerChild: p.pagesPerChildWorkflow,
          pageTimeoutSeconds: p.pageTimeoutSeconds,
          pageMaxAttempts: p.pageMaxAttempts,
        },
      },
    });
    const maintenanceActivities = createMaintenanceActivities({
      models,
      storage,
      temporal: client,
      finalizeDocument: documentActivities.finalizeDocument,
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
      activities: { ...documentActivities, ...maintenanceActivities },
      maxConcurrentActivityTaskExecutions: p.workerMaxActivities,
      shutdownGraceTime: '20 seconds',
    });
    logger.log(`Worker polling task queue ${config.temporal.taskQueue} at ${config.temporal.address}`);
    // The SDK's runtime stops the worker on SIGINT/SIGTERM; run() resolves once it has drained.
    await worker.run();
  } finally {
    await Promise.allSettled([pdf.close(), ocr.close()]);
    await connection.close();
    await clientConnection.close();
    await ctx.close();
    logger.log('Worker stopped');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
