/**
 * Where the tests run: the repository, the shared corpus, and the services the harness (scripts/run-tests.ts)
 * started. The bottom of test/support/: it imports none of the other helpers.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repo root, found from the compiled file's place (dist/test/support/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const corpusDir = path.resolve(process.env.FOLIO_CORPUS_DIR ?? path.join(repoRoot, '../shared/corpus'));

/** Environment the test harness (scripts/run-tests.ts) set up: real Temporal and PostgreSQL. */
export function harnessEnv(): NodeJS.ProcessEnv {
  for (const name of ['APP_DATABASE_URL', 'LEGACY_DATABASE_URL', 'TEMPORAL_ADDRESS', 'STORAGE_DIR']) {
    if (!process.env[name]) throw new Error(`${name} is not set: run the tests with "npm test"`);
  }
  return process.env;
}
