import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { planTools, toolsNeeded } from '../../../scripts/lib/test-tools.js';
import { repoRoot } from '../../support/stack.js';

const POPPLER = { pkg: 'poppler-utils', file: '/usr/bin/pdftotext', neededBy: ['test/e2e/searchable-pdf.test.ts'] };
const TESSERACT = { pkg: 'tesseract-ocr', file: '/usr/bin/tesseract', neededBy: ['test/core/outputs.test.ts'] };

function machine(files: string[], isRoot: boolean) {
  return { isRoot, exists: (f: string) => files.includes(f) };
}

describe('npm test and the programs tests call (planTools)', () => {
  it('does nothing when the programs are there, or none is needed', () => {
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

  it('otherwise stops naming each program, the tests that call it and the exact command', () => {
    const plan = planTools(machine(['/usr/bin/apt-get'], false), [POPPLER, TESSERACT]);
    assert.equal(plan.action, 'stop');
    assert.ok(plan.action === 'stop');
    assert.match(plan.message, /\/usr\/bin\/pdftotext \(Debian's poppler-utils\), called by test\/e2e\/searchable-pdf/);
    assert.match(plan.message, /sudo apt-get install -y poppler-utils tesseract-ocr/);
  });

  it('finds the callers among the compiled tests', () => {
    const dist = path.join(repoRoot, 'dist', 'test');
    const files = ['core/outputs.test.js', 'e2e/searchable-pdf.test.js', 'core/languages.test.js'].map((f) =>
      path.join(dist, f),
    );
    const needs = toolsNeeded(files, repoRoot);
    assert.deepEqual(
      needs.map((n) => [n.pkg, n.neededBy]),
      [
        ['poppler-utils', ['test/e2e/searchable-pdf.test.ts']],
        ['tesseract-ocr', ['test/core/outputs.test.ts']],
      ],
    );
  });
});
