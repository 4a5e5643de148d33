/**
 * What the activity tests share: the harness's app DB (real PostgreSQL), a storage folder of the test file's
 * own, jobs recorded as the API records them with their document stored, and @temporalio/testing's
 * MockActivityEnvironment with the heartbeats and log lines it saw.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Info } from '@temporalio/activity';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Registry } from 'prom-client';
import type { Sequelize } from 'sequelize';
import type { DocumentOptions } from '../../core/contracts.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type AppModels, type Job } from '../../core/db/models.js';
import { JobStore } from '../../core/job-store.js';
import { documentKey, LocalStorage, type DocumentStorage } from '../../core/storage/storage.js';
import { harnessEnv } from './harness.js';

/** The app DB and a storage folder of the test file's own. */
export interface ActivityTestBed {
  db: Sequelize;
  models: AppModels;
  jobs: JobStore;
  /** The folder store on storageDir; a test may swap in another store (the bucket) for its own jobs. */
  storage: DocumentStorage;
  storageDir: string;
  close(): Promise<void>;
}

export async function openActivityTestBed(name: string): Promise<ActivityTestBed> {
  const db = createSequelize(harnessEnv().APP_DATABASE_URL!, 2, 'app');
  const models = initAppModels(db);
  const storageDir = await fs.mkdtemp(path.join(process.env.FOLIO_TEST_TMP ?? os.tmpdir(), `${name}-`));
  return {
    db,
    models,
    jobs: new JobStore(models),
    storage: new LocalStorage(storageDir),
    storageDir,
    close: () => db.close(),
  };
}

/**
 * A job as the API records it (queued), with `file` stored under its key; `file: null` stores nothing.
 * The job is `document-<id>`'s and has the options given.
 */
export async function acceptJob(
  bed: ActivityTestBed,
  file: string | null,
  options: Partial<DocumentOptions> = {},
): Promise<Job> {
  const id = randomUUID();
  const storageKey = documentKey(id);
  const stored = file === null ? undefined : await bed.storage.put(storageKey, createReadStream(file));
  return bed.jobs.accept({
    id,
    filename: file === null ? 'missing.pdf' : path.basename(file),
    contentType: 'application/pdf',
    sizeBytes: stored?.bytes ?? 0,
    sha256: stored?.sha256 ?? '0'.repeat(64),
    storageKey,
    options: { ocrMode: 'auto', languages: ['eng'], ...options },
    workflowId: `document-${id}`,
  });
}

/** One line an activity logged through its context logger. */
export interface LogLine {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
}

/** A logger that keeps what it is given. */
class KeepingLogger implements Logger {
  constructor(readonly lines: LogLine[]) {}
  log(level: LogLevel, message: string, meta?: LogMetadata) {
    this.lines.push({ level, message, meta });
  }
  trace(message: string, meta?: LogMetadata) {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata) {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata) {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata) {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata) {
    this.log('ERROR', message, meta);
  }
}

/** A mocked activity context (a fresh one per call: a cancelled context stays cancelled). */
export function mockActivity(info: Partial<Info> = {}): {
  env: MockActivityEnvironment;
  /** Runs an activity in this context, typed by the activity. */
  run: <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A) => Promise<R>;
  heartbeats: unknown[];
  logs: LogLine[];
  /** The messages the activity logged (not the SDK's own lines about it), in order. */
  messages: () => string[];
} {
  const logs: LogLine[] = [];
  const env = new MockActivityEnvironment(info, { logger: new KeepingLogger(logs) });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return {
    env,
    run: (activity, ...args) => env.run(activity, ...args),
    heartbeats,
    logs,
    messages: () => logs.filter((l) => l.meta?.sdkComponent === 'activity').map((l) => l.message),
  };
}

/** The sum of a metric's values with these labels. */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is not registered`);
  const { values } = await metric.get();
  const found = values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found.reduce((n, v) => n + v.value, 0);
}
