import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../scripts/migrate.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../scripts/lib/embedded-postgres.js';
import { freePort } from '../../scripts/lib/services.js';
import { startDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-dev-server.js';
import { repoRoot } from './stack.js';

/**
 * A PostgreSQL and a Temporal dev server of one test file's own (free ports, data under FOLIO_TEST_TMP), so
 * the file can stop and restart them without disturbing the harness's pair that other files use. Both keep
 * their data across a restart: the same data directory, the same SQLite file, the same ports.
 */
export interface OwnServices {
  /** What a Folio process needs to use them (overrides the harness's variables). */
  env: NodeJS.ProcessEnv;
  storageDir: string;
  /** The service log, for failure messages. */
  log: string[];
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  stop(): Promise<void>;
}

const APP_DB = 'folio_faults';
const LEGACY_DB = 'folio_faults_legacy';

export async function startOwnServices(name: string): Promise<OwnServices> {
  const dir = path.join(process.env.FOLIO_TEST_TMP ?? os.tmpdir(), `${name}-${randomUUID().slice(0, 8)}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const log: string[] = [];
  const keep = (line: string) => {
    log.push(line);
    if (log.length > 500) log.shift();
  };
  const pgPort = await freePort();
  const temporalPort = await freePort();
  let postgres: EmbeddedDatabase | undefined;
  let temporal: TemporalDevServer | undefined;

  const startPostgres = async () => {
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'postgres'),
      port: pgPort,
      databases: [APP_DB, LEGACY_DB],
      log: keep,
    });
  };
  const startTemporal = async () => {
    temporal = await startDevServer(repoRoot, { port: temporalPort, dbFile: path.join(dir, 'temporal.db'), log: keep });
  };
  const stopPostgres = async () => {
    await postgres?.stop();
    postgres = undefined;
  };
  const stopTemporal = async () => {
    await temporal?.stop();
    temporal = undefined;
  };
  const stop = async () => {
    await Promise.allSettled([stopTemporal(), stopPostgres()]);
  };

  try {
    await startPostgres();
    await startTemporal();
    await migrate(postgres!.url(APP_DB));
  } catch (err) {
    await stop();
    throw err;
  }
  const storageDir = path.join(dir, 'storage');
  return {
    env: {
      APP_DATABASE_URL: postgres!.url(APP_DB),
      LEGACY_DATABASE_URL: postgres!.url(LEGACY_DB),
      TEMPORAL_ADDRESS: temporal!.address,
      STORAGE_DIR: storageDir,
      // The folder store: the tests look at the files (the harness's default, its bucket, is another server).
      STORAGE_URL: storageDir,
    },
    storageDir,
    log,
    stopPostgres,
    startPostgres,
    stopTemporal,
    startTemporal,
    stop,
  };
}
