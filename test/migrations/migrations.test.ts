/** The app-DB migrations apply up and down cleanly on a real PostgreSQL, and up again. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrate } from '../../scripts/migrate.js';
import { harnessEnv, repoRoot } from '../support/stack.js';

describe('migrations', () => {
  const base = new URL(harnessEnv().APP_DATABASE_URL!);
  const scratch = `folio_migrations_${process.pid}`;
  const url = Object.assign(new URL(base), { pathname: `/${scratch}` }).toString();
  const admin = new pg.Client({ connectionString: base.toString() });

  async function tables(): Promise<string[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      return rows.map((r) => r.table_name);
    } finally {
      await client.end();
    }
  }

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(scratch)}`);
  });
  after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(scratch)}`);
    await admin.end();
  });

  it('applies every migration, reverts every one, and applies them again; a second up does nothing', async () => {
    const applied = await migrate(url, 'up');
    assert.ok(applied.length >= 1);
    const all = await tables();
    for (const t of ['folio_migrations', 'job_pages', 'jobs']) assert.ok(all.includes(t), `${t} exists`);
    assert.deepEqual(await migrate(url, 'up'), [], 'idempotent');
    assert.deepEqual(await migrate(url, 'down-all'), [...applied].reverse());
    assert.deepEqual(await tables(), ['folio_migrations'], 'every down removes what its up made');
    assert.deepEqual(await migrate(url, 'up'), applied);
    assert.deepEqual(await tables(), all);
  });

  it('`npm run migrate` exits non-zero, naming the cause, when the database cannot be reached', () => {
    // A deploy step must stop on a failed migration (a success here would start a release on an old schema).
    const run = spawnSync(process.execPath, [path.join(repoRoot, 'dist/scripts/migrate.js')], {
      env: { ...process.env, APP_DATABASE_URL: 'postgres://folio:folio@127.0.0.1:1/folio' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /ECONNREFUSED/);
  });
});
