/**
 * The legacy mirror (LEGACY_MIRROR) on real parts: a PostgreSQL of the test's own as the previous service's
 * database, reached as the restricted role (SELECT, INSERT, UPDATE; no DELETE), a real API process and a
 * real worker on the real Temporal server. The job's legacy_jobs row follows a whole document, a cancel, a
 * password wait and a partial job; with the legacy server stopped mid-document the document still
 * completes, and its row catches up once the server is back. GET /api/v1/jobs pages through 1,000 mixed rows
 * of both systems without a duplicate or a gap.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import { InputError, type OpenOptions, type PageText } from '../../activities/adapters/types.js';
import { createLegacyActivities } from '../../activities/legacy.js';
import { documentWorkflowId } from '../../core/contracts.js';
import { createSequelize } from '../../core/db/connections.js';
import { JobStore } from '../../core/job-store.js';
import { guardLegacyConnection } from '../../core/legacy/guard.js';
import { upsertLegacyRows, type LegacyJobRow } from '../../core/legacy/mirror.js';
import { createLegacyFixture } from '../../scripts/legacy-fixture.js';
import { grantLegacyRole } from '../../scripts/legacy-role.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../scripts/lib/embedded-postgres.js';
import { freePort } from '../../scripts/lib/services.js';
import { corpusPath, loadManifest } from '../support/corpus.js';
import { DelegatingPdf } from '../support/engines.js';
import { createApiKey, harnessEnv, recordHistoryFixture, repoRoot, startStack, type Stack } from '../support/stack.js';
import { syntheticTextPdf } from '../support/synthetic.js';

/** The real engine, slowed per page (so a document is still running when the test acts) and failing chosen pages. */
class PacedPdf extends DelegatingPdf {
  delayMs = 0;
  failing = new Set<number>();
  override async extractText(p: string, n: number, o?: OpenOptions): Promise<PageText> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failing.has(n)) throw new InputError('PAGE_UNREADABLE', `Page ${n} cannot be parsed.`);
    return this.inner.extractText(p, n, o);
  }
}

interface LegacyRow {
  job_id: string;
  filename: string | null;
  status: string;
  current_step: string | null;
  progress_percentage: number;
  error_message: string | null;
  content_id: string | null;
}

describe('legacy mirror', () => {
  const env = harnessEnv();
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 30_000 });
  const paced = new PacedPdf(pdf);
  const ocr = new TesseractEngine({ workers: 1 });
  const dataDir = path.join(env.FOLIO_TEST_TMP ?? os.tmpdir(), `legacy-mirror-${randomUUID().slice(0, 8)}`);
  let port: number;
  let legacyPg: EmbeddedDatabase | undefined;
  let ownerUrl: string;
  let mirrorUrl: string;
  let stack: Stack;
  let connection: Connection;
  let temporal: Client;
  /** The whole document's job: its history is the replay fixture of the `legacy-mirror` patch. */
  let wholeJob: string | undefined;

  const startLegacy = async () => {
    legacyPg = await startEmbeddedPostgres({ dataDir, port, databases: ['legacy'] });
  };

  before(async () => {
    fs.mkdirSync(dataDir, { recursive: true });
    port = await freePort();
    await startLegacy();
    ownerUrl = legacyPg!.url('legacy');
    await createLegacyFixture(ownerUrl);
    const password = randomUUID();
    await grantLegacyRole(ownerUrl, 'folio_mirror', password);
    const url = new URL(ownerUrl);
    url.username = 'folio_mirror';
    url.password = password;
    mirrorUrl = url.toString();
    stack = await startStack({
      name: 'legacy-mirror',
      env: { LEGACY_MIRROR: 'true', LEGACY_DATABASE_URL: mirrorUrl },
      inProcessWorker: { pdf: paced, ocr, plan: { window: 2 } },
    });
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    temporal = new Client({ connection });
  });
  after(async () => {
    // FOLIO_RECORD_HISTORIES=1 npm test -- e2e/legacy-mirror refreshes test/fixtures/histories/document-legacy-mirror.json.
    if (process.env.FOLIO_RECORD_HISTORIES && wholeJob) {
      recordHistoryFixture(
        documentWorkflowId(wholeJob),
        path.join(repoRoot, 'test/fixtures/histories/document-legacy-mirror.json'),
      );
    }
    await stack?.stop();
    await connection?.close();
    await legacyPg?.stop();
    await Promise.all([pdf.close(), ocr.close()]);
  });

  async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  const rowOf = async (jobId: string): Promise<LegacyRow | undefined> =>
    (await query<LegacyRow>(ownerUrl, 'SELECT * FROM legacy_jobs WHERE job_id = $1', [jobId]))[0];

  /** Polls the job's legacy row until `wanted` holds of it; `seen` collects every row read on the way. */
  async function rowUntil(
    jobId: string,
    wanted: (row: LegacyRow) => boolean,
    seen: LegacyRow[] = [],
    timeoutMs = 60_000,
  ): Promise<LegacyRow> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await rowOf(jobId);
      if (row) seen.push(row);
      if (row && wanted(row)) return row;
      if (Date.now() > deadline) throw new Error(`legacy row of ${jobId}: ${JSON.stringify(row)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function submit(name: string, bytes: Uint8Array, key?: string): Promise<string> {
    const headers = key ? { authorization: `Bearer ${key}` } : undefined;
    const res = await stack.submit({ name, bytes }, {}, undefined, headers);
    const body = (await res.json()) as { jobId: string };
    assert.equal(res.status, 202, JSON.stringify(body));
    return body.jobId;
  }

  const cancel = async (jobId: string) => {
    const res = await fetch(`${stack.url}/v1/jobs/${jobId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}` },
    });
    assert.ok(res.status < 300, await res.text());
  };

  const pdfOf = (pages: number) => syntheticTextPdf(pages, { title: randomUUID() });

  it('runs as a role that may not delete', async () => {
    await assert.rejects(query(mirrorUrl, `DELETE FROM legacy_jobs WHERE job_id = 'legacy-0001'`), /permission denied/);
  });

  it('the row follows a whole document: inserted, updated a tenth at a time, completed', async () => {
    paced.delayMs = 60;
    const bytes = await pdfOf(40);
    const jobId = await submit('whole.pdf', bytes);
    wholeJob = jobId;
    const seen: LegacyRow[] = [];
    await rowUntil(jobId, (r) => r.status === 'completed', seen);
    assert.equal((await stack.waitForJob(jobId, 60_000)).status, 'completed');
    const row = (await rowOf(jobId))!;
    assert.deepEqual(
      { ...row, created_at: undefined, updated_at: undefined },
      {
        job_id: jobId,
        filename: 'whole.pdf',
        status: 'completed',
        current_step: 'done',
        progress_percentage: 100,
        error_message: null,
        content_id: createHash('sha256').update(bytes).digest('hex'),
        created_at: undefined,
        updated_at: undefined,
      },
    );
    const progress = seen.filter((r) => r.status === 'processing').map((r) => r.progress_percentage);
    assert.ok(
      progress.some((p) => p > 0 && p < 100),
      `progress seen on the way: ${progress.join(',')}`,
    );
    // Not a write per page: the document signalled its mirror at most 5 times besides one per tenth.
    const events = (await temporal.workflow.getHandle(documentWorkflowId(jobId)).fetchHistory()).events ?? [];
    const signals = events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes).length;
    assert.ok(signals >= 3 && signals <= 15, `${signals} mirror signals for 40 pages`);
    const mirror = (await temporal.workflow.getHandle(`${documentWorkflowId(jobId)}-legacy-mirror`).result()) as {
      writes: number;
    };
    assert.ok(mirror.writes >= 2 && mirror.writes <= signals + 1, JSON.stringify(mirror));
  });

  it('the upsert never moves a row back; the reconciler rewrites a drifted row, one bounded batch at a time', async () => {
    const jobId = wholeJob!;
    const legacy = guardLegacyConnection(createSequelize(mirrorUrl, 1, 'legacy'));
    try {
      const stored = (await query<LegacyJobRow>(ownerUrl, 'SELECT * FROM legacy_jobs WHERE job_id = $1', [jobId]))[0]!;
      const older: LegacyJobRow = { ...stored, status: 'processing', progress_percentage: 50, updated_at: new Date(0) };
      assert.deepEqual(await upsertLegacyRows(legacy, [older]), [], 'a late retry changes nothing');
      assert.deepEqual(await upsertLegacyRows(legacy, [stored]), [], 'nor does a repeat');
      assert.equal((await rowOf(jobId))?.status, 'completed');

      // Drifted by hand to an older state, as a mirror terminated before its last write would leave it.
      await query(
        ownerUrl,
        `UPDATE legacy_jobs SET status = 'processing', progress_percentage = 40, updated_at = updated_at - interval '1 hour'
          WHERE job_id = $1`,
        [jobId],
      );
      const models = stack.inProcessWorker!.models;
      const mirror = createLegacyActivities({ models, jobs: new JobStore(models), legacy, mirror: true });
      // A batch of 3 starting just before the job (the harness's app DB holds other files' jobs too).
      const [before] = await query<{ id: string }>(
        env.APP_DATABASE_URL!,
        'SELECT id::text FROM jobs WHERE id < $1 ORDER BY id DESC LIMIT 1',
        [jobId],
      );
      const batch = await mirror.repairLegacyRows({ afterJobId: before?.id ?? null, limit: 3 });
      assert.ok(batch.checked <= 3 && batch.repaired.includes(jobId), JSON.stringify(batch));
      const row = (await rowOf(jobId))!;
      assert.equal(row.status, 'completed');
      assert.equal(row.progress_percentage, 100);
      const again = await mirror.repairLegacyRows({ afterJobId: before?.id ?? null, limit: 3 });
      assert.ok(!again.repaired.includes(jobId), 'nothing left to repair');
    } finally {
      await legacy.close();
    }
  });

  it('a cancelled document: failed, cancelled in current_step and error_message', async () => {
    paced.delayMs = 200;
    const jobId = await submit('cancelled.pdf', await pdfOf(40));
    await rowUntil(jobId, (r) => r.status === 'processing' && r.progress_percentage > 0);
    await cancel(jobId);
    assert.equal((await stack.waitForJob(jobId, 60_000)).status, 'cancelled');
    const row = await rowUntil(jobId, (r) => r.status === 'failed');
    assert.equal(row.current_step, 'cancelled');
    assert.match(row.error_message ?? '', /^cancelled: \d+ of 40 pages were done$/);
  });

  it('a password wait: processing, needs_password in current_step, the reason in error_message', async () => {
    paced.delayMs = 0;
    const entry = loadManifest().find((e) => e.requiresPassword)!;
    const { key } = await createApiKey(`legacy mirror ${randomUUID()}`, 'client');
    const jobId = await submit('locked.pdf', fs.readFileSync(corpusPath(entry.file)), key);
    const row = await rowUntil(jobId, (r) => r.current_step === 'needs_password');
    assert.equal(row.status, 'processing');
    assert.match(row.error_message ?? '', /PDF_PASSWORD_REQUIRED/);
    await cancel(jobId);
    await rowUntil(jobId, (r) => r.status === 'failed' && r.current_step === 'cancelled');
  });

  it('a partial document: completed, partial in current_step, the failed pages in error_message', async () => {
    paced.delayMs = 0;
    paced.failing = new Set([3]);
    try {
      const jobId = await submit('partial.pdf', await pdfOf(5));
      assert.equal((await stack.waitForJob(jobId, 60_000)).status, 'partial');
      const row = await rowUntil(jobId, (r) => r.status === 'completed');
      assert.equal(row.current_step, 'partial');
      assert.equal(row.progress_percentage, 100);
      assert.equal(row.error_message, 'partial: 1 of 5 pages failed');
    } finally {
      paced.failing = new Set();
    }
  });

  it('a legacy outage mid-document delays the row, never the document; the row catches up', async () => {
    paced.delayMs = 100;
    const jobId = await submit('outage.pdf', await pdfOf(40));
    await rowUntil(jobId, (r) => r.status === 'processing');
    await legacyPg!.stop();
    legacyPg = undefined;
    try {
      const finished = await stack.waitForJob(jobId, 60_000);
      assert.equal(finished.status, 'completed');
      await assert.rejects(rowOf(jobId), 'the legacy server is still down when the document has completed');
    } finally {
      await startLegacy();
    }
    const row = await rowUntil(jobId, (r) => r.status === 'completed', [], 60_000);
    assert.equal(row.progress_percentage, 100);
  });

  it('GET /api/v1/jobs pages through 1,000 rows of both systems once each; mirrored rows show as Folio jobs', async () => {
    // Dated 1990, before any other job of the harness's app DB, so the first 1,000 rows ascending are these.
    const base = Date.UTC(1990, 0, 1);
    const folio = Array.from({ length: 400 }, (_, i) => ({
      id: randomUUID(),
      // Every third Folio job shares its second with a legacy row: the job id breaks the tie.
      created: new Date(base + Math.floor(i * 2.5) * 1000),
    }));
    const legacyOnly = Array.from({ length: 600 }, (_, i) => ({
      id: `old-${String(i).padStart(4, '0')}`,
      created: new Date(base + i * 1000 + (i % 3 === 0 ? 0 : 417)),
    }));
    const app = new pg.Client({ connectionString: env.APP_DATABASE_URL });
    await app.connect();
    const legacy = new pg.Client({ connectionString: ownerUrl });
    await legacy.connect();
    try {
      await app.query(
        `INSERT INTO jobs (id, status, step, filename, size_bytes, sha256, storage_key, options, workflow_id,
                           created_at, updated_at)
         SELECT id, 'completed', 'done', 'merged.pdf', 1, repeat('c', 64), 'documents/merged-' || id,
                '{}'::jsonb, 'document-' || id, created, created
           FROM unnest($1::uuid[], $2::timestamptz[]) AS t(id, created)`,
        [folio.map((j) => j.id), folio.map((j) => j.created)],
      );
      // The legacy rows the old service wrote, and the mirror's rows of half the Folio jobs (not to be listed twice).
      const mirrored = folio.filter((_, i) => i % 2 === 0);
      await legacy.query(
        `INSERT INTO legacy_jobs (job_id, filename, status, current_step, progress_percentage, created_at, updated_at)
         SELECT id, 'old.pdf', 'completed', 'done', 100, created, created
           FROM unnest($1::text[], $2::timestamptz[]) AS t(id, created)`,
        [
          [...legacyOnly.map((r) => r.id), ...mirrored.map((j) => j.id)],
          [...legacyOnly.map((r) => r.created), ...mirrored.map((j) => j.created)],
        ],
      );
      const expected = new Map<string, string>([
        ...folio.map((j) => [j.id, 'folio'] as const),
        ...legacyOnly.map((r) => [r.id, 'legacy'] as const),
      ]);
      const seen: { job_id: string; source: string; created_at: string }[] = [];
      let total = 0;
      for (let offset = 0; offset < 1000; offset += 37) {
        const res = await fetch(`${stack.url}/api/v1/jobs?order_by=created_at&limit=37&offset=${offset}`, {
          headers: { authorization: `Bearer ${stack.key}` },
        });
        const body = (await res.json()) as { jobs: typeof seen; total: number };
        assert.equal(res.status, 200, JSON.stringify(body));
        seen.push(...body.jobs.slice(0, 1000 - offset));
        total = body.total;
      }
      assert.equal(seen.length, 1000);
      assert.equal(new Set(seen.map((r) => r.job_id)).size, 1000, 'no row twice');
      assert.deepEqual(
        seen.map((r) => [r.job_id, r.source]).sort(),
        [...expected.entries()].sort(),
        'every row of both systems, each from its own system',
      );
      const times = seen.map((r) => Date.parse(r.created_at));
      assert.ok(
        times.every((t, i) => i === 0 || times[i - 1]! <= t),
        'one order across both',
      );
      assert.ok(total >= 1000, `total ${total}`);
      // Every other order and the status filter run on both sources and keep one order.
      for (const q of [
        'order_by=-status',
        'order_by=duration',
        'order_by=-page_count',
        'order_by=updated_at&status=completed',
      ]) {
        const res = await fetch(`${stack.url}/api/v1/jobs?${q}&limit=50`, {
          headers: { authorization: `Bearer ${stack.key}` },
        });
        const body = (await res.json()) as { jobs: { job_id: string; source: string; status: string }[] };
        assert.equal(res.status, 200, `${q}: ${JSON.stringify(body)}`);
        assert.equal(new Set(body.jobs.map((j) => j.job_id)).size, body.jobs.length, q);
        if (q.includes('status='))
          assert.ok(
            body.jobs.every((j) => j.status === 'completed'),
            q,
          );
      }

      const legacyRow = (await (
        await fetch(`${stack.url}/api/v1/jobs/old-0001`, { headers: { authorization: `Bearer ${stack.key}` } })
      ).json()) as Record<string, unknown>;
      assert.equal(legacyRow.source, 'legacy');
      assert.equal(legacyRow.progress, 100);
      const mirroredRow = (await (
        await fetch(`${stack.url}/api/v1/jobs/${mirrored[0]!.id}`, {
          headers: { authorization: `Bearer ${stack.key}` },
        })
      ).json()) as Record<string, unknown>;
      assert.equal(mirroredRow.source, 'folio');
      const client = await createApiKey(`legacy list ${randomUUID()}`, 'client');
      const own = await fetch(`${stack.url}/api/v1/jobs?limit=5`, {
        headers: { authorization: `Bearer ${client.key}` },
      });
      assert.equal(((await own.json()) as { total: number }).total, 0, 'a client key sees no legacy rows');
    } finally {
      await app.query(`DELETE FROM jobs WHERE id = ANY($1::uuid[])`, [folio.map((j) => j.id)]);
      await Promise.all([app.end(), legacy.end()]);
    }
  });
});
