import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NANUM_GOTHIC, planFonts, testsNeedingFonts } from '../../../scripts/lib/test-fonts.js';
import { repoRoot } from '../../support/stack.js';

const NEEDED_BY = ['test/activities/page-languages.test.ts'];

/** A machine with these files, as root or not. */
function machine(files: string[], isRoot: boolean) {
  return { isRoot, exists: (f: string) => files.includes(f) };
}

describe('npm test and the Korean font (planFonts)', () => {
  it("uses Debian's NanumGothic when it is there", () => {
    assert.deepEqual(planFonts(machine([NANUM_GOTHIC], false), NEEDED_BY), { action: 'use' });
  });

  it("installs Debian's fonts-nanum with apt-get when it is missing and npm test runs as root", () => {
    assert.deepEqual(planFonts(machine(['/usr/bin/apt-get'], true), NEEDED_BY), {
      action: 'install',
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', 'fonts-nanum'],
      ],
    });
  });

  it('otherwise stops with the exact command to run', () => {
    const plan = planFonts(machine(['/usr/bin/apt-get'], false), NEEDED_BY);
    assert.equal(plan.action, 'stop');
    const { message } = plan as { message: string };
    assert.match(message, /^ {2}sudo apt-get install -y fonts-nanum$/m);
    assert.match(message, /test\/activities\/page-languages\.test\.ts/);
  });

  it('knows which compiled test files draw scans with the font', () => {
    const dist = path.join(repoRoot, 'dist', 'test');
    const files = ['activities/page-languages.test.js', 'e2e/languages.test.js', 'core/page-range.test.js'].map((f) =>
      path.join(dist, f),
    );
    assert.ok(files.every((f) => fs.existsSync(f)));
    assert.deepEqual(testsNeedingFonts(files, repoRoot), [
      'test/activities/page-languages.test.ts',
      'test/e2e/languages.test.ts',
    ]);
  });
});
