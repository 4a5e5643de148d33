/**
 * `npm run backup` and `npm run restore` on real parts: a stack of this file's own (PostgreSQL 18, Temporal,
 * a storage folder) with a finished, a failed and a running job is backed up with the real command (pg_dump
 * 18 from scripts/install-pg-tools.sh); the backup is restored with the real command into a fresh database
 * and a fresh bucket prefix (the harness's S3 server), a stack on the restored state (and another Temporal,
 * where the backup's workflows do not exist) reads every result back, and the reconcile schedule's workflow
 * closes the job that was running. A tampered backup, and a database that already holds data, are refused
 * before anything is written.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import type { reconcileJobsWorkflow } from '../../workflows/maintenance.js';
import type { Manifest } from '../../scripts/lib/backup.js';
import { migrate } from '../../scripts/migrate.js';
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres.js';
import { freePort } from '../../scripts/lib/services.js';
import { corpusPath } from '../support/corpus.js';
import { startOwnServices, type OwnServices } from '../support/own-services.js';
import { repeatFirstPage, syntheticTextPdf } from '../support/synthetic.js';
import { harnessEnv, repoRoot, startStack, type JobStatusBody, type Stack } from '../support/stack.js';

const run = promisify(execFile);

/** Runs `npm run backup` / `npm run restore`'s compiled script with `env` on top of the test's environment. */
async function folioCommand(
  script: 'backup' | 'restore',
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(repoRoot, `dist/scripts/${script}.js`), ...args],
      {
        cwd: repoRoot,
        // A variable set to undefined is removed, as if never set.
        env: Object.fromEntries(
          Object.entries({ ...process.env, ...env }).filter(
            (entry): entry is [string, string] => entry[1] !== undefined,
          ),
        ),
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A new, empty database on the server of `url`, and its URL. */
async function createDatabase(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}

async function tableCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'",
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe('backup and restore', () => {
  let services: OwnServices;
  let source: Stack;
  let restored: Stack | undefined;
  let connection: Connection | undefined;
  const tmp = path.join(process.env.FOLIO_TEST_TMP ?? '/tmp', `backup-${randomUUID().slice(0, 8)}`);
  const backupDir = path.join(tmp, 'backup');
  /** What the source stack answered, to compare the restored one with. */
  const seen: Record<'done' | 'failed' | 'running', { id: string; status?: JobStatusBody; result?: unknown }> = {
    done: { id: '' },
    failed: { id: '' },
    running: { id: '' },
  };

  before(async () => {
    services = await startOwnServices('backup');
    source = await startStack({ name: 'backup-src', env: services.env, worker: { OCR_WORKERS: '1' } });
  });
  after(async () => {
    await restored?.stop();
    await source?.stop();
    await connection?.close();
    await services?.stop();
  });

  /** GET on the source's API with the source's key (which the backup carries to the restored stack). */
  const get = async (base: string, route: string): Promise<Response> =>
    fetch(`${base}${route}`, { headers: { authorization: `Bearer ${source.key!}` } });

  it('backs up a stack with finished, failed and running jobs; restores it into a fresh database and bucket', async () => {
    const accepted = async (res: Response): Promise<string> => {
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { jobId: string }).jobId;
    };
    seen.done.id = await accepted(
      await source.submit({ name: 'born-digital.pdf', bytes: await syntheticTextPdf(3, { title: 'backup' }) }),
    );
    seen.failed.id = await accepted(await source.submit(corpusPath('corrupt/ocrmypdf-invalid.pdf')));
    seen.done.status = await source.waitForJob(seen.done.id, 60_000);
    seen.failed.status = await source.waitForJob(seen.failed.id, 60_000);
    assert.equal(seen.done.status.status, 'completed');
    assert.equal(seen.failed.status.status, 'failed');
    assert.ok(seen.failed.status.error?.code);
    seen.done.result = await source.getResult(seen.done.id);

    // A long scan, caught mid-document: its worker is killed, so the job stays `processing` in the backup.
    seen.running.id = await accepted(
      await source.submit({
        name: 'long-scan.pdf',
        bytes: await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), 40),
      }),
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = (await (await get(source.url, `/v1/jobs/${seen.running.id}`)).json()) as JobStatusBody;
      if (s.status === 'processing' && s.progress.pagesDone >= 1) break;
      assert.ok(Date.now() < deadline, `the long scan never got going: ${JSON.stringify(s).slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await source.workers[0]!.kill();
    seen.running.status = (await (await get(source.url, `/v1/jobs/${seen.running.id}`)).json()) as JobStatusBody;
    assert.equal(seen.running.status.status, 'processing');

    const made = await folioCommand('backup', ['--out', backupDir], {
      APP_DATABASE_URL: services.env.APP_DATABASE_URL,
      STORAGE_URL: services.storageDir,
    });
    assert.equal(made.code, 0, made.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8')) as Manifest;
    const keys = manifest.objects.items.map((o) => o.key);
    for (const { id } of Object.values(seen)) assert.ok(keys.includes(`documents/${id}.pdf`), id);
    assert.ok(manifest.migrationLevel, 'the manifest names the migration level');
    assert.match(manifest.database.serverVersion, /^18\./);
    assert.equal(manifest.database.sha256.length, 64);

    // A fresh database on the same server, a fresh prefix in the harness's bucket, the harness's Temporal.
    const targetDb = await createDatabase(services.env.APP_DATABASE_URL!, `restored_${randomUUID().slice(0, 8)}`);
    const targetStore = `${harnessEnv().STORAGE_URL!}/restored-${randomUUID().slice(0, 8)}`;
    const target = { APP_DATABASE_URL: targetDb, STORAGE_URL: targetStore };
    const done = await folioCommand('restore', ['--from', backupDir], target);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, new RegExp(`${manifest.objects.count} objects`));

    // The bucket now holds the same objects: a backup of it (read through the bucket store) lists the same bytes.
    const fromBucket = path.join(tmp, 'from-bucket');
    const second = await folioCommand('backup', ['--out', fromBucket], target);
    assert.equal(second.code, 0, second.stderr);
    const secondManifest = JSON.parse(fs.readFileSync(path.join(fromBucket, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(secondManifest.objects.items, manifest.objects.items);

    // Restoring again over what is now there is refused without --force, and changes nothing.
    const again = await folioCommand('restore', ['--from', backupDir], target);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds data .*--force/s);

    restored = await startStack({
      name: 'backup-restored',
      env: { ...target, TEMPORAL_ADDRESS: harnessEnv().TEMPORAL_ADDRESS },
      worker: true,
    });

    // The finished job: its status and every page's text, as the source answered them; its upload byte for byte.
    const done1 = (await (await get(restored.url, `/v1/jobs/${seen.done.id}`)).json()) as JobStatusBody;
    assert.equal(done1.status, 'completed');
    assert.deepEqual(done1.pages, seen.done.status.pages);
    assert.deepEqual(await (await get(restored.url, `/v1/jobs/${seen.done.id}/result`)).json(), seen.done.result);
    const original = Buffer.from(await (await get(restored.url, `/v1/jobs/${seen.done.id}/document`)).arrayBuffer());
    assert.ok(original.equals(fs.readFileSync(path.join(services.storageDir, `documents/${seen.done.id}.pdf`))));
    // The failed job keeps its error.
    const failed1 = (await (await get(restored.url, `/v1/jobs/${seen.failed.id}`)).json()) as JobStatusBody;
    assert.equal(failed1.status, 'failed');
    assert.deepEqual(failed1.error, seen.failed.status.error);

    // The running job's workflow is not in this Temporal: the reconcile schedule's workflow closes it.
    connection = await Connection.connect({ address: harnessEnv().TEMPORAL_ADDRESS! });
    const client = new Client({ connection });
    const reconciled = await client.workflow.execute<typeof reconcileJobsWorkflow>('reconcileJobsWorkflow', {
      taskQueue: restored.taskQueue,
      workflowId: `${restored.taskQueue}-reconcile`,
      args: [{ graceSeconds: 1 }],
    });
    assert.deepEqual(
      reconciled.reconciled.filter((r) => r.jobId === seen.running.id),
      [{ jobId: seen.running.id, status: 'failed', code: 'WORKFLOW_MISSING' }],
    );
    const running1 = (await (await get(restored.url, `/v1/jobs/${seen.running.id}`)).json()) as JobStatusBody;
    assert.equal(running1.status, 'failed');
    assert.equal(running1.error?.code, 'WORKFLOW_MISSING');
    // The pages it had read before the backup are still there.
    const pagesDone = seen.running.status.pages.filter((p) => p.status === 'done').map((p) => p.number);
    assert.ok(pagesDone.length >= 1);
    const partial = (await (await get(restored.url, `/v1/jobs/${seen.running.id}/result`)).json()) as {
      pages: { number: number }[];
    };
    for (const n of pagesDone)
      assert.ok(
        partial.pages.some((p) => p.number === n),
        `page ${n}`,
      );
  });

  it('refuses a tampered or incomplete backup before writing anything', async () => {
    const tampered = path.join(tmp, 'tampered');
    fs.cpSync(backupDir, tampered, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(tampered, 'manifest.json'), 'utf8')) as Manifest;
    const victim = manifest.objects.items[0]!;
    const file = path.join(tampered, 'objects', victim.key);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10);
    fs.writeFileSync(file, bytes);
    fs.rmSync(path.join(tampered, 'objects', manifest.objects.items[1]!.key));

    const targetDb = await createDatabase(services.env.APP_DATABASE_URL!, `tampered_${randomUUID().slice(0, 8)}`);
    const storeDir = path.join(tmp, 'tampered-store');
    const refused = await folioCommand('restore', ['--from', tampered], {
      APP_DATABASE_URL: targetDb,
      STORAGE_URL: storeDir,
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not match its manifest, so nothing was restored/);
    assert.match(refused.stderr, new RegExp(`object ${victim.key}: .* sha256`));
    assert.match(refused.stderr, new RegExp(`object ${manifest.objects.items[1]!.key}: .* is missing`));
    assert.equal(await tableCount(targetDb), 0, 'nothing was written to the database');
    assert.equal(fs.existsSync(storeDir), false, 'nothing was written to the store');

    // Without its manifest (a backup cut off before its end), the folder is no backup.
    fs.rmSync(path.join(tampered, 'manifest.json'));
    const cut = await folioCommand('restore', ['--from', tampered], {
      APP_DATABASE_URL: targetDb,
      STORAGE_URL: storeDir,
    });
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, /not a complete Folio backup/);

    // A manifest naming a key outside the backup folder (a path to write elsewhere on restore) is refused.
    const escaping = {
      ...manifest,
      objects: { ...manifest.objects, items: [{ ...victim, key: '../../outside.pdf' }] },
    };
    fs.writeFileSync(path.join(tampered, 'manifest.json'), JSON.stringify(escaping));
    const outside = await folioCommand('restore', ['--from', tampered], {
      APP_DATABASE_URL: targetDb,
      STORAGE_URL: storeDir,
    });
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /"\.\.\/\.\.\/outside\.pdf" does not name a file inside the backup/);
    assert.equal(await tableCount(targetDb), 0);
  });

  it('brings a backup from an older release up to the current migrations', async () => {
    const older = await createDatabase(services.env.APP_DATABASE_URL!, `older_${randomUUID().slice(0, 8)}`);
    const all = await migrate(older);
    const [undone] = await migrate(older, 'down');
    assert.equal(undone, all.at(-1));
    const dir = path.join(tmp, 'older');
    const store = path.join(tmp, 'older-store');
    const made = await folioCommand('backup', ['--out', dir], { APP_DATABASE_URL: older, STORAGE_URL: store });
    assert.equal(made.code, 0, made.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(manifest.migrationLevel, all.at(-2));

    const target = await createDatabase(services.env.APP_DATABASE_URL!, `newer_${randomUUID().slice(0, 8)}`);
    const done = await folioCommand('restore', ['--from', dir], { APP_DATABASE_URL: target, STORAGE_URL: store });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, new RegExp(`applied migrations: ${undone!}`));
    assert.deepEqual(await migrate(target), [], 'nothing left to apply');
  });

  it("finds npm start's embedded database and data/storage folder, as npm run api-key does", async () => {
    const data = path.join(tmp, 'npm-start-data');
    fs.mkdirSync(data, { recursive: true, mode: 0o755 });
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(data, 'postgres'),
      port: await freePort(),
      databases: ['folio', 'folio_legacy'],
    });
    try {
      const applied = await migrate(embedded.url('folio'));
      const key = `documents/${randomUUID()}.pdf`;
      const stored = path.join(data, 'storage', key);
      fs.mkdirSync(path.dirname(stored), { recursive: true });
      fs.writeFileSync(stored, await syntheticTextPdf(1, { title: 'embedded' }));
      const original = fs.readFileSync(stored);
      // As a person types it beside npm start: nothing set but the data folder (FOLIO_DATA_DIR, here a test's own).
      const env = { FOLIO_DATA_DIR: data, APP_DATABASE_URL: undefined, STORAGE_URL: undefined, STORAGE_DIR: undefined };
      const dir = path.join(tmp, 'embedded-backup');
      const made = await folioCommand('backup', ['--out', dir], env);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stderr, /app DB: npm start's PostgreSQL/);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
      assert.equal(manifest.migrationLevel, applied.at(-1));
      assert.deepEqual(
        manifest.objects.items.map((o) => o.key),
        [key],
      );

      fs.rmSync(stored);
      const done = await folioCommand('restore', ['--from', dir], env);
      assert.equal(done.code, 0, done.stderr);
      assert.ok(fs.readFileSync(stored).equals(original), 'the document is back in data/storage');
    } finally {
      await embedded.stop();
    }
  });
});
