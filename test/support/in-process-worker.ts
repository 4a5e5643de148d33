import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import type { OcrEngine, PdfEngine } from '../../activities/adapters/types.js';
import type { PageMetrics } from '../../activities/page-metrics.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type AppModels } from '../../core/db/models.js';
import { createStorage } from '../../core/storage/create-storage.js';
import { loadConfig } from '../../src/config/config.js';
import { parseSecretKey } from '../../core/sealed-secret.js';
import { guardLegacyConnection } from '../../core/legacy/guard.js';
import { harnessEnv, repoRoot } from './harness.js';

/** A real Temporal worker in the test process, with adapters the test chooses (for deliberate faults). */
export interface InProcessWorker {
  models: AppModels;
  /** Stops the worker and closes its connections; again, it does nothing. */
  stop(): Promise<void>;
}

export interface InProcessWorkerOptions {
  taskQueue: string;
  pdf: PdfEngine;
  ocr: OcrEngine;
  plan?: Partial<ActivityDeps['settings']['plan']>;
  metrics?: PageMetrics;
  /** Activity slots (default 4): one makes every other task wait in Temporal's queue, in priority order. */
  maxActivities?: number;
  /** Webhook deliveries (e.g. to a receiver on loopback); default: the activities' own. */
  webhooks?: ActivityDeps['settings']['webhooks'];
  /** The app DB, Temporal and storage to use instead of the harness's (the variables a Folio process reads). */
  env?: NodeJS.ProcessEnv;
}

/** Started through a stack (stack.ts), which stops it with the rest. */
export async function startInProcessWorker(options: InProcessWorkerOptions): Promise<InProcessWorker> {
  const env = { ...harnessEnv(), ...options.env };
  // The store the stack's processes use (the harness's bucket unless the test pins the folder), chosen the way
  // a worker process chooses it, with a cache folder of its own.
  const storage = createStorage(
    loadConfig({
      ...env,
      STORAGE_CACHE_DIR: path.join(env.STORAGE_CACHE_DIR ?? env.FOLIO_TEST_TMP ?? '/tmp', randomUUID()),
    }).storage,
  );
  await storage.clearLocalCopies();
  const db = createSequelize(env.APP_DATABASE_URL!, 4, 'app');
  const models = initAppModels(db);
  // As src/worker.ts: the legacy mirror's guarded connection, used only by documents that ask for the mirror.
  const legacy = guardLegacyConnection(createSequelize(env.LEGACY_DATABASE_URL!, 2, 'legacy'));
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: options.taskQueue,
    workflowBundle: { codePath: path.join(repoRoot, 'dist/workflow-bundle.js') },
    activities: createActivities({
      models,
      storage,
      pdf: options.pdf,
      ocr: options.ocr,
      metrics: options.metrics,
      documentSecretKey: parseSecretKey(env.DOCUMENT_SECRET_KEY ?? ''),
      legacy,
      settings: {
        dpi: 300,
        renderMaxPixels: 50_000_000,
        maxPages: 5000,
        heartbeatIntervalMs: 1000,
        plan: { window: 4, pagesPerChild: 500, pageTimeoutSeconds: 120, pageMaxAttempts: 3, ...options.plan },
        ...(options.webhooks ? { webhooks: options.webhooks } : {}),
        legacyMirror: env.LEGACY_MIRROR === 'true',
      },
    }),
    maxConcurrentActivityTaskExecutions: options.maxActivities ?? 4,
    maxHeartbeatThrottleInterval: '1 second',
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    models,
    stop() {
      stopped ??= (async () => {
        worker.shutdown();
        await running;
        await connection.close();
        await db.close();
        await legacy.close();
      })();
      return stopped;
    },
  };
}
