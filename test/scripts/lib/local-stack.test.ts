import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { appDatabaseUrl, localDataDir } from '../../../scripts/lib/local-stack.js';
import { repoRoot } from '../../support/stack.js';

/** A pid no process can have (above Linux's largest pid_max). */
const NO_SUCH_PID = 2 ** 22 + 1;

describe("command-line scripts find npm start's embedded PostgreSQL (appDatabaseUrl)", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  /** A data folder laid out as npm start leaves it: postgres/ with PG_VERSION, the password beside it. */
  function dataDir(postmasterPid?: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-data-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'postgres'));
    fs.writeFileSync(path.join(dir, 'postgres', 'PG_VERSION'), '18\n');
    fs.writeFileSync(path.join(dir, 'postgres.password'), 'p/w+1\n');
    if (postmasterPid !== undefined) {
      // PostgreSQL's lock file: pid, data directory, start time, port, socket dir, listen address, shmem, status.
      const lines = [postmasterPid, path.join(dir, 'postgres'), 1764720000, 55432, '/tmp', '127.0.0.1', '0 0', 'ready'];
      fs.writeFileSync(path.join(dir, 'postgres', 'postmaster.pid'), `${lines.join('\n')}\n`);
    }
    return dir;
  }

  it("uses the running server's password and the port from its postmaster.pid", () => {
    const dir = dataDir(process.pid);
    const { url, embedded } = appDatabaseUrl({ FOLIO_DATA_DIR: dir });
    assert.equal(url, 'postgres://folio:p%2Fw%2B1@127.0.0.1:55432/folio');
    assert.match(embedded ?? '', /127\.0\.0\.1:55432/);
  });

  it('prefers APP_DATABASE_URL', () => {
    const dir = dataDir(process.pid);
    const given = 'postgres://someone@db.example:5432/folio';
    assert.deepEqual(appDatabaseUrl({ FOLIO_DATA_DIR: dir, APP_DATABASE_URL: given }), { url: given });
  });

  it('says the embedded server is not running instead of trying a port nobody listens on', () => {
    for (const dir of [dataDir(), dataDir(NO_SUCH_PID)]) {
      assert.throws(
        () => appDatabaseUrl({ FOLIO_DATA_DIR: dir }),
        (err: unknown) =>
          err instanceof Error &&
          err.message.includes(path.join(dir, 'postgres')) &&
          /not running.*npm start/.test(err.message),
      );
    }
  });

  it("falls back to the configured default where npm start never ran, and looks in the project's data/ by default", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-data-'));
    dirs.push(empty);
    assert.deepEqual(appDatabaseUrl({ FOLIO_DATA_DIR: empty }), { url: 'postgres://folio@localhost:5432/folio' });
    assert.equal(localDataDir({}), path.join(repoRoot, 'data'));
    assert.equal(localDataDir({ FOLIO_DATA_DIR: 'elsewhere' }), path.resolve('elsewhere'));
  });
});
