import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { installedLanguages, type ModelSource } from '../../core/languages.js';
import { parseSecretKey } from '../../core/sealed-secret.js';
import type { StorageConfig } from '../../core/storage/create-storage.js';
import { UPLOADS_FOLDER, type UploadStoreSettings } from '../../core/uploads/upload-store.js';
import { passwordProblem } from './operator-password.js';
import { parseClamdUrl, type ClamdSettings } from '../../core/malware/clamd.js';

/** Where relative defaults (data/, storage) are anchored: the directory the process starts in. */
const cwd = process.cwd();

const bytes = z.coerce.number().int().positive();
const positiveInt = z.coerce.number().int().positive();

/**
 * Every environment variable Folio reads, validated once at start.
 * docs/configuration.md's table lists the same names and defaults (test/src/config/configuration-doc.test.ts).
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // pino's levels; Nest's names `log` and `verbose` are kept as aliases of `info` and `trace`.
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'log', 'verbose']).default('info'),
  // `auto`: readable lines (pino-pretty) on a terminal, JSON lines anywhere else.
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  PUBLIC_BASE_URL: z.string().url().optional(),
  API_AUTH: z.enum(['required', 'disabled']).default('required'),
  /**
   * How long the API trusts a verified key before reading it again; 0 (default): every request. Revocations
   * reach a cache by NOTIFY within milliseconds, not synchronously, so it is an operator's choice.
   */
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(0),
  SSE_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(500),

  TEMPORAL_ADDRESS: z.string().default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('folio-documents'),
  TEMPORAL_UI_URL: z.string().url().default('http://localhost:8233'),

  APP_DATABASE_URL: z.string().url().default('postgres://folio@localhost:5432/folio'),
  LEGACY_DATABASE_URL: z.string().url().default('postgres://folio@localhost:5432/folio_legacy'),
  /** Keep legacy_jobs true for Folio's jobs (docs/legacy.md); `npm start` turns it on for its development legacy DB. */
  LEGACY_MIRROR: z.enum(['true', 'false']).default('false'),
  DATABASE_POOL_MAX: positiveInt.default(10),

  STORAGE_DIR: z.string().default(path.join('data', 'storage')),
  /** The store: a folder (a path or file:// URL; unset: STORAGE_DIR) or an S3-compatible bucket, s3://bucket/prefix. */
  STORAGE_URL: z.string().min(1).optional(),
  // The AWS SDK's standard variables (its credential chain reads AWS_ACCESS_KEY_ID and the rest itself).
  AWS_ENDPOINT_URL: z.string().url().optional(),
  AWS_ENDPOINT_URL_S3: z.string().url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().min(1).optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Bucket in the URL's path; default: on when an endpoint is named (MinIO and most S3-compatible servers). */
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).optional(),
  /** A worker's local copies of bucket objects, which its engines read; emptied at the worker's start. */
  STORAGE_CACHE_DIR: z.string().default(path.join('data', 'storage-cache')),
  STORAGE_CACHE_BYTES: bytes.default(2 * 1024 * 1024 * 1024),

  MAX_UPLOAD_BYTES: bytes.default(512 * 1024 * 1024),
  /** Resumable uploads (/v1/uploads) left unfinished this long are expired and removed by the orphan sweep. */
  UPLOAD_EXPIRY_HOURS: z.coerce.number().positive().default(24),
  MAX_PAGES: positiveInt.default(5000),
  /** Most file parts in one POST /v1/batches. */
  MAX_BATCH_FILES: positiveInt.default(1000),

  OCR_DPI: z.coerce.number().int().min(72).max(1200).default(300),
  RENDER_MAX_PIXELS: positiveInt.default(50_000_000),
  OCR_WORKERS: positiveInt.default(2),
  /**
   * fast (default): tesseract's tessdata_fast models from OCR_TESSDATA_DIR (installed from Debian or PyPI by
   * scripts/install-languages.sh); best_int / default: the @tesseract.js-data npm packages' models.
   */
  OCR_MODEL: z.enum(['fast', 'best_int', 'default']).default('fast'),
  OCR_TESSDATA_DIR: z.string().min(1).optional(),
  OCR_WORKER_MAX_PAGES: positiveInt.default(200),
  DEFAULT_LANGUAGES: z.string().default('eng'),
  OCR_DETECT_ORIENTATION: z.enum(['true', 'false']).default('true'),
  OCR_DESKEW: z.enum(['true', 'false']).default('true'),
  OCR_ORIENTATION_MARGIN: z.coerce.number().min(0).default(7),

  PDF_THREADS: positiveInt.default(2),
  PDF_MAX_RENDERS: positiveInt.optional(),
  PDF_THREAD_HEAP_MB: positiveInt.default(1024),
  PDF_TASK_TIMEOUT_SECONDS: positiveInt.default(120),

  WORKER_MAX_ACTIVITIES: positiveInt.optional(),
  PAGE_WINDOW: positiveInt.default(8),
  PAGES_PER_CHILD_WORKFLOW: positiveInt.default(500),
  PAGE_TIMEOUT_SECONDS: positiveInt.default(600),
  PAGE_MAX_ATTEMPTS: positiveInt.default(3),
  PAGE_HEARTBEAT_SECONDS: z.coerce.number().int().min(4).default(30),

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

  // Metrics: each process serves /metrics on a port of its own, never on the API's public port.
  METRICS_HOST: z.string().default('0.0.0.0'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  RATE_LIMIT_REQUESTS: positiveInt.default(1200),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(60),
  MAX_IN_FLIGHT_PER_KEY: positiveInt.default(1000),
  CORS_ORIGINS: z.string().default(''),
  /** Fault tests only (refused in production): the API stops answering uploads at this point. */
  FAULT_PAUSE_AT: z.enum(['upload-stored', 'job-recorded']).optional(),
  // Passwords of encrypted PDFs: sealed under this key wherever they travel; how long a job waits for one.
  DOCUMENT_SECRET_KEY: z
    .string()
    .refine((v) => parseSecretKey(v) !== undefined, '32 bytes as 64 hex digits or base64')
    .optional(),
  PASSWORD_WAIT_SECONDS: positiveInt.max(30 * 24 * 3600).default(24 * 3600),
  // The searchable PDF (GET /v1/jobs/{id}/result?format=pdf), built once per job after its pages.
  SEARCHABLE_PDF: z.enum(['true', 'false']).default('true'),
  QPDF_PATH: z.string().min(1).optional(),
  GLYPHLESS_FONT_PATH: z.string().min(1).optional(),
  // Signed webhooks (core/webhooks.ts): private addresses only for development; how long an attempt may take;
  // the retry backoff (tests shorten it); how long a rotated-out signing secret still signs.
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
  WEBHOOK_RETRY_INITIAL_MS: positiveInt.default(5_000),
  WEBHOOK_RETRY_MAX_MS: positiveInt.default(3_600_000),
  WEBHOOK_SECRET_OVERLAP_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 3600),
  // The malware scan of uploads (src/malware/): off, or clamd's INSTREAM at CLAMD_URL for every upload.
  MALWARE_SCAN: z.enum(['off', 'clamav']).default('off'),
  CLAMD_URL: z
    .string()
    .refine((v) => parseClamdUrl(v) !== undefined, 'tcp://host:port or unix:///path/to/clamd.ctl')
    .default('tcp://127.0.0.1:3310'),
  CLAMD_CONNECT_TIMEOUT_MS: positiveInt.max(60_000).default(2_000),
  CLAMD_TIMEOUT_MS: positiveInt.max(600_000).default(60_000),
});

/** The schema itself: docs/configuration.md is checked against it (test/src/config/configuration-doc.test.ts). */
export const envSchema = schema;

export type Env = z.infer<typeof schema>;

/** Log levels, most severe first (pino's names). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The typed configuration every Folio process runs with. */
export interface Config {
  env: Env['NODE_ENV'];
  http: { host: string; port: number; publicBaseUrl?: string };
  /** pino's level name (LOG_LEVEL with Nest's aliases resolved). */
  logLevel: LogLevel;
  /** LOG_FORMAT: `pretty`, `json`, or `auto` (pretty when stdout is a terminal). */
  logFormat: Env['LOG_FORMAT'];
  /** API keys on /v1 and the seed routes: `disabled` only outside production. */
  auth: { mode: Env['API_AUTH']; keyCacheSeconds: number };
  /** How often a job's event stream looks for new page results. */
  ssePollMs: number;
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl: string };
  database: { appUrl: string; legacyUrl: string; poolMax: number };
  /** LEGACY_MIRROR. */
  legacyMirror: boolean;
  /** The document store: a folder, or an S3-compatible bucket with a worker's local cache (createStorage). */
  storage: StorageConfig;
  limits: { maxUploadBytes: number; maxPages: number; maxBatchFiles: number };
  /** Resumable (tus) uploads: where unfinished ones are kept, and when they expire. */
  uploads: UploadStoreSettings;
  pipeline: {
    dpi: number;
    renderMaxPixels: number;
    ocrWorkers: number;
    ocrModel: Env['OCR_MODEL'];
    /** Where the OCR models come from: the folder, or the npm packages' model folder. */
    models: ModelSource;
    /** A folder of traineddata files read instead of the @tesseract.js-data packages; absent: the packages. */
    tessdataDir: string | undefined;
    /** Straighten slightly skewed scans before reading them. */
    deskew: boolean;
    /** Pages an OCR or orientation worker reads before a fresh one replaces it (its WASM heap never shrinks). */
    ocrWorkerMaxPages: number;
    defaultLanguages: string[];
    /** Pages are turned upright before OCR when orientation detection is this sure; absent: off. */
    orientation: { minConfidence: number } | undefined;
    pdfThreads: number;
    /** Page renders at once: each holds ~250 MB of a scanned letter page while it runs. */
    pdfMaxRenders: number;
    pdfThreadHeapMb: number;
    pdfTaskTimeoutMs: number;
    workerMaxActivities: number;
    pageWindow: number;
    pagesPerChildWorkflow: number;
    pageTimeoutSeconds: number;
    pageMaxAttempts: number;
    pageHeartbeatTimeoutSeconds: number;
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
  /** Where /metrics is served: the API on `apiPort`, each worker on `workerPort`; unset = no metrics server. */
  metrics: { host: string; apiPort?: number; workerPort?: number };
  /** Per API key (per address without one), counted in the app DB so every API replica shares them. */
  rateLimit: { requests: number; windowSeconds: number; maxDocumentsInFlightPerKey: number };
  /** Origins allowed to call the API from a browser; empty means no cross-origin access. */
  cors: { origins: string[] };
  /** Fault tests only: where an upload stalls so a test can kill the API there. Never set in production. */
  faultPauseAt?: Env['FAULT_PAUSE_AT'];
  /** The searchable PDF each job gets: whether workers build it, and the tools they build it with. */
  searchablePdf: { enabled: boolean; qpdf: string; glyphlessFont: string };
  /** Encrypted PDFs that need a user password. */
  documentPasswords: {
    /** AES-256-GCM key sealing passwords; required in production (checked at process start). */
    secretKey?: Buffer;
    /** How long a job in `needs_password` waits before it fails with PASSWORD_DEADLINE_EXCEEDED. */
    waitSeconds: number;
  };
  /** Signed webhooks: delivery rules (worker) and the retry backoff the workflows are started with (API). */
  webhooks: {
    /** WEBHOOK_ALLOW_PRIVATE: deliver to loopback and private addresses (development and tests only). */
    allowPrivate: boolean;
    /** Connect + response timeout of one attempt. */
    timeoutMs: number;
    retryInitialMs: number;
    retryMaxMs: number;
    /** How long the previous signing secret of a key still signs after a rotation. */
    secretOverlapSeconds: number;
  };
  /** The malware scan of uploads: off, or clamd (where it listens and how long it may take). */
  malwareScan: { kind: 'off' } | { kind: 'clamav'; clamd: ClamdSettings };
}

/**
 * Which Folio process a configuration is for: production rules depend on it. The API seals passwords and
 * signs panel sessions; the worker opens sealed passwords; tools (migrate, api-key, the bench) need neither.
 */
export type ProcessRole = 'api' | 'worker' | 'tool';

let processConfig: Config | undefined;

/**
 * This process's configuration: the environment validated once, at the start of the process's entry point
 * (which names its role), the same object afterwards.
 */
export function loadProcessConfig(role: ProcessRole = 'tool'): Config {
  return (processConfig ??= loadConfig(process.env, role));
}

/**
 * Settings libraries read from the environment themselves, at import time: AdminJS writes its component
 * bundle to ADMIN_JS_TMP_DIR (its default, `.adminjs`, is a dot folder Express 5 will not serve). The API's
 * entry point exports them once, before anything imports those libraries.
 */
export function libraryEnvironment(config: Config): Record<string, string> {
  return { ADMIN_JS_TMP_DIR: config.admin.tmpDir };
}

/** Raised once at start when the environment is invalid; names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment for a process of `role`. Throws ConfigError listing every problem. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, role: ProcessRole = 'tool'): Config {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const rules = productionProblems(e, role);
  if (rules.length > 0) throw new ConfigError(`Invalid configuration:\n  ${rules.join('\n  ')}`);
  const corsOrigins = e.CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const badOrigin = corsOrigins.find((o) => !/^https?:\/\/[^/\s]+$/.test(o));
  if (badOrigin) {
    throw new ConfigError(
      `Invalid configuration:\n  CORS_ORIGINS: "${badOrigin}" is not an origin like https://app.example.com (scheme and host, no path)`,
    );
  }
  const languages = e.DEFAULT_LANGUAGES.split('+')
    .map((l) => l.trim())
    .filter(Boolean);
  if (languages.length === 0) throw new ConfigError('Invalid configuration:\n  DEFAULT_LANGUAGES: empty');
  // The fast models live in a folder (by default the one scripts/install-languages.sh fills); the packaged
  // ones are read from the npm packages unless a folder is named.
  const tessdataDir =
    e.OCR_TESSDATA_DIR !== undefined
      ? path.resolve(cwd, e.OCR_TESSDATA_DIR)
      : e.OCR_MODEL === 'fast'
        ? path.resolve(cwd, DEFAULT_TESSDATA_DIR)
        : undefined;
  // A folder named explicitly is checked for every process; the default one only where pages are read or
  // languages checked (the API and the worker), so migrate and api-key run before any model is installed.
  if (tessdataDir !== undefined && (e.OCR_TESSDATA_DIR !== undefined || role !== 'tool')) {
    checkModels(tessdataDir, languages);
  }

  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, publicBaseUrl: e.PUBLIC_BASE_URL },
    logLevel: e.LOG_LEVEL === 'log' ? 'info' : e.LOG_LEVEL === 'verbose' ? 'trace' : e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    auth: { mode: e.API_AUTH, keyCacheSeconds: e.API_KEY_CACHE_SECONDS },
    ssePollMs: e.SSE_POLL_MS,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
    },
    database: { appUrl: e.APP_DATABASE_URL, legacyUrl: e.LEGACY_DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    legacyMirror: e.LEGACY_MIRROR === 'true',
    storage: storageConfigOf(e),
    searchablePdf: {
      enabled: e.SEARCHABLE_PDF === 'true',
      // A bare name (qpdf) is looked up on the PATH, as the image's apt-installed qpdf is.
      qpdf: e.QPDF_PATH?.includes('/') === false ? e.QPDF_PATH : path.resolve(cwd, e.QPDF_PATH ?? DEFAULT_QPDF_PATH),
      glyphlessFont: path.resolve(cwd, e.GLYPHLESS_FONT_PATH ?? DEFAULT_GLYPHLESS_FONT_PATH),
    },
    limits: { maxUploadBytes: e.MAX_UPLOAD_BYTES, maxPages: e.MAX_PAGES, maxBatchFiles: e.MAX_BATCH_FILES },
    uploads: uploadStoreOf(storageConfigOf(e), e.UPLOAD_EXPIRY_HOURS * 3600 * 1000),
    pipeline: {
      dpi: e.OCR_DPI,
      renderMaxPixels: e.RENDER_MAX_PIXELS,
      ocrWorkers: e.OCR_WORKERS,
      ocrModel: e.OCR_MODEL,
      models:
        tessdataDir !== undefined ? { tessdataDir } : { model: e.OCR_MODEL === 'default' ? 'default' : 'best_int' },
      tessdataDir,
      deskew: e.OCR_DESKEW === 'true',
      ocrWorkerMaxPages: e.OCR_WORKER_MAX_PAGES,
      defaultLanguages: languages,
      orientation: e.OCR_DETECT_ORIENTATION === 'true' ? { minConfidence: e.OCR_ORIENTATION_MARGIN } : undefined,
      pdfThreads: e.PDF_THREADS,
      // One render (~0.4 s) keeps ~6 OCR workers (~2.7 s a page each) fed: more would only raise the peak.
      pdfMaxRenders: Math.min(e.PDF_THREADS, e.PDF_MAX_RENDERS ?? Math.ceil(e.OCR_WORKERS / 4)),
      pdfThreadHeapMb: e.PDF_THREAD_HEAP_MB,
      pdfTaskTimeoutMs: e.PDF_TASK_TIMEOUT_SECONDS * 1000,
      // Page activities spend most of their time waiting for an OCR engine; a few more than the
      // OCR pool keeps renders and text-layer pages flowing while OCR runs.
      workerMaxActivities: e.WORKER_MAX_ACTIVITIES ?? e.OCR_WORKERS * 2,
      pageWindow: e.PAGE_WINDOW,
      pagesPerChildWorkflow: e.PAGES_PER_CHILD_WORKFLOW,
      pageTimeoutSeconds: e.PAGE_TIMEOUT_SECONDS,
      pageMaxAttempts: e.PAGE_MAX_ATTEMPTS,
      pageHeartbeatTimeoutSeconds: e.PAGE_HEARTBEAT_SECONDS,
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
    metrics: { host: e.METRICS_HOST, apiPort: e.METRICS_PORT, workerPort: e.WORKER_METRICS_PORT },
    rateLimit: {
      requests: e.RATE_LIMIT_REQUESTS,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      maxDocumentsInFlightPerKey: e.MAX_IN_FLIGHT_PER_KEY,
    },
    cors: { origins: corsOrigins },
    ...(e.FAULT_PAUSE_AT ? { faultPauseAt: e.FAULT_PAUSE_AT } : {}),
    documentPasswords: {
      secretKey: e.DOCUMENT_SECRET_KEY === undefined ? undefined : parseSecretKey(e.DOCUMENT_SECRET_KEY),
      waitSeconds: e.PASSWORD_WAIT_SECONDS,
    },
    webhooks: {
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryInitialMs: e.WEBHOOK_RETRY_INITIAL_MS,
      retryMaxMs: Math.max(e.WEBHOOK_RETRY_MAX_MS, e.WEBHOOK_RETRY_INITIAL_MS),
      secretOverlapSeconds: e.WEBHOOK_SECRET_OVERLAP_SECONDS,
    },
    malwareScan:
      e.MALWARE_SCAN === 'clamav'
        ? {
            kind: 'clamav',
            clamd: {
              address: parseClamdUrl(e.CLAMD_URL)!,
              connectTimeoutMs: e.CLAMD_CONNECT_TIMEOUT_MS,
              timeoutMs: e.CLAMD_TIMEOUT_MS,
            },
          }
        : { kind: 'off' },
  };
}

/**
 * The store STORAGE_URL names: a folder (a plain path or a file:// URL; unset: STORAGE_DIR), or s3://bucket/prefix
 * with the endpoint, region and path style of the standard AWS variables. Anything else is a ConfigError.
 */
function storageConfigOf(e: Env): StorageConfig {
  const bad = (why: string) => new ConfigError(`Invalid configuration:\n  ${why}`);
  const url = e.STORAGE_URL?.trim();
  if (url === undefined || url === '') return { kind: 'local', dir: path.resolve(cwd, e.STORAGE_DIR) };
  if (url.startsWith('file:')) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw bad(
        `STORAGE_URL: "${url}" is not a file URL (${(err as Error).message}); use file:///absolute/folder or a plain path`,
      );
    }
    return { kind: 'local', dir };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return { kind: 'local', dir: path.resolve(cwd, url) };
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!match) {
    throw bad(
      `STORAGE_URL: "${url}" names no store Folio has; use a folder (a path or file:///folder) or an S3 bucket (s3://bucket or s3://bucket/prefix)`,
    );
  }
  const bucket = match[1]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw bad(`STORAGE_URL: "${bucket}" is not a bucket name (3–63 lower-case letters, digits, dots and hyphens)`);
  }
  const rawPrefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (rawPrefix !== '' && !/^[A-Za-z0-9!_.*'()/-]+$/.test(rawPrefix)) {
    throw bad(`STORAGE_URL: the prefix "${rawPrefix}" may hold only letters, digits, / and !_.*'()-`);
  }
  if ((e.AWS_ACCESS_KEY_ID === undefined) !== (e.AWS_SECRET_ACCESS_KEY === undefined)) {
    throw bad(
      `${e.AWS_ACCESS_KEY_ID === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'}: required with ${e.AWS_ACCESS_KEY_ID === undefined ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'}; set both, or neither for the SDK's other credential sources`,
    );
  }
  const endpoint = e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) {
    throw bad(`AWS_ENDPOINT_URL(_S3): "${endpoint}" is not an http(s) URL`);
  }
  return {
    kind: 's3',
    bucket,
    prefix: rawPrefix === '' ? '' : `${rawPrefix}/`,
    ...(endpoint !== undefined ? { endpoint } : {}),
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: e.S3_FORCE_PATH_STYLE !== undefined ? e.S3_FORCE_PATH_STYLE === 'true' : endpoint !== undefined,
    cache: { dir: path.resolve(cwd, e.STORAGE_CACHE_DIR), maxBytes: e.STORAGE_CACHE_BYTES },
  };
}

/**
 * Unfinished resumable uploads: beside a folder store's documents (its `uploads/` folder), so the API and the
 * workers that share the folder share them too; with a bucket, in the bucket under `<prefix>uploads/`, so any
 * API process resumes any upload and no folder is shared.
 */
function uploadStoreOf(storage: StorageConfig, expiryMs: number): UploadStoreSettings {
  if (storage.kind === 's3') return { kind: 's3', location: storage, expiryMs };
  return { kind: 'local', dir: path.join(storage.dir, UPLOADS_FOLDER), expiryMs };
}

/** What scripts/install-qpdf.sh installs: qpdf and tesseract's glyphless font (QPDF_PATH, GLYPHLESS_FONT_PATH). */
export const DEFAULT_QPDF_PATH = path.join('.tools', 'qpdf', 'bin', 'qpdf');
export const DEFAULT_GLYPHLESS_FONT_PATH = path.join('.tools', 'qpdf', 'share', 'pdf.ttf');

/** Where OCR_MODEL=fast reads its models when OCR_TESSDATA_DIR is unset. */
export const DEFAULT_TESSDATA_DIR = path.join('.tools', 'tessdata');

/** The models of every default language are in `tessdataDir`, or a ConfigError says how to install them. */
function checkModels(tessdataDir: string, languages: string[]): void {
  let found: string[];
  try {
    found = installedLanguages({ tessdataDir });
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration:\n  OCR_TESSDATA_DIR: cannot read ${tessdataDir} (${String(err)}); install the models with \`bash scripts/install-languages.sh ${languages.join(' ')}\`, or set OCR_MODEL=best_int for the npm packages' models`,
    );
  }
  const missing = languages.filter((l) => !found.includes(l));
  if (missing.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n  OCR_TESSDATA_DIR: ${tessdataDir} has no <code>.traineddata[.gz] for ${missing.join(', ')} (DEFAULT_LANGUAGES); it has: ${found.join(', ') || 'none'}. Install them with \`bash scripts/install-languages.sh ${missing.join(' ')}\`.`,
    );
  }
}

/**
 * Every rule production adds, for a process of `role`: what may not be left to a default or set to a
 * development value there. Outside production none applies (npm start and npm test provide what they need).
 */
function productionProblems(e: Env, role: ProcessRole): string[] {
  if (e.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (e.API_AUTH === 'disabled') problems.push('API_AUTH: "disabled" is not allowed when NODE_ENV is production');
  if (e.FAULT_PAUSE_AT) problems.push('FAULT_PAUSE_AT: a test-only setting, not allowed when NODE_ENV is production');
  if ((role === 'api' || role === 'worker') && e.DOCUMENT_SECRET_KEY === undefined) {
    problems.push(
      'DOCUMENT_SECRET_KEY is required in production: 32 random bytes as base64 or 64 hex digits (e.g. `openssl rand -base64 32`), the same for every API and worker process.',
    );
  }
  if (role === 'api') {
    if (e.SESSION_SECRET === undefined) {
      problems.push('SESSION_SECRET is required in production (32+ random characters) to sign panel sessions.');
    }
    const weak = e.ADMIN_PASSWORD === undefined ? null : passwordProblem(e.ADMIN_PASSWORD);
    if (weak) problems.push(`ADMIN_PASSWORD is too weak (${weak}); production refuses it.`);
  }
  return problems;
}
