import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { planChromium, testsNeedingChromium } from '../../../scripts/lib/chromium.js';
import { repoRoot } from '../../support/stack.js';

const NEEDED_BY = ['test/src/admin/panel.test.ts'];

/** A machine with these files, as root or not, with this environment. */
function machine(files: string[], isRoot: boolean, env: NodeJS.ProcessEnv = {}) {
  return { env, isRoot, exists: (f: string) => files.includes(f) };
}

describe('npm test and Chromium (planChromium)', () => {
  it("uses Debian's chromium, or CHROMIUM_PATH, when it is there", () => {
    assert.deepEqual(planChromium(machine(['/usr/bin/chromium'], false), NEEDED_BY), {
      action: 'use',
      path: '/usr/bin/chromium',
    });
    const custom = machine(['/opt/chrome/chrome', '/usr/bin/apt-get'], true, { CHROMIUM_PATH: '/opt/chrome/chrome' });
    assert.deepEqual(planChromium(custom, NEEDED_BY), { action: 'use', path: '/opt/chrome/chrome' });
  });

  it("installs Debian's chromium with apt-get when it is missing and npm test runs as root", () => {
    assert.deepEqual(planChromium(machine(['/usr/bin/apt-get'], true), NEEDED_BY), {
      action: 'install',
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', 'chromium'],
      ],
    });
  });

  it('otherwise stops with the exact command to run', () => {
    const plan = planChromium(machine(['/usr/bin/apt-get'], false), NEEDED_BY);
    assert.equal(plan.action, 'stop');
    const { message } = plan as { message: string };
    assert.match(message, /^ {2}sudo apt-get install -y chromium$/m);
    assert.match(message, /test\/src\/admin\/panel\.test\.ts/);
    assert.match(message, /CHROMIUM_PATH/);

    const elsewhere = planChromium(machine([], false), NEEDED_BY);
    assert.equal(elsewhere.action, 'stop');
    assert.match((elsewhere as { message: string }).message, /set CHROMIUM_PATH to its binary/);
  });

  it('never installs over a CHROMIUM_PATH that points nowhere, even as root: it says so', () => {
    const plan = planChromium(machine(['/usr/bin/apt-get'], true, { CHROMIUM_PATH: '/opt/none/chrome' }), NEEDED_BY);
    assert.equal(plan.action, 'stop');
    assert.match((plan as { message: string }).message, /CHROMIUM_PATH is \/opt\/none\/chrome, which does not exist/);
  });

  it('asks for Chromium only for the selected test files that launch it', () => {
    const compiled = (f: string) => path.join(repoRoot, 'dist', f.replace(/\.ts$/, '.js'));
    const files = [
      'test/src/admin/panel.test.ts',
      'test/src/admin/schedules-panel.test.ts',
      'test/core/page-range.test.ts',
    ];
    assert.deepEqual(testsNeedingChromium(files.map(compiled), repoRoot), files.slice(0, 2));
    assert.deepEqual(testsNeedingChromium([compiled('test/src/admin/first-operator.test.ts')], repoRoot), []);
  });
});
