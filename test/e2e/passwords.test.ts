/**
 * Encrypted PDFs that need a user password, through the HTTP API, the real workflow and a real worker:
 * processed when the password comes with the upload; otherwise the job waits in `needs_password` until
 * POST /v1/jobs/{id}/password delivers one (a wrong one is answered 422 and the job keeps waiting), until it
 * is cancelled, or until its deadline fails it. The passwords never appear in clear in the workflow
 * histories, the app DB or the processes' logs. Owner-password-only files need no password at all.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { documentWorkflowId } from '../../core/contracts.js';
import { corpusPath, loadManifest, type CorpusEntry } from '../support/corpus.js';
import {
  authHeaders,
  createApiKey,
  getResult,
  harnessEnv,
  recordHistoryFixture,
  repoRoot,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type FolioProcess,
  type JobStatusBody,
  type Stack,
} from '../support/stack.js';

const manifest = loadManifest();
const needPassword = manifest.filter((e) => e.requiresPassword);
const ownerOnly = manifest.filter((e) => e.category === 'encrypted' && e.requiresPassword === false);
/** The replay fixture of a job that waited for its password (FOLIO_RECORD_HISTORIES=1 npm test -- passwords). */
const waitFixture = path.join(repoRoot, 'test/fixtures/histories/document-needs-password.json');

/** Everything a process prints, from the moment it is attached (FolioProcess keeps only the tail). */
function captureOutput(proc: FolioProcess): string[] {
  const lines: string[] = [];
  proc.child.stdout?.on('data', (d: Buffer) => lines.push(d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => lines.push(d.toString()));
  return lines;
}

/** Every string in a value, with byte arrays (Temporal payloads) read as UTF-8. */
function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (value instanceof Uint8Array) yield Buffer.from(value).toString('utf8');
  else if (Array.isArray(value)) for (const v of value) yield* stringsIn(v);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) yield* stringsIn(v);
}

describe('encrypted PDFs that need a password', () => {
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 30_000 });
  /** Every password sent in these tests that is distinctive enough to search for (see the secrecy test). */
  const sent = new Set<string>();
  const workflowIds: string[] = [];
  const logs: string[][] = [];
  let stack: Stack;
  let api: ApiProcess;
  let shortApi: ApiProcess;
  let connection: Connection;
  let temporal: Client;
  let waitedJob: string | undefined;

  before(async () => {
    stack = await startStack({
      name: 'passwords',
      env: { LOG_LEVEL: 'verbose' },
      // The second: the same service with a deadline short enough to pass during the test.
      api: [true, { PASSWORD_WAIT_SECONDS: '4' }],
      worker: true,
    });
    [api, shortApi] = stack.apis as [ApiProcess, ApiProcess];
    for (const proc of [api, shortApi, stack.workers[0]!]) logs.push(captureOutput(proc));
    connection = await Connection.connect({ address: harnessEnv().TEMPORAL_ADDRESS! });
    temporal = new Client({ connection });
  });
  after(async () => {
    await Promise.all([stack?.stop(), pdf.close()]);
    await connection?.close();
    // FOLIO_RECORD_HISTORIES=1 refreshes the replay fixture of test/workflows/replay.test.ts from this run.
    if (process.env.FOLIO_RECORD_HISTORIES && waitedJob)
      recordHistoryFixture(documentWorkflowId(waitedJob), waitFixture);
  });

  async function submitted(url: string, entry: CorpusEntry, password?: string, clientKey?: string): Promise<string> {
    if (password !== undefined && password.length >= 8) sent.add(password);
    // A client key of its own each time: the same file from the same owner would join the earlier job.
    const key = clientKey ?? (await createApiKey(`passwords ${randomUUID()}`, 'client')).key;
    const fields = password === undefined ? {} : { password };
    const res = await submit(url, corpusPath(entry.file), fields, '/v1/documents', { authorization: `Bearer ${key}` });
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    workflowIds.push(documentWorkflowId(jobId));
    return jobId;
  }

  async function status(url: string, jobId: string): Promise<JobStatusBody> {
    const res = await fetch(`${url}/v1/jobs/${jobId}`, { headers: authHeaders(url) });
    assert.equal(res.status, 200);
    return (await res.json()) as JobStatusBody;
  }

  /** Polls until the job reaches `wanted` (failing at once if it finishes otherwise). */
  async function waitForStatus(url: string, jobId: string, wanted: string): Promise<JobStatusBody> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const body = await status(url, jobId);
      if (body.status === wanted) return body;
      if (['completed', 'partial', 'failed', 'cancelled'].includes(body.status) || Date.now() > deadline) {
        assert.fail(`job ${jobId} is ${body.status}, not ${wanted}: ${JSON.stringify(body.error)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function postPassword(url: string, jobId: string, password: string): Promise<Response> {
    if (password.length >= 8) sent.add(password);
    return fetch(`${url}/v1/jobs/${jobId}/password`, {
      method: 'POST',
      headers: { ...authHeaders(url), 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    });
  }

  async function codeOf(res: Response): Promise<string> {
    return ((await res.json()) as { error: { code: string } }).error.code;
  }

  /** The job finished with every page read, each as pdf.js reads it with the password. */
  async function assertProcessed(entry: CorpusEntry, jobId: string): Promise<void> {
    const done = await waitForJob(api.url, jobId, 200_000);
    assert.equal(done.status, 'completed', `${entry.file}: ${JSON.stringify(done.error)}`);
    assert.equal(done.error, null);
    assert.equal(done.progress.pagesTotal, entry.pages);
    const result = await getResult(api.url, jobId);
    assert.equal(result.pages.length, entry.pages);
    for (const page of result.pages) {
      const direct = await pdf.extractText(corpusPath(entry.file), page.number, { password: entry.password });
      assert.equal(page.method, direct.usable ? 'text-layer' : 'ocr', `${entry.file} page ${page.number}`);
      if (direct.usable) {
        assert.ok(page.text.trim().length > 0, `${entry.file} page ${page.number} has text`);
        assert.equal(page.text, direct.text, `${entry.file} page ${page.number}`);
      }
    }
  }

  it('has the manifest entries it is about', () => {
    assert.ok(needPassword.length >= 5, `${needPassword.length} entries need a password`);
    assert.ok(needPassword.every((e) => typeof e.password === 'string' && e.pages !== null));
    assert.ok(ownerOnly.length >= 4);
  });

  for (const entry of needPassword) {
    it(`${entry.file}: processed with the password sent in the upload`, { timeout: 240_000 }, async () => {
      const jobId = await submitted(api.url, entry, entry.password);
      await assertProcessed(entry, jobId);
    });
  }

  for (const entry of needPassword) {
    it(
      `${entry.file}: waits in needs_password, refuses a wrong password, completes with the right one`,
      {
        timeout: 240_000,
      },
      async () => {
        const jobId = await submitted(api.url, entry);
        waitedJob ??= jobId;
        const waiting = await waitForStatus(api.url, jobId, 'needs_password');
        assert.equal(waiting.error?.code, 'PDF_PASSWORD_REQUIRED');
        assert.match(waiting.error?.message ?? '', new RegExp(`POST .* /v1/jobs/${jobId}/password`));

        const wrong = await postPassword(api.url, jobId, `wrong-${randomUUID()}`);
        assert.equal(wrong.status, 422);
        assert.equal(await codeOf(wrong), 'PDF_PASSWORD_INCORRECT');
        assert.equal((await status(api.url, jobId)).status, 'needs_password', 'a wrong password leaves it waiting');

        const right = await postPassword(api.url, jobId, entry.password!);
        assert.equal(right.status, 202, await right.clone().text());
        await assertProcessed(entry, jobId);

        const late = await postPassword(api.url, jobId, entry.password!);
        assert.equal(late.status, 409);
        assert.equal(await codeOf(late), 'JOB_NOT_WAITING_FOR_PASSWORD');
      },
    );
  }

  it('waits with PDF_PASSWORD_INCORRECT when the upload carried a wrong password', async () => {
    const entry = needPassword[0]!;
    const jobId = await submitted(api.url, entry, `wrong-${randomUUID()}`);
    const waiting = await waitForStatus(api.url, jobId, 'needs_password');
    assert.equal(waiting.error?.code, 'PDF_PASSWORD_INCORRECT');
    assert.equal((await postPassword(api.url, jobId, entry.password!)).status, 202);
    await assertProcessed(entry, jobId);
  });

  it('delivers the password of the same document uploaded again to the job waiting for it', async () => {
    const entry = needPassword.find((e) => e.hasTextLayer)!;
    const { key } = await createApiKey(`passwords ${randomUUID()}`, 'client');
    const jobId = await submitted(api.url, entry, undefined, key);
    await waitForStatus(api.url, jobId, 'needs_password');
    const again = await submit(api.url, corpusPath(entry.file), { password: entry.password }, '/v1/documents', {
      authorization: `Bearer ${key}`,
    });
    assert.equal(again.status, 202, await again.clone().text());
    const body = (await again.json()) as { jobId: string; duplicateOf?: string };
    assert.equal(body.duplicateOf, jobId);
    await assertProcessed(entry, jobId);
  });

  it(
    'shows waiting jobs to the list filter, the seed routes and the event stream, and cancels them',
    {
      timeout: 120_000,
    },
    async () => {
      const jobId = await submitted(api.url, needPassword[0]!);
      await waitForStatus(api.url, jobId, 'needs_password');
      const headers = authHeaders(api.url);

      const list = await fetch(`${api.url}/v1/jobs?status=needs_password&limit=200`, { headers });
      assert.equal(list.status, 200);
      const listed = (await list.json()) as { jobs: { jobId: string; status: string }[] };
      assert.ok(listed.jobs.some((j) => j.jobId === jobId));
      assert.ok(listed.jobs.every((j) => j.status === 'needs_password'));
      const seed = (await (await fetch(`${api.url}/api/v1/jobs/${jobId}`, { headers })).json()) as { status: string };
      assert.equal(seed.status, 'processing');

      const stream = new AbortController();
      const events = await fetch(`${api.url}/v1/jobs/${jobId}/events`, { headers, signal: stream.signal });
      const reader = events.body!.getReader();
      let text = '';
      while (!/event: needs_password\n(id: .*\n)?data: .*PDF_PASSWORD_REQUIRED/.test(text)) {
        const chunk = await reader.read();
        assert.ok(!chunk.done, `stream ended without a needs_password event: ${text}`);
        text += Buffer.from(chunk.value).toString('utf8');
      }
      stream.abort();

      const cancel = await fetch(`${api.url}/v1/jobs/${jobId}/cancel`, { method: 'POST', headers });
      assert.equal(cancel.status, 202);
      const ended = await waitForJob(api.url, jobId, 60_000);
      assert.equal(ended.status, 'cancelled');
      const late = await postPassword(api.url, jobId, needPassword[0]!.password!);
      assert.equal(late.status, 409);
    },
  );

  it('fails the job with PASSWORD_DEADLINE_EXCEEDED when no password arrives in time', async () => {
    const jobId = await submitted(shortApi.url, needPassword[0]!);
    await waitForStatus(shortApi.url, jobId, 'needs_password');
    const failed = await waitForJob(shortApi.url, jobId, 120_000);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'PASSWORD_DEADLINE_EXCEEDED');
    assert.match(failed.error?.message ?? '', /password/);
    const late = await postPassword(shortApi.url, jobId, needPassword[0]!.password!);
    assert.equal(late.status, 409);
    assert.equal(await codeOf(late), 'JOB_NOT_WAITING_FOR_PASSWORD');
  });

  for (const entry of ownerOnly) {
    it(`${entry.file}: owner password only, processed without one`, { timeout: 240_000 }, async () => {
      const jobId = await submitted(api.url, entry);
      const done = await waitForJob(api.url, jobId, 200_000);
      assert.ok(!done.error?.code.startsWith('PDF_PASSWORD'), JSON.stringify(done.error));
      if (entry.expected === 'text-layer') {
        assert.equal(done.status, 'completed', JSON.stringify(done.error));
        const result = await getResult(api.url, jobId);
        assert.ok(result.pages.some((p) => p.method === 'text-layer' && p.text.trim().length > 0));
      } else {
        assert.ok(['completed', 'partial', 'failed'].includes(done.status));
        assert.ok(done.pages.length > 0, 'the document was opened and its pages recorded');
      }
    });
  }

  it('processes an owner-password-only file that came with an unneeded password', async () => {
    const entry = ownerOnly.find((e) => e.expected === 'text-layer')!;
    const jobId = await submitted(api.url, entry, `unneeded-${randomUUID()}`);
    const done = await waitForJob(api.url, jobId, 200_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
  });

  it('never lets a password reach a workflow history, the app DB or a log in clear', async () => {
    // The corpus passwords shorter than 8 characters ("abc", "Hello") are left out: such strings turn up in
    // unrelated ids and page text. The random wrong passwords travel the very same paths (upload field,
    // POST body, update, activities), so they stand in for them.
    assert.ok(sent.size >= needPassword.length + 3, `${sent.size} distinctive passwords sent`);
    // Bodies that fail before the route: malformed JSON (whose parser error quotes the body) and a bad field.
    const waiting = await submitted(api.url, needPassword[0]!);
    await waitForStatus(api.url, waiting, 'needs_password');
    for (const body of [
      `{"password": "malformed-${randomUUID()}`,
      JSON.stringify({ password: `x-${randomUUID()}`, extra: 1 }),
    ]) {
      sent.add(/"password": ?"([^"]+)/.exec(body)![1]!);
      const res = await fetch(`${api.url}/v1/jobs/${waiting}/password`, {
        method: 'POST',
        headers: { ...authHeaders(api.url), 'content-type': 'application/json' },
        body,
      });
      assert.equal(res.status, 400, await res.clone().text());
    }
    const leaks: string[] = [];
    const look = (where: string, text: string) => {
      for (const p of sent) if (text.includes(p)) leaks.push(`${where} holds ${JSON.stringify(p)}`);
    };

    for (const workflowId of workflowIds) {
      const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
      const strings = [...stringsIn(history)];
      // The payloads were read, not skipped: the workflow input's JSON is among them.
      assert.ok(strings.some((s) => s.includes(`"jobId":"${workflowId.replace(/^document-/, '')}"`)));
      for (const s of strings) look(`history of ${workflowId}`, s);
    }

    const db = new pg.Client({ connectionString: harnessEnv().APP_DATABASE_URL });
    await db.connect();
    try {
      const { rows: tables } = await db.query<{ name: string }>(
        `SELECT quote_ident(table_name) AS name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      assert.ok(tables.some((t) => t.name === 'jobs'));
      for (const { name } of tables) {
        const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
        for (const { row } of rows) look(`table ${name}`, row);
      }
      const { rows: sealed } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE password_sealed LIKE 'v1.%' AND id = ANY($1::uuid[])`,
        [workflowIds.map((w) => w.replace(/^document-/, ''))],
      );
      assert.ok(sealed[0]!.n >= needPassword.length * 2, 'passwords are kept, sealed, for retries');
    } finally {
      await db.end();
    }

    const output = logs.map((l) => l.join('')).join('\n');
    assert.ok(output.length > 0);
    look('API and worker logs', output);
    assert.deepEqual(leaks, []);
  });
});
