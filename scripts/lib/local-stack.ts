import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.js';
import type { StorageConfig } from '../../core/storage/create-storage.js';
import { runningEmbeddedPostgres } from './embedded-postgres.js';

/** The project's root, from this file's place in dist/scripts/lib/. */
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The databases `npm start` creates on its embedded PostgreSQL. */
export const EMBEDDED_DATABASES = { app: 'folio', legacy: 'folio_legacy' } as const;

/** Where `npm start` keeps its state (PostgreSQL, Temporal's SQLite file, storage, keys, logs). */
export function localDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.FOLIO_DATA_DIR ?? path.join(projectRoot, 'data'));
}

/**
 * The app DB a command-line script (`npm run migrate`, `npm run api-key`) works on: APP_DATABASE_URL when
 * set; else, when `npm start` has set up its embedded PostgreSQL in the data folder, that server's app
 * database (`embedded` says which; throws when it is not running); else the configured default.
 */
export function appDatabaseUrl(env: NodeJS.ProcessEnv = process.env): { url: string; embedded?: string } {
  if (!env.APP_DATABASE_URL) {
    const dataDir = path.join(localDataDir(env), 'postgres');
    const embedded = runningEmbeddedPostgres(dataDir);
    if (embedded) {
      return {
        url: embedded.url(EMBEDDED_DATABASES.app),
        embedded: `npm start's PostgreSQL on 127.0.0.1:${embedded.port} (${dataDir})`,
      };
    }
  }
  return { url: loadConfig(env).database.appUrl };
}

/**
 * The document store a command-line script (`npm run backup`, `npm run restore`) works on: the configured one
 * (STORAGE_URL, STORAGE_DIR); when neither is set and the app DB is `npm start`'s embedded one, npm start's
 * folder in the data folder, as scripts/dev.ts sets it.
 */
export function appStorageConfig(embedded: boolean, env: NodeJS.ProcessEnv = process.env): StorageConfig {
  if (embedded && !env.STORAGE_URL && !env.STORAGE_DIR)
    return { kind: 'local', dir: path.join(localDataDir(env), 'storage') };
  return loadConfig(env).storage;
}
