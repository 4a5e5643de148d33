import path from 'node:path';
import { z } from 'zod';

/** Where relative defaults (data/, storage) are anchored: the directory the process starts in. */
const cwd = process.cwd();

const bytes = z.coerce.number().int().positive();
const positiveInt = z.coerce.number().int().positive();

/**
 * Every environment variable Folio reads, validated once at start.
 * The README's configuration table lists the same names and defaults.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  PUBLIC_BASE_URL: z.string().url().optional(),
  API_AUTH: z.enum(['required', 'disabled']).default('required'),
  SSE_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(500),

  TEMPORAL_ADDRESS: z.string().default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('folio-documents'),
  TEMPORAL_UI_URL: z.string().url().default('http://localhost:8233'),

  APP_DATABASE_URL: z.string().url().default('postgres://folio@localhost:5432/folio'),
  LEGACY_DATABASE_URL: z.string().url().default('postgres://folio@localhost:5432/folio_legacy'),
  DATABASE_POOL_MAX: positiveInt.default(10),

  STORAGE_DIR: z.string().default(path.join('data', 'storage')),

  MAX_UPLOAD_BYTES: bytes.default(512 * 1024 * 1024),
  MAX_PAGES: positiveInt.default(5000),

  OCR_DPI: z.coerce.number().int().min(72).max(1200).default(300),
  RENDER_MAX_PIXELS: positiveInt.default(50_000_000),
  OCR_WORKERS: positiveInt.default(2),
  OCR_MODEL: z.enum(['best_int', 'default']).default('best_int'),
  DEFAULT_LANGUAGES: z.string().default('eng'),
  OCR_DETECT_ORIENTATION: z.enum(['true', 'false']).default('true'),
  OCR_ORIENTATION_MARGIN: z.coerce.number().min(0).default(7),

  PDF_THREADS: positiveInt.default(2),
  PDF_THREAD_HEAP_MB: positiveInt.default(1024),
  PDF_TASK_TIMEOUT_SECONDS: positiveInt.default(120),

  WORKER_MAX_ACTIVITIES: positiveInt.optional(),
  PAGE_WINDOW: positiveInt.default(8),
  PAGES_PER_CHILD_WORKFLOW: positiveInt.default(500),
  PAGE_TIMEOUT_SECONDS: positiveInt.default(600),
  PAGE_MAX_ATTEMPTS: positiveInt.default(3),

  SCHEDULES_UPSERT: z.enum(['true', 'false']).default('true'),
  SCHEDULE_TIMEZONE: z.string().default('UTC'),
  CLEANUP_CRON: z.string().default('30 3 * * *'),
  RETENTION_DAYS: z.coerce.number().positive().default(30),
  RECONCILE_CRON: z.string().default('*/5 * * * *'),
  RECONCILE_GRACE_SECONDS: positiveInt.default(300),
  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  SESSION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  SESSION_COOKIE_SECURE: z.enum(['true', 'false']).default('false'),
  ADMIN_LOGIN_MAX_ATTEMPTS: positiveInt.default(10),
  ADMIN_LOGIN_WINDOW_SECONDS: positiveInt.default(900),
  ADMIN_JS_TMP_DIR: z.string().default(path.join('data', 'adminjs')),
});

export type Env = z.infer<typeof schema>;

/** The typed configuration every Folio process runs with. */
export interface Config {
  env: Env['NODE_ENV'];
  http: { host: string; port: number; publicBaseUrl?: string };
  logLevel: Env['LOG_LEVEL'];
  /** API keys on /v1 and the seed routes: `disabled` only outside production. */
  auth: { mode: Env['API_AUTH'] };
  /** How often a job's event stream looks for new page results. */
  ssePollMs: number;
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl: string };
  database: { appUrl: string; legacyUrl: string; poolMax: number };
  storage: { dir: string };
  limits: { maxUploadBytes: number; maxPages: number };
  pipeline: {
    dpi: number;
    renderMaxPixels: number;
    ocrWorkers: number;
    ocrModel: Env['OCR_MODEL'];
    defaultLanguages: string[];
    /** Pages are turned upright before OCR when orientation detection is this sure; absent: off. */
    orientation: { minConfidence: number } | undefined;
    pdfThreads: number;
    pdfThreadHeapMb: number;
    pdfTaskTimeoutMs: number;
    workerMaxActivities: number;
    pageWindow: number;
    pagesPerChildWorkflow: number;
    pageTimeoutSeconds: number;
    pageMaxAttempts: number;
  };
  schedules: {
    /** Whether this worker creates/updates the declared schedules at start. */
    upsertAtStart: boolean;
    timezone: string;
    cleanupCron: string;
    retentionDays: number;
    reconcileCron: string;
    reconcileGraceSeconds: number;
  };
  admin: {
    email?: string;
    password?: string;
    /** Undefined outside production when SESSION_SECRET is unset: the panel then makes one per process. */
    sessionSecret?: string;
    cookieSecure: boolean;
    loginMaxAttempts: number;
    loginWindowMs: number;
    tmpDir: string;
  };
}

/** Raised once at start when the environment is invalid; names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment. Throws ConfigError listing every problem. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.API_AUTH === 'disabled' && e.NODE_ENV === 'production') {
    throw new ConfigError('Invalid configuration:\n  API_AUTH: "disabled" is not allowed when NODE_ENV is production');
  }
  const languages = e.DEFAULT_LANGUAGES.split('+')
    .map((l) => l.trim())
    .filter(Boolean);
  if (languages.length === 0) throw new ConfigError('Invalid configuration:\n  DEFAULT_LANGUAGES: empty');

  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, publicBaseUrl: e.PUBLIC_BASE_URL },
    logLevel: e.LOG_LEVEL,
    auth: { mode: e.API_AUTH },
    ssePollMs: e.SSE_POLL_MS,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
    },
    database: { appUrl: e.APP_DATABASE_URL, legacyUrl: e.LEGACY_DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    storage: { dir: path.resolve(cwd, e.STORAGE_DIR) },
    limits: { maxUploadBytes: e.MAX_UPLOAD_BYTES, maxPages: e.MAX_PAGES },
    pipeline: {
      dpi: e.OCR_DPI,
      renderMaxPixels: e.RENDER_MAX_PIXELS,
      ocrWorkers: e.OCR_WORKERS,
      ocrModel: e.OCR_MODEL,
      defaultLanguages: languages,
      orientation: e.OCR_DETECT_ORIENTATION === 'true' ? { minConfidence: e.OCR_ORIENTATION_MARGIN } : undefined,
      pdfThreads: e.PDF_THREADS,
      pdfThreadHeapMb: e.PDF_THREAD_HEAP_MB,
      pdfTaskTimeoutMs: e.PDF_TASK_TIMEOUT_SECONDS * 1000,
      // Page activities spend most of their time waiting for an OCR engine; a few more than the
      // OCR pool keeps renders and text-layer pages flowing while OCR runs.
      workerMaxActivities: e.WORKER_MAX_ACTIVITIES ?? e.OCR_WORKERS * 2,
      pageWindow: e.PAGE_WINDOW,
      pagesPerChildWorkflow: e.PAGES_PER_CHILD_WORKFLOW,
      pageTimeoutSeconds: e.PAGE_TIMEOUT_SECONDS,
      pageMaxAttempts: e.PAGE_MAX_ATTEMPTS,
    },
    schedules: {
      upsertAtStart: e.SCHEDULES_UPSERT === 'true',
      timezone: e.SCHEDULE_TIMEZONE,
      cleanupCron: e.CLEANUP_CRON,
      retentionDays: e.RETENTION_DAYS,
      reconcileCron: e.RECONCILE_CRON,
      reconcileGraceSeconds: e.RECONCILE_GRACE_SECONDS,
    },
    admin: {
      email: e.ADMIN_EMAIL,
      password: e.ADMIN_PASSWORD,
      sessionSecret: e.SESSION_SECRET,
      cookieSecure: e.SESSION_COOKIE_SECURE === 'true',
      loginMaxAttempts: e.ADMIN_LOGIN_MAX_ATTEMPTS,
      loginWindowMs: e.ADMIN_LOGIN_WINDOW_SECONDS * 1000,
      tmpDir: path.resolve(cwd, e.ADMIN_JS_TMP_DIR),
    },
  };
}

/** Nest logger levels from LOG_LEVEL: the level itself and every more severe one. */
export function nestLogLevels(config: Config): Env['LOG_LEVEL'][] {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  return order.slice(0, order.indexOf(config.logLevel) + 1);
}
