/**
 * Resumable uploads (tus 1.0 at /v1/uploads) and the original back (GET /v1/jobs/{id}/document), end to end
 * on the real stack: an API and a worker processes, the harness's Temporal and PostgreSQL.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMaintenanceActivities } from '../../activities/maintenance.js';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createStorage } from '../../core/storage/create-storage.js';
import { s3ClientConfig } from '../../core/storage/s3-storage.js';
import { LocalStorage } from '../../core/storage/storage.js';
import { createUploadStore, UPLOADS_FOLDER } from '../../core/uploads/upload-store.js';
import { loadConfig } from '../../src/config/config.js';
import { mockActivity, openActivityTestBed, type ActivityTestBed } from '../support/activities.js';
import { corpusPath } from '../support/corpus.js';
import {
  authHeaders,
  createApiKey,
  harnessEnv,
  startStack,
  submit,
  type ApiProcess,
  type Stack,
} from '../support/stack.js';

const TUS = { 'tus-resumable': '1.0.0' };

/** tus's Upload-Metadata: `key base64(value)` pairs. */
function metadata(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');
}

interface ErrorBody {
  error: { code: string; message: string };
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as ErrorBody;
  return { status: res.status, code: body.error.code, message: body.error.message };
}

describe('resumable uploads (tus) and the original document', () => {
  let stack: Stack;
  let api: ApiProcess;
  let bed: ActivityTestBed;
  const smallFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-uploads-'));
  const otherFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-uploads-other-'));
  /** The harness's bucket, where the stack keeps its documents and unfinished uploads. */
  const bucket = ((storage) => {
    if (storage.kind !== 's3') throw new Error('the harness keeps documents in its bucket: STORAGE_URL=s3://…');
    return storage;
  })(loadConfig(harnessEnv()).storage);
  const s3 = new S3Client(s3ClientConfig(bucket));
  /** The capped API's own prefix in the bucket: its 1.8 s expiry never reaches other tests' uploads. */
  const cappedPrefix = `uploads-test-${randomUUID().slice(0, 8)}`;
  /** An API with a 1-document in-flight cap, uploads expiring after 1.8 s and storage of its own. */
  let capped: ApiProcess;

  /** The keys of an upload's objects in the bucket (`uploads/<id>`, `.info`, `.part`), under `prefix`. */
  async function uploadObjects(id: string, prefix = bucket.prefix): Promise<string[]> {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: `${prefix}${UPLOADS_FOLDER}/${id}` }),
    );
    return (page.Contents ?? []).map((o) => o.Key!);
  }
  const born = corpusPath('born-digital/pdfjs-issue840.pdf');
  const bornBytes = fs.readFileSync(born);

  before(async () => {
    stack = await startStack({ name: 'uploads', worker: true, env: { MAX_UPLOAD_BYTES: String(1024 * 1024) } });
    api = stack.api;
    capped = await stack.startApi({
      STORAGE_DIR: smallFolder,
      STORAGE_URL: `s3://${bucket.bucket}/${cappedPrefix}`,
      MAX_IN_FLIGHT_PER_KEY: '1',
      UPLOAD_EXPIRY_HOURS: '0.0005',
      // Its jobs are never run: no worker polls this queue.
      TEMPORAL_TASK_QUEUE: `${stack.taskQueue}-idle`,
    });
    bed = await openActivityTestBed('uploads');
  });
  after(async () => {
    await stack?.stop();
    await bed?.close();
    fs.rmSync(smallFolder, { recursive: true, force: true });
    fs.rmSync(otherFolder, { recursive: true, force: true });
    s3.destroy();
  });

  const create = (url: string, length: number, meta: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...TUS,
        ...authHeaders(url),
        'upload-length': String(length),
        'upload-metadata': metadata(meta),
        ...headers,
      },
    });
  const patch = (url: string, location: string, offset: number, body: Uint8Array, auth = authHeaders(url)) =>
    fetch(new URL(location, url), {
      method: 'PATCH',
      headers: {
        ...TUS,
        ...auth,
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
      },
      body,
    });
  const head = (url: string, location: string, headers = authHeaders(url)) =>
    fetch(new URL(location, url), { method: 'HEAD', headers: { ...TUS, ...headers } });

  /** Sends `body` as a PATCH but cuts the connection once `sent` bytes of it are out. */
  function cutPatch(location: string, offset: number, body: Buffer, sent: number): Promise<void> {
    const url = new URL(location, api.url);
    return new Promise((resolve) => {
      const req = http.request(url, {
        method: 'PATCH',
        headers: {
          ...TUS,
          ...authHeaders(api.url),
          'upload-offset': String(offset),
          'content-type': 'application/offset+octet-stream',
          'content-length': String(body.length),
        },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(body.subarray(0, sent), () => {
        // Let the server store what it got, then drop the connection mid-body.
        setTimeout(() => req.destroy(), 500);
      });
    });
  }

  let jobId: string;

  it('an upload cut after half on one API resumes from HEAD through another (the bucket, no shared folder); the finishing PATCH creates the job, which reads the text', async () => {
    const created = await create(api.url, bornBytes.length, {
      filename: 'issue 840.pdf',
      languages: 'eng',
      priority: '2',
    });
    assert.equal(created.status, 201, await created.clone().text());
    const location = created.headers.get('location')!;
    assert.match(location, /^\/v1\/uploads\/[0-9a-f-]{36}$/);
    assert.ok(created.headers.get('upload-expires'));

    const half = Math.floor(bornBytes.length / 2);
    await cutPatch(location, 0, bornBytes, half);
    // Another API process on the same bucket, with a folder of its own, as behind a load balancer.
    const other = await stack.startApi({ STORAGE_DIR: otherFolder });
    const sameKey = authHeaders(api.url);
    const resumed = await head(other.url, location, sameKey);
    assert.equal(resumed.status, 200);
    const offset = Number(resumed.headers.get('upload-offset'));
    assert.ok(offset > 0 && offset <= half, `offset ${offset} after a cut at ${half}`);
    assert.equal(Number(resumed.headers.get('upload-length')), bornBytes.length);

    // A PATCH from another offset is refused without touching the upload.
    const wrong = await patch(other.url, location, 0, bornBytes.subarray(0, 10), sameKey);
    assert.deepEqual(
      { status: wrong.status, code: (await errorOf(wrong)).code },
      { status: 409, code: 'UPLOAD_OFFSET_MISMATCH' },
    );

    const done = await patch(other.url, location, offset, bornBytes.subarray(offset), sameKey);
    assert.equal(done.status, 204, await done.clone().text());
    assert.equal(Number(done.headers.get('upload-offset')), bornBytes.length);
    jobId = done.headers.get('folio-job-id')!;
    assert.match(jobId, /^[0-9a-f-]{36}$/);
    // The upload is gone once it became a job.
    assert.equal((await head(api.url, location)).status, 404);
    assert.equal((await head(other.url, location, sameKey)).status, 404);
    // Nothing of the upload went through either API's folder: its parts were in the bucket. The second API's
    // folder is its own (no uploads folder at all); the harness's is shared with the run's folder-store tests,
    // so there the upload's own files are looked for.
    assert.equal(fs.existsSync(path.join(otherFolder, UPLOADS_FOLDER)), false, `no ${UPLOADS_FOLDER} folder`);
    const uploadId = location.split('/').pop()!;
    for (const name of [uploadId, `${uploadId}.json`]) {
      const file = path.join(harnessEnv().STORAGE_DIR!, UPLOADS_FOLDER, name);
      assert.equal(fs.existsSync(file), false, `${file} was never written`);
    }
    assert.deepEqual(await uploadObjects(location.split('/').pop()!), [], "the upload's objects went");

    const job = await stack.waitForJob(jobId, 120_000);
    assert.equal(job.status, 'completed');
    assert.equal((job as typeof job & { priority: number }).priority, 2, 'the priority in Upload-Metadata');
    // The same text as the multipart route reads from the same file (pages 1-2: other options, no dedupe).
    const multipart = (await (await submit(api.url, born, { pages: '1-2' })).json()) as { jobId: string };
    assert.equal((await stack.waitForJob(multipart.jobId, 120_000)).status, 'completed');
    const [viaTus, viaForm] = await Promise.all([stack.getResult(jobId), stack.getResult(multipart.jobId)]);
    assert.equal(viaTus.pages.length, 2);
    assert.ok(viaTus.pages.every((p) => p.text.length > 20));
    assert.deepEqual(
      viaTus.pages.map((p) => p.text),
      viaForm.pages.map((p) => p.text),
    );
  });

  it('the same content with the same options joins the live job (dedupe)', async () => {
    const created = await create(api.url, bornBytes.length, { filename: 'again.pdf', languages: 'eng' });
    assert.equal(created.status, 201);
    const done = await patch(api.url, created.headers.get('location')!, 0, bornBytes);
    assert.equal(done.status, 204);
    assert.equal(done.headers.get('folio-job-id'), jobId);
    assert.equal(done.headers.get('folio-duplicate-of'), jobId);
  });

  it("an encrypted PDF's password travels sealed in Upload-Metadata and opens the document", async () => {
    const encrypted = fs.readFileSync(corpusPath('encrypted/pdfjs-issue6010_1.pdf'));
    const created = await create(api.url, encrypted.length, { filename: 'locked.pdf', password: 'abc' });
    assert.equal(created.status, 201, await created.clone().text());
    const location = created.headers.get('location')!;
    // Neither what HEAD echoes nor what is written beside the upload holds the password in clear.
    const echoed = (await head(api.url, location)).headers.get('upload-metadata') ?? '';
    const pairs = Object.fromEntries(echoed.split(',').map((p) => p.split(' '))) as Record<string, string>;
    const sealed = Buffer.from(pairs.password ?? '', 'base64').toString();
    assert.ok(sealed.length > 20 && sealed !== 'abc', sealed);
    const id = location.split('/').pop()!;
    const stored = await s3.send(
      new GetObjectCommand({ Bucket: bucket.bucket, Key: `${bucket.prefix}${UPLOADS_FOLDER}/${id}.info` }),
    );
    const info = await stored.Body!.transformToString();
    assert.equal((JSON.parse(info) as { metadata: { password: string } }).metadata.password, sealed);

    const done = await patch(api.url, location, 0, encrypted);
    assert.equal(done.status, 204);
    const job = await stack.waitForJob(done.headers.get('folio-job-id')!, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const result = await stack.getResult(job.jobId);
    assert.ok(result.pages[0]!.text.trim().length > 0);
  });

  it('GET /v1/jobs/{id}/document streams the original byte for byte, with its type, length and name', async () => {
    const res = await fetch(`${api.url}/v1/jobs/${jobId}/document`, { headers: authHeaders(api.url) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(Number(res.headers.get('content-length')), bornBytes.length);
    assert.equal(
      res.headers.get('content-disposition'),
      `attachment; filename="issue 840.pdf"; filename*=UTF-8''issue%20840.pdf`,
    );
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bornBytes));

    // An image comes back as its own type.
    const png = fs.readFileSync(corpusPath('not-pdf/ocrmypdf-crom-png-renamed.pdf'));
    const image = (await (await submit(api.url, { name: 'crom.png', bytes: png })).json()) as { jobId: string };
    const imageRes = await fetch(`${api.url}/v1/jobs/${image.jobId}/document`, { headers: authHeaders(api.url) });
    assert.equal(imageRes.headers.get('content-type'), 'image/png');
    assert.ok(Buffer.from(await imageRes.arrayBuffer()).equals(png));

    // Another client's job: refused as its status is.
    const other = await createApiKey('uploads other client', 'client');
    const foreign = await fetch(`${api.url}/v1/jobs/${jobId}/document`, {
      headers: { authorization: `Bearer ${other.key}` },
    });
    assert.equal((await errorOf(foreign)).code, 'FORBIDDEN');
    assert.equal(foreign.status, 403);
    const missing = await fetch(`${api.url}/v1/jobs/00000000-0000-4000-8000-000000000000/document`, {
      headers: authHeaders(api.url),
    });
    assert.deepEqual(await errorOf(missing), {
      status: 404,
      code: 'JOB_NOT_FOUND',
      message: 'No job has the id 00000000-0000-4000-8000-000000000000.',
    });
  });

  it('410 DOCUMENT_ARCHIVED once the retention cleanup removed the document', async () => {
    // Finished before 2006; the cleanup activity with a 20-year retention archives it, as the schedule would.
    await bed.models.Job.update({ finishedAt: new Date('2005-01-01T00:00:00Z') }, { where: { id: jobId } });
    const storage = new LocalStorage(harnessEnv().STORAGE_DIR!);
    const { cleanupExpiredJobsBatch } = createMaintenanceActivities({ models: bed.models, jobs: bed.jobs, storage });
    const batch = await mockActivity().run(cleanupExpiredJobsBatch, { retentionDays: 20 * 365, limit: 100 });
    assert.ok(batch.archived >= 1);
    const res = await fetch(`${api.url}/v1/jobs/${jobId}/document`, { headers: authHeaders(api.url) });
    const error = await errorOf(res);
    assert.equal(error.status, 410);
    assert.equal(error.code, 'DOCUMENT_ARCHIVED');
    assert.match(error.message, /retention/);
  });

  it('refuses without a key, without Tus-Resumable, over the size limit, with bad options, and not a document', async () => {
    const noKey = await fetch(`${api.url}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, 'upload-length': '10' },
    });
    assert.deepEqual([noKey.status, (await errorOf(noKey)).code], [401, 'UNAUTHORIZED']);

    const noTus = await fetch(`${api.url}/v1/uploads`, {
      method: 'POST',
      headers: { ...authHeaders(api.url), 'upload-length': '10' },
    });
    assert.deepEqual([noTus.status, (await errorOf(noTus)).code], [412, 'TUS_RESUMABLE_REQUIRED']);

    const tooLarge = await create(api.url, 1024 * 1024 + 1, { filename: 'big.pdf' });
    const large = await errorOf(tooLarge);
    assert.deepEqual([large.status, large.code], [413, 'UPLOAD_TOO_LARGE']);
    assert.match(large.message, /MAX_UPLOAD_BYTES/);

    const badMode = await errorOf(await create(api.url, 100, { ocrMode: 'sometimes' }));
    assert.deepEqual([badMode.status, badMode.code], [400, 'INVALID_OCR_MODE']);
    const badLanguage = await errorOf(await create(api.url, 100, { languages: 'xx' }));
    assert.deepEqual([badLanguage.status, badLanguage.code], [400, 'LANGUAGE_UNAVAILABLE']);
    const badPages = await errorOf(await create(api.url, 100, { pages: '3-1' }));
    assert.deepEqual([badPages.status, badPages.code], [400, 'PAGE_RANGE_INVALID']);
    const badPriority = await errorOf(await create(api.url, 100, { priority: 'urgent' }));
    assert.deepEqual([badPriority.status, badPriority.code], [400, 'PRIORITY_INVALID']);
    const empty = await errorOf(await create(api.url, 0, { filename: 'empty.pdf' }));
    assert.deepEqual([empty.status, empty.code], [400, 'EMPTY_FILE']);

    // Sniffed at the finishing PATCH: refused, and the upload is removed.
    const text = Buffer.from('plain text, not a document\n'.repeat(10));
    const created = await create(api.url, text.length, { filename: 'notes.pdf' });
    const location = created.headers.get('location')!;
    const notPdf = await errorOf(await patch(api.url, location, 0, text));
    assert.deepEqual([notPdf.status, notPdf.code], [415, 'NOT_PDF']);
    assert.equal((await head(api.url, location)).status, 404);

    // An upload is its creator's alone.
    const mine = await create(api.url, bornBytes.length, { filename: 'mine.pdf' });
    const other = await createApiKey('uploads stranger', 'client');
    const foreign = await head(api.url, mine.headers.get('location')!, { authorization: `Bearer ${other.key}` });
    assert.equal(foreign.status, 403);
    const terminated = await fetch(new URL(mine.headers.get('location')!, api.url), {
      method: 'DELETE',
      headers: { ...TUS, ...authHeaders(api.url) },
    });
    assert.equal(terminated.status, 204);
  });

  it('the in-flight cap holds at creation; expired unfinished uploads go with the orphan sweep', async () => {
    const { key } = await createApiKey('uploads capped', 'client');
    const headers = { authorization: `Bearer ${key}` };
    const first = await fetch(`${capped.url}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, ...headers, 'upload-length': String(bornBytes.length) },
    });
    assert.equal(first.status, 201);
    const done = await fetch(new URL(first.headers.get('location')!, capped.url), {
      method: 'PATCH',
      headers: { ...TUS, ...headers, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: bornBytes,
    });
    assert.equal(done.status, 204);
    // One job queued (no worker runs this API's queue): the key is at its cap of 1.
    const second = await fetch(`${capped.url}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, ...headers, 'upload-length': '100' },
    });
    const refused = await errorOf(second);
    assert.deepEqual([refused.status, refused.code], [429, 'DOCUMENTS_IN_FLIGHT_LIMIT']);
    assert.equal(second.headers.get('retry-after'), '30');

    // An unfinished upload of an owner without a cap, left past its 1.8 s expiry.
    const left = await fetch(`${capped.url}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, ...authHeaders(capped.url), 'upload-length': String(bornBytes.length) },
    });
    const location = left.headers.get('location')!;
    assert.equal(
      (await patch(capped.url, location, 0, bornBytes.subarray(0, 1000))).headers.get('upload-offset'),
      '1000',
    );
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await head(capped.url, location)).status, 410);
    assert.deepEqual(await errorOf(await patch(capped.url, location, 1000, bornBytes.subarray(1000, 2000))), {
      status: 410,
      code: 'UPLOAD_EXPIRED',
      message: 'The upload expired before it was finished; start it again with POST /v1/uploads.',
    });
    // The sweep as the worker runs it, on the bucket: the worker needs no uploads folder.
    const id = location.split('/').pop()!;
    const prefixed = { ...bucket, prefix: `${cappedPrefix}/` };
    assert.ok((await uploadObjects(id, prefixed.prefix)).length > 0, 'the unfinished upload is in the bucket');
    const uploads = createUploadStore({ kind: 's3', location: prefixed, expiryMs: 1800 });
    const { sweepOrphanUploads } = createMaintenanceActivities({
      models: bed.models,
      jobs: bed.jobs,
      storage: createStorage(prefixed),
      uploads,
    });
    const swept = await mockActivity().run(sweepOrphanUploads, { graceSeconds: 3600 });
    // The first upload became a job and went at once; only the unfinished one was left to expire.
    assert.equal(swept.expiredUploads, 1);
    assert.deepEqual(await uploadObjects(id, prefixed.prefix), []);
    assert.equal(fs.existsSync(path.join(smallFolder, UPLOADS_FOLDER)), false, 'no uploads folder was made');
    assert.equal((await head(capped.url, location)).status, 404);
  });
});
