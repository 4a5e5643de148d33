import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { planTools, toolsNeeded } from '../../../scripts/lib/test-tools.js';
import { repoRoot } from '../../support/stack.js';

const POPPLER = { pkg: 'poppler-utils', file: '/usr/bin/pdftotext', neededBy: ['test/e2e/searchable-pdf.test.ts'] };
const TESSERACT = { pkg: 'tesseract-ocr', file: '/usr/bin/tesseract', neededBy: ['test/core/outputs.test.ts'] };

function machine(files: string[], isRoot: boolean) {
  return { isRoot, exists: (f: string) => files.includes(f) };
}

describe('npm test and the Debian packages tests need (planTools)', () => {
  it('does nothing when the packages are there, or none is needed', () => {
    assert.deepEqual(planTools(machine([POPPLER.file, TESSERACT.file], false), [POPPLER, TESSERACT]), {
      action: 'use',
    });
    assert.deepEqual(planTools(machine([], false), []), { action: 'use' });
  });

  it('installs only the missing packages with apt-get when root', () => {
    assert.deepEqual(planTools(machine(['/usr/bin/apt-get', POPPLER.file], true), [POPPLER, TESSERACT]), {
      action: 'install',
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', 'tesseract-ocr'],
      ],
    });
  });

  it('otherwise stops naming each missing file, its package, the tests that need it and the exact command', () => {
    const plan = planTools(machine(['/usr/bin/apt-get'], false), [POPPLER, TESSERACT]);
    assert.equal(plan.action, 'stop');
    assert.ok(plan.action === 'stop');
    assert.match(plan.message, /\/usr\/bin\/pdftotext \(Debian's poppler-utils\), needed by test\/e2e\/searchable-pdf/);
    assert.match(plan.message, /sudo apt-get install -y poppler-utils tesseract-ocr/);
  });

  it('finds which compiled tests need each package: the Korean font, pdftotext, the tesseract CLI, docker-compose', () => {
    const dist = path.join(repoRoot, 'dist', 'test');
    const files = [
      'activities/page-languages.test.js',
      'core/outputs.test.js',
      'e2e/searchable-pdf.test.js',
      'core/page-range.test.js',
      'deploy/compose.test.js',
    ].map((f) => path.join(dist, f));
    assert.ok(files.every((f) => fs.existsSync(f)));
    const needs = toolsNeeded(files, repoRoot);
    assert.deepEqual(
      needs.map((n) => [n.pkg, n.neededBy]),
      [
        ['fonts-nanum', ['test/activities/page-languages.test.ts']],
        ['poppler-utils', ['test/e2e/searchable-pdf.test.ts']],
        ['tesseract-ocr', ['test/core/outputs.test.ts']],
        ['docker-compose', ['test/deploy/compose.test.ts']],
      ],
    );
  });
});
