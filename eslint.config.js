// Type-aware linting. The workflow boundary is enforced here: workflows/ may import only
// @temporalio/workflow, local contracts and types from activities.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      '.tools/',
      'data/',
      'test-results/',
      '.venv-fuzz/',
      'eslint.config.js',
      '.dependency-cruiser.cjs',
      'scripts/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it register tests; the runner awaits them.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      // Abort reasons are whatever the signal carries; passing them on unchanged is the point.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'Workflow code is deterministic: no Node built-ins.' },
            {
              regex: '^(fs|path|crypto|os|child_process|net|http|https|stream|url|util|worker_threads)$',
              message: 'No Node built-ins in workflows.',
            },
            {
              regex:
                '^(sequelize|pg|@nestjs/.*|pdfjs-dist.*|tesseract\\.js.*|sharp|@temporalio/(client|worker|activity))$',
              message: 'Only @temporalio/workflow and local contracts in workflows.',
            },
            { regex: '^\\.\\./src/', message: 'No application code in workflows.' },
            { regex: '^\\.\\./activities/', message: 'Use `import type` for activities.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
