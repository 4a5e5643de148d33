import fs from 'node:fs';
import path from 'node:path';
import { freeLoopbackPort } from '../../src/common/ports.js';
import { migrate } from '../migrate.js';
import { localDocumentSecretKey } from './document-secret-key.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { startDevServer, type TemporalDevServer } from './temporal-dev-server.js';
import { startS3Server, type S3Server } from './s3-server.js';

/** A free loopback port, for the services and Folio processes tests and benchmarks start. */
export const freePort = freeLoopbackPort;

/**
 * Real PostgreSQL, Temporal and an S3-compatible server (versitygw) for tests and benchmarks, in a folder of
 * their own, on free ports. Folio's processes keep their documents in the server's bucket (STORAGE_URL);
 * STORAGE_DIR names a folder for the tests that pin the folder store (STORAGE_URL=<STORAGE_DIR>).
 */
export interface Services {
  /** What a Folio process needs to use them. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The bucket the harness creates. */
export const TEST_BUCKET = 'folio-test';

/** Starts them in `dir` (which must be traversable by the postgres user) and applies the migrations. */
export async function startServices(projectRoot: string, dir: string, log: (line: string) => void): Promise<Services> {
  fs.mkdirSync(dir, { recursive: true });
  let postgres: EmbeddedDatabase | undefined;
  let temporal: (TemporalDevServer & { binary?: string }) | undefined;
  let s3: S3Server | undefined;
  const stop = async () => {
    await temporal?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    await s3?.stop().catch(() => undefined);
  };
  try {
    s3 = await startS3Server({
      projectRoot,
      dir: path.join(dir, 's3'),
      port: await freePort(),
      bucket: TEST_BUCKET,
      log,
    });
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'postgres'),
      port: await freePort(),
      databases: ['folio_test', 'folio_test_legacy'],
      log,
    });
    temporal = await startDevServer(projectRoot, {
      port: await freePort(),
      dbFile: path.join(dir, 'temporal.db'),
      log,
    });
    await migrate(postgres.url('folio_test'));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    env: {
      APP_DATABASE_URL: postgres.url('folio_test'),
      LEGACY_DATABASE_URL: postgres.url('folio_test_legacy'),
      TEMPORAL_ADDRESS: temporal.address,
      STORAGE_DIR: path.join(dir, 'storage'),
      ...s3.env(),
      // Each worker a test starts gets a cache folder of its own beside this one (test/support/stack.ts).
      STORAGE_CACHE_DIR: path.join(dir, 'storage-cache'),
      DOCUMENT_SECRET_KEY: localDocumentSecretKey(path.join(dir, 'document-secret.key')),
      ...(temporal.binary ? { TEMPORAL_CLI_PATH: temporal.binary } : {}),
    },
    stop,
  };
}
