// Runs before `npm start` and `npm test`: makes a fresh clone runnable with no other step.
// Installs the locked npm packages if they are missing, and the temporal CLI into .tools/.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

if (!existsSync('node_modules/.package-lock.json')) run('npm', ['ci', '--no-audit', '--no-fund']);
if (!process.env.TEMPORAL_ADDRESS || process.env.npm_lifecycle_event === 'pretest') {
  try {
    run('bash', ['scripts/install-temporal.sh']);
  } catch {
    console.warn('[folio] could not install the temporal CLI; the Temporal SDK will download it instead');
  }
}
// The API fuzzer of test/e2e/fuzz.test.ts (from PyPI, into .venv-fuzz/); that test fails without it.
if (process.env.npm_lifecycle_event === 'pretest') run('bash', ['scripts/install-schemathesis.sh']);
