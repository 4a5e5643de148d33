/**
 * Batches on the real stack (API process, a worker in the test process with real pdf.js and tesseract.js and
 * a PDF engine that can fail chosen pages, Temporal, PostgreSQL, the harness's bucket): a batch of PDFs with
 * one bad file (the good ones complete, the bad one is listed with its code), its counts moving to the end,
 * one signed batch.completed verified by a real receiver, the ZIP of its texts, refusals of whole requests,
 * retry-failed (and batch.completed again), cancel, and the command-line client with a folder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import { InputError, type OpenOptions, type PageText } from '../../activities/adapters/types.js';
import { documentWorkflowId } from '../../core/contracts.js';
import { parseSecretKey } from '../../core/sealed-secret.js';
import { generateWebhookSecret, sealWebhookSecret } from '../../core/webhooks.js';
import { generateApiKey } from '../../src/auth/api-keys.service.js';
import { corpusPath } from '../support/corpus.js';
import { DelegatingPdf } from '../support/engines.js';
import { createApiKey, harnessEnv, recordHistoryFixture, repoRoot, startStack, type Stack } from '../support/stack.js';
import { repeatFirstPage, syntheticTextPdf } from '../support/synthetic.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { unzip } from '../support/zip.js';

const run = promisify(execFile);

/** Fails the next `failNext` text extractions of page `page` (of any document) with a permanent error. */
class FaultyPdf extends DelegatingPdf {
  page = 0;
  failNext = 0;
  override extractText(p: string, n: number, o?: OpenOptions): Promise<PageText> {
    if (n === this.page && this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new InputError('PAGE_UNREADABLE', `Page ${n} cannot be parsed (simulated).`));
    }
    return this.inner.extractText(p, n, o);
  }
}

interface BatchFileAnswer {
  position: number;
  fileName: string | null;
  jobId?: string;
  status?: string;
  error?: { code: string; message: string };
}
interface BatchBody {
  batchId: string;
  status: string;
  documents: Record<'total' | 'completed' | 'partial' | 'failed' | 'cancelled' | 'inFlight', number>;
  rejected: number;
  pages: { total: number; done: number; failed: number };
  endedAt: string | null;
  jobs: {
    position: number;
    fileName: string | null;
    jobId: string | null;
    status: string | null;
    error: { code: string } | null;
  }[];
  nextOffset: number | null;
}

describe('batches', () => {
  const env = harnessEnv();
  const secret = generateWebhookSecret();
  const receiver = new WebhookReceiver(secret);
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 60_000 });
  const faulty = new FaultyPdf(pdf);
  const ocr = new TesseractEngine({ workers: 1 });
  let stack: Stack;
  let key: string;
  /** Jobs whose histories become replay fixtures (FOLIO_RECORD_HISTORIES=1 npm test -- e2e/batches). */
  const fixtures: Record<string, string> = {};

  const headers = (k = key) => ({ authorization: `Bearer ${k}` });
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const title = () => ({ title: randomUUID() });

  async function submitBatch(
    files: { name: string; bytes: Uint8Array }[],
    fields: Record<string, string> = {},
  ): Promise<Response> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    for (const f of files) form.append('file', new Blob([f.bytes]), f.name);
    return fetch(`${stack.url}/v1/batches`, { method: 'POST', body: form, headers: headers() });
  }
  async function batch(batchId: string, query = '', k = key): Promise<BatchBody> {
    const res = await fetch(`${stack.url}/v1/batches/${batchId}${query}`, { headers: headers(k) });
    assert.equal(res.status, 200);
    return (await res.json()) as BatchBody;
  }
  async function untilEnded(batchId: string, onPoll?: (b: BatchBody) => void): Promise<BatchBody> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const b = await batch(batchId);
      onPoll?.(b);
      if (b.status !== 'in_progress' && b.endedAt !== null) return b;
      if (Date.now() > deadline) throw new Error(`batch ${batchId} did not end: ${JSON.stringify(b)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  const post = (p: string, body?: unknown) =>
    fetch(`${stack.url}${p}`, {
      method: 'POST',
      headers: { ...headers(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    await receiver.start();
    stack = await startStack({
      name: 'batches',
      api: { MAX_BATCH_FILES: '6', WEBHOOK_RETRY_INITIAL_MS: '200', WEBHOOK_RETRY_MAX_MS: '400' },
      inProcessWorker: {
        pdf: faulty,
        ocr,
        plan: { window: 2 },
        webhooks: { allowPrivate: true, timeoutMs: 5000, secretOverlapSeconds: 3600 },
      },
    });
    // A client key with a webhook signing secret, inserted as `npm run api-key` would.
    const client = new pg.Client({ connectionString: env.APP_DATABASE_URL });
    await client.connect();
    try {
      const generated = generateApiKey();
      const id = randomUUID();
      await client.query(
        `INSERT INTO api_keys (id, name, role, prefix, key_hash, webhook_secret_sealed, created_at, updated_at)
           VALUES ($1, 'batches test', 'client', $2, $3, $4, now(), now())`,
        [
          id,
          generated.prefix,
          generated.keyHash,
          sealWebhookSecret(parseSecretKey(env.DOCUMENT_SECRET_KEY!)!, id, secret),
        ],
      );
      key = generated.key;
    } finally {
      await client.end();
    }
  });
  after(async () => {
    if (process.env.FOLIO_RECORD_HISTORIES) {
      for (const [name, jobId] of Object.entries(fixtures)) {
        recordHistoryFixture(documentWorkflowId(jobId), path.join(repoRoot, `test/fixtures/histories/${name}.json`));
      }
    }
    await stack?.stop();
    await receiver.stop();
    await Promise.all([pdf.close(), ocr.close()]);
  });

  it('accepts the good files, lists the bad one with its code, follows the batch to its end and announces it once', async () => {
    const files = [
      { name: 'alpha.pdf', bytes: await syntheticTextPdf(2, title()) },
      { name: 'scans/beta.pdf', bytes: await syntheticTextPdf(3, title()) },
      { name: 'notes.txt', bytes: new TextEncoder().encode('not a document') },
      { name: 'alpha.pdf', bytes: await syntheticTextPdf(1, title()) },
    ];
    const res = await submitBatch(files, { callbackUrl: `${receiver.url}/batch` });
    const submitted = (await res.json()) as { batchId: string; status: string; jobs: BatchFileAnswer[] };
    assert.equal(res.status, 202, JSON.stringify(submitted));
    assert.equal(res.headers.get('location'), `/v1/batches/${submitted.batchId}`);
    assert.deepEqual(
      submitted.jobs.map((j) => [j.position, j.fileName, j.jobId ? 'job' : j.error?.code]),
      [
        [0, 'alpha.pdf', 'job'],
        [1, 'scans/beta.pdf', 'job'],
        [2, 'notes.txt', 'NOT_PDF'],
        [3, 'alpha.pdf', 'job'],
      ],
    );
    const { batchId } = submitted;

    const seen: BatchBody[] = [];
    const first = await batch(batchId);
    assert.equal(first.status, 'in_progress', 'documents take longer than the answer');
    const end = await untilEnded(batchId, (b) => seen.push(b));
    const done = [first, ...seen].map((b) => b.documents.completed + b.documents.partial + b.documents.failed);
    assert.deepEqual(
      done,
      [...done].sort((x, y) => x - y),
      `finished documents only grow: ${done.join(',')}`,
    );
    assert.equal(end.status, 'completed');
    assert.deepEqual(end.documents, { total: 3, completed: 3, partial: 0, failed: 0, cancelled: 0, inFlight: 0 });
    assert.equal(end.rejected, 1);
    assert.deepEqual(end.pages, { total: 6, done: 6, failed: 0 });
    assert.deepEqual(
      end.jobs.map((j) => [j.position, j.status, j.error?.code ?? null]),
      [
        [0, 'completed', null],
        [1, 'completed', null],
        [2, null, 'NOT_PDF'],
        [3, 'completed', null],
      ],
    );

    // Documents in pages.
    const firstPage = await batch(batchId, '?limit=3');
    assert.deepEqual([firstPage.jobs.length, firstPage.nextOffset], [3, 3]);
    const lastPage = await batch(batchId, '?limit=3&offset=3');
    assert.deepEqual([lastPage.jobs.map((j) => j.position), lastPage.nextOffset], [[3], null]);

    // One batch.completed, signed with the key's secret.
    const [hook] = await receiver.waitForBatch(batchId);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(receiver.batchCompleted(batchId).length, 1, 'exactly one batch.completed');
    assert.ok(hook!.verified);
    assert.deepEqual(hook!.payload.data, {
      batchId,
      status: 'completed',
      documents: end.documents,
      rejected: 1,
      pages: end.pages,
      links: { self: `/v1/batches/${batchId}`, results: `/v1/batches/${batchId}/results?format=txt` },
    });

    // An engineer finds the batch's documents in the Temporal UI by its search attribute.
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    try {
      const temporal = new Client({ connection });
      const expected = submitted.jobs.flatMap((j) => (j.jobId ? [documentWorkflowId(j.jobId)] : [])).sort();
      let listed: string[] = [];
      for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
        listed = [];
        for await (const w of temporal.workflow.list({ query: `FolioBatchId = "${batchId}"` })) {
          listed.push(w.workflowId);
        }
        // Retry and page-range runs carry it too; the documents' own runs must all be there.
        if (expected.every((id) => listed.includes(id))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.deepEqual(
        listed.filter((id) => expected.includes(id)).sort(),
        expected,
        `FolioBatchId = "${batchId}" lists ${listed.join(', ')}`,
      );
      assert.ok(
        listed.every((id) => expected.some((doc) => id.startsWith(doc))),
        `only the batch's documents' runs: ${listed.join(', ')}`,
      );
    } finally {
      await connection.close();
    }

    // The delivery is recorded under the document whose end ended the batch (its key signs it).
    const ender: string[] = [];
    for (const jobId of submitted.jobs.flatMap((j) => (j.jobId ? [j.jobId] : []))) {
      const list = (await (await fetch(`${stack.url}/v1/jobs/${jobId}/deliveries`, { headers: headers() })).json()) as {
        deliveries: { event: string; webhookId: string }[];
      };
      if (list.deliveries.some((d) => d.event === 'batch.completed')) ender.push(jobId);
    }
    assert.equal(ender.length, 1, 'one document ended the batch');
    fixtures['document-batch-completed'] = ender[0]!;

    // The ZIP: one text per document, named after its upload, each the job's own text.
    const zipRes = await fetch(`${stack.url}/v1/batches/${batchId}/results?format=txt`, { headers: headers() });
    assert.equal(zipRes.status, 200);
    assert.equal(zipRes.headers.get('content-type'), 'application/zip');
    const entries = await unzip(Buffer.from(await zipRes.arrayBuffer()));
    assert.deepEqual([...entries.keys()], ['alpha.txt', 'beta.txt', 'alpha (2).txt']);
    const jobIds = submitted.jobs.filter((j) => j.jobId).map((j) => j.jobId!);
    for (const [i, name] of [...entries.keys()].entries()) {
      const text = await (
        await fetch(`${stack.url}/v1/jobs/${jobIds[i]}/result?format=txt`, { headers: headers() })
      ).text();
      assert.ok(text.includes('Folio synthetic page 1'), text);
      assert.equal(entries.get(name), text, name);
    }

    // A batch whose only document joins a finished job has ended before its answer: the API's own check at
    // the seal ends it and announces it, once.
    const replay = await submitBatch([files[0]!], { callbackUrl: `${receiver.url}/sealed` });
    const replayed = (await replay.json()) as { batchId: string; status: string; jobs: BatchFileAnswer[] };
    assert.equal(replay.status, 202);
    assert.deepEqual([replayed.status, replayed.jobs[0]?.jobId], ['completed', submitted.jobs[0]?.jobId]);
    const [sealedHook] = await receiver.waitForBatch(replayed.batchId);
    assert.ok(sealedHook!.verified);
    assert.deepEqual(sealedHook!.payload.data.documents, {
      total: 1,
      completed: 1,
      partial: 0,
      failed: 0,
      cancelled: 0,
      inFlight: 0,
    });

    // Same access rules as jobs.
    const { key: other } = await createApiKey('batches other', 'client', env.APP_DATABASE_URL);
    assert.equal((await fetch(`${stack.url}/v1/batches/${batchId}`, { headers: headers(other) })).status, 403);
    const missing = await fetch(`${stack.url}/v1/batches/${randomUUID()}`, { headers: headers() });
    assert.deepEqual([missing.status, await codeOf(missing)], [404, 'BATCH_NOT_FOUND']);
  });

  it('refuses a whole request only when no file can become a document, or the request itself is wrong', async () => {
    const text = (s: string) => new TextEncoder().encode(s);
    const onlyBad = await submitBatch([
      { name: 'a.txt', bytes: text('a') },
      { name: 'b.txt', bytes: text('b') },
    ]);
    assert.deepEqual([onlyBad.status, await codeOf(onlyBad)], [415, 'NOT_PDF']);
    const mixed = await submitBatch([
      { name: 'empty.pdf', bytes: new Uint8Array() },
      { name: 'b.txt', bytes: text('b') },
    ]);
    const mixedBody = (await mixed.json()) as { error: { code: string; details: { files: { code: string }[] } } };
    assert.equal(mixed.status, 422);
    assert.equal(mixedBody.error.code, 'BATCH_NO_VALID_FILES');
    assert.deepEqual(
      mixedBody.error.details.files.map((f) => f.code),
      ['EMPTY_FILE', 'NOT_PDF'],
    );
    const seven = Array.from({ length: 7 }, (_, i) => ({ name: `${i}.txt`, bytes: text(String(i)) }));
    const tooMany = await submitBatch(seven);
    assert.deepEqual([tooMany.status, await codeOf(tooMany)], [400, 'BATCH_TOO_MANY_FILES']);
    const none = await submitBatch([], { ocrMode: 'auto' });
    assert.deepEqual([none.status, await codeOf(none)], [400, 'FILE_REQUIRED']);
    const badOption = await submitBatch([{ name: 'x.pdf', bytes: await syntheticTextPdf(1, title()) }], {
      ocrMode: 'sometimes',
    });
    assert.deepEqual([badOption.status, await codeOf(badOption)], [400, 'INVALID_OCR_MODE']);

    // The routes are in the OpenAPI document, the upload as several binary `file` parts.
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    for (const [p, method] of [
      ['/v1/batches', 'post'],
      ['/v1/batches/{id}', 'get'],
      ['/v1/batches/{id}/cancel', 'post'],
      ['/v1/batches/{id}/retry-failed', 'post'],
      ['/v1/batches/{id}/results', 'get'],
    ] as const) {
      assert.ok(doc.paths[p]?.[method], `${method} ${p} documented`);
    }
    const file = doc.components.schemas.UploadBatchBody?.properties.file as { type: string; items: unknown };
    assert.deepEqual([file.type, file.items], ['array', { type: 'string', format: 'binary' }]);
  });

  it('retry-failed re-runs the failed pages of partial documents; the batch ends again and says so', async () => {
    faulty.page = 2;
    faulty.failNext = 1;
    const res = await submitBatch(
      [
        { name: 'one.pdf', bytes: await syntheticTextPdf(2, title()) },
        { name: 'two.pdf', bytes: await syntheticTextPdf(2, title()) },
      ],
      { callbackUrl: `${receiver.url}/retry` },
    );
    assert.equal(res.status, 202);
    const { batchId } = (await res.json()) as { batchId: string };
    const partial = await untilEnded(batchId);
    assert.equal(partial.status, 'partial');
    assert.deepEqual(partial.documents, { total: 2, completed: 1, partial: 1, failed: 0, cancelled: 0, inFlight: 0 });
    const [firstEnd] = await receiver.waitForBatch(batchId);
    assert.equal(firstEnd!.payload.data.status, 'partial');

    const retry = await post(`/v1/batches/${batchId}/retry-failed`, {});
    const retried = (await retry.json()) as { retried: { jobId: string; pages: number[] }[] };
    assert.equal(retry.status, 202, JSON.stringify(retried));
    assert.deepEqual(
      retried.retried.map((r) => r.pages),
      [[2]],
    );
    const hooks = await receiver.waitForBatch(batchId, 2);
    const end = await untilEnded(batchId);
    assert.equal(end.status, 'completed');
    assert.deepEqual(end.pages, { total: 4, done: 4, failed: 0 });
    assert.equal(hooks[1]!.payload.data.status, 'completed');
    assert.notEqual(hooks[0]!.headers['webhook-id'], hooks[1]!.headers['webhook-id']);
    const again = await post(`/v1/batches/${batchId}/retry-failed`, {});
    assert.deepEqual([again.status, await codeOf(again)], [409, 'BATCH_NOTHING_TO_RETRY']);
  });

  it('cancels every document in flight; the batch ends cancelled and is announced once', async () => {
    const scan = corpusPath('scanned/tess-phototest.pdf');
    const res = await submitBatch(
      [
        { name: 'three.pdf', bytes: await repeatFirstPage(scan, 3) },
        { name: 'four.pdf', bytes: await repeatFirstPage(scan, 4) },
      ],
      { ocrMode: 'force', callbackUrl: `${receiver.url}/cancel` },
    );
    assert.equal(res.status, 202);
    const { batchId } = (await res.json()) as { batchId: string };
    const cancel = await post(`/v1/batches/${batchId}/cancel`);
    const cancelled = (await cancel.json()) as { cancelling: number };
    assert.equal(cancel.status, 202, JSON.stringify(cancelled));
    assert.ok(cancelled.cancelling >= 1);
    const end = await untilEnded(batchId);
    assert.equal(end.status, 'cancelled');
    assert.equal(end.documents.inFlight, 0);
    assert.ok(end.documents.cancelled >= 1, JSON.stringify(end.documents));
    const [hook] = await receiver.waitForBatch(batchId);
    assert.equal(hook!.payload.data.status, 'cancelled');
    const again = await post(`/v1/batches/${batchId}/cancel`);
    assert.deepEqual([again.status, await codeOf(again)], [409, 'BATCH_FINISHED']);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.batchCompleted(batchId).length, 1);
  });

  it('the command-line client submits a folder as one batch and waits for it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-batch-cli-'));
    try {
      fs.writeFileSync(path.join(dir, 'first.pdf'), await syntheticTextPdf(1, title()));
      fs.writeFileSync(path.join(dir, 'second.pdf'), await syntheticTextPdf(2, title()));
      fs.writeFileSync(path.join(dir, 'readme.md'), 'not a document');
      fs.mkdirSync(path.join(dir, 'nested'));
      fs.writeFileSync(path.join(dir, 'nested', 'deep.pdf'), await syntheticTextPdf(1, title()));
      const single = path.join(os.tmpdir(), `folio-batch-cli-${randomUUID()}.pdf`);
      fs.writeFileSync(single, await syntheticTextPdf(1, title()));
      const cli = path.join(repoRoot, 'dist/cli/folio.js');
      const { stdout } = await run(process.execPath, [cli, 'submit', dir, single, '--wait'], {
        env: { ...process.env, FOLIO_URL: stack.url, FOLIO_API_KEY: key },
      });
      fs.rmSync(single);
      const out = JSON.parse(stdout) as { batchId: string; status: string; documents: { total: number } };
      assert.equal(out.status, 'completed');
      // The folder's two PDFs (not the Markdown file, not the nested folder) and the single file.
      assert.equal(out.documents.total, 3);
      const end = await batch(out.batchId);
      assert.deepEqual(
        end.jobs.map((j) => path.basename(j.fileName ?? '')),
        ['first.pdf', 'second.pdf', path.basename(single)],
      );
      // The folder again, recursively, saving the ZIP: its two PDFs join their finished jobs (dedupe; the
      // batch counts them as ended at once), the nested PDF is new.
      const zip = path.join(dir, 'texts.zip');
      const again = await run(process.execPath, [cli, 'submit', dir, '--recursive', '--wait', '--out', zip], {
        env: { ...process.env, FOLIO_URL: stack.url, FOLIO_API_KEY: key },
      });
      assert.equal(again.stdout, '');
      const batchId = /batch ([0-9a-f-]{36})/.exec(again.stderr)?.[1];
      assert.ok(batchId, again.stderr);
      const second = await batch(batchId);
      assert.equal(second.status, 'completed');
      assert.deepEqual(
        second.jobs.map((j) => j.fileName),
        ['first.pdf', path.join('nested', 'deep.pdf'), 'second.pdf'],
      );
      assert.deepEqual(
        second.jobs.map((j) => j.jobId).filter((id) => end.jobs.some((e) => e.jobId === id)).length,
        2,
        'the two PDFs sent before joined their jobs',
      );
      const entries = await unzip(fs.readFileSync(zip));
      assert.deepEqual([...entries.keys()], ['first.txt', 'deep.txt', 'second.txt']);
      assert.match(entries.get('deep.txt')!, /Folio synthetic page 1 of 1/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
