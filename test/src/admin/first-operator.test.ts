/**
 * The first operator comes from ADMIN_EMAIL / ADMIN_PASSWORD; in production the API refuses to start
 * without them (or with a weak password, or without SESSION_SECRET) while no operator exists.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrate } from '../../../scripts/migrate.js';
import { hashPassword } from '../../../src/admin/operators.service.js';
import { DEVELOPMENT_OPERATOR } from '../../../src/config/operator-password.js';
import { harnessEnv, repoRoot } from '../../support/stack.js';

/** Starts the API and collects its output until it exits (or 60 s pass). */
function runApi(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/main.js')], {
      env: { ...harnessEnv(), HOST: '127.0.0.1', PORT: '0', ...env },
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('first operator in production', () => {
  const base = new URL(harnessEnv().APP_DATABASE_URL!);
  const scratch = `folio_operators_${process.pid}`;
  const url = Object.assign(new URL(base), { pathname: `/${scratch}` }).toString();
  const admin = new pg.Client({ connectionString: base.toString() });
  const production = { NODE_ENV: 'production', APP_DATABASE_URL: url, SESSION_SECRET: 's'.repeat(40) };

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(scratch)}`);
    await migrate(url);
  });
  after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(scratch)} WITH (FORCE)`);
    await admin.end();
  });

  it('refuses to start with no operator and no ADMIN_EMAIL / ADMIN_PASSWORD', async () => {
    const { code, output } = await runApi(production);
    assert.equal(code, 1);
    assert.match(output, /No operator exists yet: set ADMIN_EMAIL and ADMIN_PASSWORD/);
  });

  it('refuses a weak ADMIN_PASSWORD and creates no operator', async () => {
    const { code, output } = await runApi({ ...production, ADMIN_EMAIL: 'a@folio.test', ADMIN_PASSWORD: 'secret' });
    assert.equal(code, 1);
    assert.match(output, /ADMIN_PASSWORD is too weak \(at least 12 characters\)/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM operators');
    await client.end();
    assert.deepEqual(rows, [{ n: 0 }]);
  });

  it('refuses the published development password, as ADMIN_PASSWORD or on an existing operator', async () => {
    const asFirst = await runApi({
      ...production,
      ADMIN_EMAIL: DEVELOPMENT_OPERATOR.email,
      ADMIN_PASSWORD: DEVELOPMENT_OPERATOR.password,
    });
    assert.equal(asFirst.code, 1);
    assert.match(asFirst.output, /ADMIN_PASSWORD is too weak \(it is the published development password\)/);

    // A database that `npm start` used first still has the development operator.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO operators (id, email, name, password_hash, disabled, created_at, updated_at)
           VALUES (gen_random_uuid(), $1, 'dev', $2, false, now(), now())`,
        [DEVELOPMENT_OPERATOR.email, await hashPassword(DEVELOPMENT_OPERATOR.password)],
      );
      const existing = await runApi({
        ...production,
        ADMIN_EMAIL: 'a@folio.test',
        ADMIN_PASSWORD: 'a long enough passphrase',
      });
      assert.equal(existing.code, 1);
      assert.match(existing.output, /still has the development password/);
    } finally {
      await client.query('DELETE FROM operators WHERE email = $1', [DEVELOPMENT_OPERATOR.email]);
      await client.end();
    }
  });

  it('refuses to start in production without SESSION_SECRET', async () => {
    const { code, output } = await runApi({
      NODE_ENV: 'production',
      APP_DATABASE_URL: url,
      ADMIN_EMAIL: 'a@folio.test',
      ADMIN_PASSWORD: 'a long enough passphrase',
    });
    assert.equal(code, 1);
    assert.match(output, /SESSION_SECRET is required in production/);
  });
});
