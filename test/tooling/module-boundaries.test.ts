/**
 * The module boundaries `npm run check` enforces (.dependency-cruiser.cjs): the tree as it is passes, and
 * each kind of violation — a module cycle, a file cycle, core importing upwards, the API importing the
 * worker, an activity importing the API, workflow code importing more than contracts, an engine outside
 * the adapters — makes the check fail naming its rule.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../support/stack.js';

const depcruise = path.join(repoRoot, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const config = path.join(repoRoot, '.dependency-cruiser.cjs');

/** Runs the check the way `npm run check` does, in `dir`. */
function check(dir: string, roots: string[]): { ok: boolean; output: string } {
  const run = spawnSync(process.execPath, [depcruise, ...roots, '--config', config, '--output-type', 'err'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/**
 * A small source tree laid out like Folio's, inside the repository so that npm packages resolve from its
 * node_modules. Each file imports the given specifiers (relative ones end in .js, as in the real code).
 */
function tree(files: Record<string, string[]>): string {
  const dir = fs.mkdtempSync(path.join(repoRoot, 'test-results', 'boundaries-'));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  );
  for (const [file, imports] of Object.entries(files)) {
    const target = path.join(dir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const lines = imports.map((spec, i) =>
      spec.startsWith('type ')
        ? `import type { T${i} } from '${spec.slice(5)}';\nexport type U${i} = T${i};`
        : `import * as m${i} from '${spec}';\nexport const v${i} = m${i};`,
    );
    fs.writeFileSync(target, `${lines.join('\n')}\nexport type T = number;\nexport const here = 1;\n`);
  }
  return dir;
}

const roots = ['core', 'src', 'activities', 'workflows'];
const made: string[] = [];
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function checkTree(files: Record<string, string[]>) {
  const dir = tree(files);
  made.push(dir);
  return check(
    dir,
    roots.filter((r) => fs.existsSync(path.join(dir, r))),
  );
}

describe('module boundaries (npm run check)', () => {
  fs.mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });

  it('passes on the repository as it is', () => {
    const result = check(repoRoot, ['core', 'src', 'activities', 'workflows', 'migrations', 'scripts', 'bench', 'cli']);
    assert.ok(result.ok, result.output);
  });

  it('passes on a tree that keeps every rule, type-only imports across a cycle included', () => {
    const result = checkTree({
      'core/contracts.ts': [],
      'core/storage.ts': ['./contracts.js'],
      'workflows/document.ts': ['../core/contracts.js', '@temporalio/workflow', 'type ../activities/index.js'],
      'activities/index.ts': ['../core/storage.js', './adapters/pdfjs.js'],
      'activities/adapters/pdfjs.ts': ['pdfjs-dist/legacy/build/pdf.mjs'],
      'src/jobs/jobs.ts': ['../../core/contracts.js'],
      'src/documents/documents.ts': ['../jobs/jobs.js'],
      // A cycle made only of `import type` does not count: it is gone after compilation.
      'src/jobs/views.ts': ['type ../documents/documents.js'],
      'src/worker.ts': ['../activities/index.js'],
    });
    assert.ok(result.ok, result.output);
  });

  const violations: [rule: string, files: Record<string, string[]>][] = [
    [
      'no-module-cycle',
      {
        'src/jobs/control.ts': ['../documents/passwords.js'],
        'src/jobs/views.ts': [],
        'src/documents/passwords.ts': [],
        'src/documents/service.ts': ['../jobs/views.js'],
      },
    ],
    ['no-file-cycle', { 'core/a.ts': ['./b.js'], 'core/b.ts': ['./a.js'] }],
    ['core-is-the-bottom', { 'core/a.ts': ['../src/jobs/jobs.js'], 'src/jobs/jobs.ts': [] }],
    ['core-is-framework-free', { 'core/a.ts': ['@nestjs/common'] }],
    ['workflows-import-contracts-only', { 'workflows/w.ts': ['../core/storage.js'], 'core/storage.ts': [] }],
    ['workflows-import-contracts-only', { 'workflows/w.ts': ['node:fs'] }],
    ['activities-never-import-the-api', { 'activities/a.ts': ['../src/common/c.js'], 'src/common/c.ts': [] }],
    ['activities-never-import-the-api', { 'activities/a.ts': ['@nestjs/common'] }],
    [
      'the-api-never-imports-the-worker',
      { 'src/documents/d.ts': ['../../activities/adapters/pdfjs.js'], 'activities/adapters/pdfjs.ts': [] },
    ],
    ['engines-only-in-adapters', { 'src/documents/d.ts': ['pdfjs-dist/legacy/build/pdf.mjs'] }],
    ['entry-points-are-not-imported', { 'src/jobs/j.ts': ['../worker.js'], 'src/worker.ts': [] }],
  ];
  for (const [rule, files] of violations) {
    it(`fails with ${rule} on ${Object.entries(files)
      .filter(([, imports]) => imports.length > 0)
      .map(([file, imports]) => `${file} → ${imports.join(', ')}`)
      .join('; ')}`, () => {
      const result = checkTree(files);
      assert.equal(result.ok, false, `the check passed:\n${result.output}`);
      assert.match(result.output, new RegExp(`\\b${rule}\\b`), result.output);
    });
  }
});
