/**
 * Folio's module boundaries, checked by `npm run check` (docs/architecture.md). A module is a top-level
 * source root (core, workflows, activities, src, …) or a folder under src/. Only imports that survive
 * compilation count: `import type` does not (tsPreCompilationDeps: false).
 *
 *   core/          the bottom: what both processes share, free of Nest and of the engines
 *   workflows/     deterministic orchestration; imports only @temporalio/workflow and core's pure contracts
 *   activities/    the worker's side effects; adapters/ are the only code that calls pdf.js, tesseract.js and sharp
 *   src/           the API (Nest modules) and src/worker.ts, which wires the activities into a Temporal worker
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-module-cycle',
      comment: 'No module imports another module that imports it back.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-file-cycle',
      comment: 'No file imports another that imports it back.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-the-bottom',
      comment: 'core/ is what the API and the worker share: it imports no other part of Folio.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^(src|activities|workflows|migrations|scripts|bench|cli|test)/' },
    },
    {
      name: 'core-is-framework-free',
      comment: 'core/ never imports Nest, AdminJS or an engine: both processes (and workflow code) load it.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: 'node_modules/(@nestjs|adminjs|@adminjs|pdfjs-dist|tesseract\\.js|sharp|@img|piscina|@napi-rs)/' },
    },
    {
      name: 'workflows-import-contracts-only',
      comment:
        'Workflow code is deterministic and bundled: only @temporalio/workflow, other workflow files and the ' +
        'pure parts of core/ (contracts, lifecycle, failures); activities by `import type` only.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        pathNot: [
          '^workflows/',
          '^core/(contracts|lifecycle|failures)\\.ts$',
          'node_modules/@temporalio/(workflow|common)/',
        ],
      },
    },
    {
      name: 'activities-never-import-the-api',
      comment: 'Activities are plain functions: never a Nest module, never the API.',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: ['^src/', 'node_modules/(@nestjs|adminjs|@adminjs)/'] },
    },
    {
      name: 'engines-only-in-adapters',
      comment:
        'Only activities/adapters/ call pdf.js, tesseract.js and sharp (tests and the bench may use them directly).',
      severity: 'error',
      from: { pathNot: '^(activities/adapters/|test/|bench/)' },
      to: { path: 'node_modules/(pdfjs-dist|tesseract\\.js|sharp)/' },
    },
    {
      name: 'the-api-never-imports-the-worker',
      comment: 'The API stands beside the worker, never on it: only src/worker.ts wires the activities.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/worker\\.ts$' },
      to: { path: '^activities/' },
    },
    {
      name: 'entry-points-are-not-imported',
      comment: 'src/main.ts and src/worker.ts start processes; nothing imports them.',
      severity: 'error',
      from: {},
      to: { path: '^src/(main|worker)\\.ts$' },
    },
    {
      name: 'production-code-never-imports-tools',
      comment: 'Tests, the bench, scripts and the CLI stand on the product, never under it.',
      severity: 'error',
      from: { path: '^(core|src|activities|workflows|migrations)/' },
      to: { path: '^(test|bench|scripts|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|data|\\.tools|test-results|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: false,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
