/**
 * The HTTP edge with a real API process: clear errors for bad requests, limits enforced while
 * streaming, the seed design's routes, OpenAPI and health.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels } from '../../core/db/models.js';
import { corpusPath } from '../support/corpus.js';
import {
  authHeaders,
  harnessEnv,
  folderStore,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type Stack,
} from '../support/stack.js';

describe('HTTP API', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const { Job, JobPage } = initAppModels(db);
  let stack: Stack;
  let api: ApiProcess;
  // Above the mixed corpus file read below (210 KB).
  const maxUpload = 300_000;

  before(async () => {
    stack = await startStack({
      name: 'api',
      env: folderStore(),
      api: { MAX_UPLOAD_BYTES: String(maxUpload) },
      worker: true,
    });
    api = stack.api;
  });
  after(async () => {
    await stack?.stop();
    await db.close();
  });

  async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await res.json()) as { error: { code: string; message: string } };
    return { status: res.status, code: body.error.code, message: body.error.message };
  }

  it('accepts a PDF with 202, Location, Retry-After and links, and stores it with its SHA-256', async () => {
    const file = corpusPath('born-digital/pdfjs-issue840.pdf');
    const res = await submit(api.url, file, { ocrMode: 'skip', pages: '2' });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { jobId: string; status: string; links: Record<string, string> };
    assert.equal(res.headers.get('location'), `/v1/jobs/${body.jobId}`);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal(body.status, 'queued');
    assert.match(body.links.workflow!, new RegExp(`/workflows/document-${body.jobId}$`));
    const job = await Job.findByPk(body.jobId);
    const { createHash } = await import('node:crypto');
    assert.equal(job?.sha256, createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    assert.equal(job?.sizeBytes, fs.statSync(file).size);
    assert.ok(job && fs.existsSync(path.join(env.STORAGE_DIR!, job.storageKey)));
    const status = await waitForJob(api.url, body.jobId, 60_000);
    assert.equal(status.status, 'completed');
    assert.deepEqual(
      status.pages.map((p) => p.number),
      [2],
      'only the selected page',
    );
  });

  it('reads text-layer pages from their layer and a scan at its own resolution, and records which had a layer', async () => {
    // Pages 1 and 3 carry text; page 2 is a 150 dpi scan.
    const res = await submit(api.url, corpusPath('mixed/derived-tagged-plus-scan.pdf'));
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    assert.equal((await waitForJob(api.url, jobId, 120_000)).status, 'completed');
    const rows = await JobPage.findAll({ where: { jobId }, order: [['pageNumber', 'ASC']] });
    assert.deepEqual(
      rows.map((r) => [r.pageNumber, r.method, r.hasTextLayer, r.renderDpi]),
      [
        [1, 'text-layer', true, null],
        [2, 'ocr', false, 150],
        [3, 'text-layer', true, null],
      ],
    );
  });

  it('answers bad options with their own codes and keeps nothing', async () => {
    const before = await Job.count();
    const file = corpusPath('born-digital/pdfjs-issue840.pdf');
    assert.deepEqual(
      await errorOf(await submit(api.url, file, { ocrMode: 'sometimes' })).then((e) => [e.status, e.code]),
      [400, 'INVALID_OCR_MODE'],
    );
    const lang = await errorOf(await submit(api.url, file, { languages: 'klingon' }));
    assert.deepEqual([lang.status, lang.code], [400, 'LANGUAGE_UNAVAILABLE']);
    assert.match(lang.message, /eng/, 'names the installed languages');
    assert.deepEqual(await errorOf(await submit(api.url, file, { pages: '3-1' })).then((e) => [e.status, e.code]), [
      400,
      'PAGE_RANGE_INVALID',
    ]);
    assert.equal(await Job.count(), before, 'no job row for a refused upload');
  });

  it('refuses a body that is not multipart, and a form without a file', async () => {
    const json = await fetch(`${api.url}/v1/documents`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', ...authHeaders(api.url) },
    });
    assert.deepEqual(await errorOf(json).then((e) => [e.status, e.code]), [415, 'MULTIPART_REQUIRED']);
    const form = new FormData();
    form.append('ocrMode', 'auto');
    const none = await fetch(`${api.url}/v1/documents`, { method: 'POST', body: form, headers: authHeaders(api.url) });
    assert.deepEqual(await errorOf(none).then((e) => [e.status, e.code]), [400, 'FILE_REQUIRED']);
  });

  it('stops reading an upload at the size limit with 413 and leaves no file behind', async () => {
    const stored = () =>
      fs.existsSync(path.join(env.STORAGE_DIR!, 'documents'))
        ? fs.readdirSync(path.join(env.STORAGE_DIR!, 'documents')).length
        : 0;
    const filesBefore = stored();
    const big = new Uint8Array(maxUpload * 3);
    big.set(Buffer.from('%PDF-1.7\n'));
    const res = await submit(api.url, { name: 'big.pdf', bytes: big }).catch((err: Error) => err);
    // The server may close the connection before the client finished sending: either way, no 2xx.
    if (res instanceof Response) {
      assert.deepEqual(await errorOf(res).then((e) => [e.status, e.code]), [413, 'UPLOAD_TOO_LARGE']);
    }
    assert.equal(stored(), filesBefore);
  });

  it('rejects unknown and malformed job ids with 404', async () => {
    const unknown = await fetch(`${api.url}/v1/jobs/00000000-0000-4000-8000-000000000000`, {
      headers: authHeaders(api.url),
    });
    assert.deepEqual(await errorOf(unknown).then((e) => [e.status, e.code]), [404, 'JOB_NOT_FOUND']);
    const malformed = await fetch(`${api.url}/v1/jobs/not-a-uuid`, { headers: authHeaders(api.url) });
    assert.equal(malformed.status, 404);
  });

  it('keeps the seed routes working: /extract/pdf and /extract/status/{task_id}', async () => {
    const res = await submit(api.url, corpusPath('scanned/tess-phototest.pdf'), {}, '/extract/pdf');
    assert.equal(res.status, 202);
    const body = (await res.json()) as { task_id: string; status: string; message: string };
    assert.equal(body.status, 'pending');
    assert.ok(body.message);
    let last: Record<string, unknown> = {};
    for (let i = 0; i < 240; i++) {
      last = (await fetch(`${api.url}/extract/status/${body.task_id}`, { headers: authHeaders(api.url) }).then((r) =>
        r.json(),
      )) as Record<string, unknown>;
      assert.equal(last.task_id, body.task_id);
      assert.equal(typeof last.progress, 'number');
      if (last.status === 'completed' || last.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(last.status, 'completed');
    const result = last.result as { text: string };
    assert.match(result.text, /quick brown dog/);

    const bad = await submit(api.url, corpusPath('corrupt/ocrmypdf-invalid.pdf'), {}, '/extract/pdf');
    const { task_id } = (await bad.json()) as { task_id: string };
    await waitForJob(api.url, task_id, 60_000);
    const failed = (await fetch(`${api.url}/extract/status/${task_id}`, { headers: authHeaders(api.url) }).then((r) =>
      r.json(),
    )) as Record<string, unknown>;
    assert.equal(failed.status, 'failed');
    assert.match(String(failed.error_message), /damaged|corrupt|invalid/i);
  });

  it('serves its OpenAPI document, generated from the code, and security headers', async () => {
    const res = await fetch(`${api.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('content-security-policy'));
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
      components: { securitySchemes?: Record<string, { type: string; name?: string; scheme?: string }> };
    };
    for (const p of [
      '/v1/documents',
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/result',
      '/v1/jobs/{id}/events',
      '/v1/jobs/{id}/cancel',
      '/v1/jobs/{id}/retry',
      '/api/v1/jobs',
      '/api/v1/jobs/{job_id}',
      '/extract/pdf',
      '/health/ready',
    ]) {
      assert.ok(doc.paths[p], `${p} documented`);
    }
    assert.equal(doc.components.securitySchemes?.apiKey?.name, 'X-API-Key');
    assert.equal(doc.components.securitySchemes?.bearer?.scheme, 'bearer');
    assert.deepEqual(
      doc.paths['/v1/jobs']?.get?.security?.map((s) => Object.keys(s)[0]).sort(),
      ['apiKey', 'bearer'],
      'the key is required on the jobs routes',
    );
    assert.equal(doc.paths['/health/ready']?.get?.security, undefined);
  });

  it('reports readiness of both databases, Temporal and storage', async () => {
    const res = await fetch(`${api.url}/health/ready`);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body.checks).sort(), ['appDb', 'legacyDb', 'storage', 'temporal']);
    assert.ok(Object.values(body.checks).every((c) => c.ok));
  });
});
