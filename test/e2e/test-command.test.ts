/**
 * The README's test command before it starts anything: selected tests that launch Chromium, with no
 * Chromium to launch, stop it at once with what to run — no PostgreSQL, no Temporal, no test file run.
 * (The decision itself, install as root or stop, is test/scripts/lib/chromium.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../support/stack.js';

/** The test command's runner on a filter, with these variables: its exit code and everything it printed. */
async function runTests(filter: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/scripts/run-tests.js'), filter], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, output };
}

describe('npm test (scripts/run-tests.ts) and what its tests need outside npm', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-no-chromium-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('stops before starting any service when the browser tests have no Chromium, saying what to do', async () => {
    const missing = path.join(tmp, 'bin', 'chromium');
    // The runner makes its service folder under TMPDIR: an empty one shows whether it got that far.
    const servicesTmp = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
    const { code, output } = await runTests('admin/panel.test', { CHROMIUM_PATH: missing, TMPDIR: servicesTmp });

    assert.equal(code, 1, output);
    assert.match(
      output,
      /^npm test: The admin panel's browser tests \(test\/src\/admin\/panel\.test\.ts\) drive Chromium/,
    );
    assert.ok(output.includes(`CHROMIUM_PATH is ${missing}, which does not exist.\n`), output);
    assert.match(
      output,
      /Point CHROMIUM_PATH at a Chromium binary, or unset it to use Debian's \(\/usr\/bin\/chromium/,
    );
    assert.match(output, /\nNothing was started\.\n$/);
    assert.doesNotMatch(output, /services up/);
    assert.deepEqual(fs.readdirSync(servicesTmp), [], 'no service folder was made');
  });

  it('stops before starting any service when the S3-compatible server is missing, naming the install command', async () => {
    const servicesTmp = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
    const missing = path.join(tmp, 'bin', 'versitygw');
    const { code, output } = await runTests('core/page-range', { VERSITYGW_PATH: missing, TMPDIR: servicesTmp });
    assert.equal(code, 1, output);
    assert.ok(output.includes(`VERSITYGW_PATH is ${missing}, which does not exist`), output);
    assert.ok(output.includes('\n  bash scripts/install-s3-server.sh\n'), output);
    assert.match(output, /Nothing was started\./);
    assert.deepEqual(fs.readdirSync(servicesTmp), [], 'no service folder was made');
  });
});
