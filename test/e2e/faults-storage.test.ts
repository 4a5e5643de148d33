/**
 * The object store going away, on a real S3-compatible server (versitygw) of this file's own that it stops
 * and starts: an upload meeting a store that is down (before and in the middle of the body) answers 503
 * STORAGE_UNAVAILABLE with Retry-After and leaves no job and no workflow; page activities of a worker that
 * has no copy of the document retry while the store is down and the job completes once it is back.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { documentWorkflowId } from '../../core/contracts.js';
import { freePort } from '../../scripts/lib/services.js';
import { startS3Server, type S3Server } from '../../scripts/lib/s3-server.js';
import { corpusPath } from '../support/corpus.js';
import {
  authHeaders,
  harnessEnv,
  repoRoot,
  startStack,
  submit,
  waitForJob,
  type JobStatusBody,
  type Stack,
} from '../support/stack.js';
import { repeatFirstPage } from '../support/synthetic.js';
import { until } from '../support/temporal.js';

const MB = 1024 * 1024;

async function jobsOf(owner: string): Promise<number> {
  const client = new pg.Client({ connectionString: harnessEnv().APP_DATABASE_URL });
  await client.connect();
  try {
    const res = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM jobs j JOIN api_keys k ON k.id = j.api_key_id WHERE k.name = $1`,
      [owner],
    );
    return Number(res.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/**
 * POSTs a multipart upload of `total` bytes by hand, sending the first `before` bytes, then calling `between`
 * (which stops the store), then the rest; resolves with the answer, however early it comes.
 */
function slowUpload(
  url: string,
  key: string,
  total: number,
  beforeBytes: number,
  between: () => Promise<void>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const boundary = 'folio-fault-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/documents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + total + tail.length),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    // The server may close the connection once it has answered: the unsent rest of the body does not matter.
    req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
    void (async () => {
      req.write(head);
      let sent = 0;
      const chunk = Buffer.alloc(MB, 0x20);
      const send = async (upTo: number) => {
        while (sent < upTo && !req.destroyed) {
          const n = Math.min(MB, upTo - sent);
          sent += n;
          if (!req.write(chunk.subarray(0, n))) await new Promise((r) => req.once('drain', r));
        }
      };
      await send(beforeBytes);
      await between();
      await send(total);
      req.end(tail);
    })().catch(reject);
  });
}

describe('object store faults', () => {
  let s3: S3Server;
  let stack: Stack;
  let connection: Connection;
  let client: Client;

  before(async () => {
    s3 = await startS3Server({
      projectRoot: repoRoot,
      dir: path.join(harnessEnv().FOLIO_TEST_TMP!, `faults-s3-${Date.now()}`),
      port: await freePort(),
      bucket: 'folio-faults',
    });
    // Pages may wait for the store longer than the default three attempts would.
    stack = await startStack({
      name: 's3-faults',
      env: { ...s3.env(), PAGE_MAX_ATTEMPTS: '12', PAGE_HEARTBEAT_SECONDS: '4' },
    });
    connection = await Connection.connect({ address: harnessEnv().TEMPORAL_ADDRESS });
    client = new Client({ connection });
  });
  after(async () => {
    await stack?.stop();
    await connection?.close();
    await s3?.stop();
  });

  it('an upload meeting a store that is down answers 503 STORAGE_UNAVAILABLE with Retry-After and records nothing', async () => {
    const owner = `test ${new URL(stack.url).port}`;
    const before = await jobsOf(owner);
    await s3.stop();
    try {
      const res = await stack.submit({
        name: 'down.pdf',
        bytes: await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), 1),
      });
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After says when to come back');
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'STORAGE_UNAVAILABLE');
      assert.match(body.error.message, /again/);
      // Readiness says which part is away.
      const ready = await fetch(`${stack.url}/health/ready`);
      assert.equal(ready.status, 503);
      const checks = ((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks;
      assert.deepEqual(
        Object.entries(checks).map(([name, c]) => [name, c.ok]),
        [
          ['appDb', true],
          ['legacyDb', true],
          ['temporal', true],
          ['storage', false],
        ],
      );
    } finally {
      await s3.start();
    }

    // Down in the middle: 20 MB, the store stopped after 10 MB (one 8 MB part already sent).
    const cut = await slowUpload(stack.url, stack.key!, 20 * MB, 10 * MB, () => s3.stop());
    try {
      assert.equal(cut.status, 503, cut.body);
      assert.ok(Number(cut.headers['retry-after']) > 0);
      assert.equal((JSON.parse(cut.body) as { error: { code: string } }).error.code, 'STORAGE_UNAVAILABLE');
    } finally {
      await s3.start();
    }
    assert.equal(await jobsOf(owner), before, 'no job row was made');

    // Back: the same API is ready and takes documents again.
    assert.equal((await fetch(`${stack.url}/health/ready`)).status, 200);
    const ok = await stack.submit({
      name: 'back.pdf',
      bytes: await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), 1),
    });
    assert.equal(ok.status, 202);
    const { jobId } = (await ok.json()) as { jobId: string };
    await assert.doesNotReject(client.workflow.getHandle(documentWorkflowId(jobId)).describe());
    assert.equal(await jobsOf(owner), before + 1);
    await stack.startWorker();
    assert.equal((await waitForJob(stack.url, jobId, 120_000)).status, 'completed');
  });

  it('pages of a worker without a copy retry while the store is down and the job completes when it is back', async () => {
    const oneAtATime = { OCR_WORKERS: '1', WORKER_MAX_ACTIVITIES: '1' };
    for (const w of stack.workers) await w.stop();
    const first = await stack.startWorker(oneAtATime);
    const res = await submit(stack.url, {
      name: 'three.pdf',
      bytes: await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), 3),
    });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    // The first worker inspected the document (its copy is in its cache) and has begun the first page: its
    // inspection has finished (an inspection cut off would wait for its 5-minute timeout, not the page heartbeat).
    await until('the first page has begun', async () => {
      const res = await fetch(`${stack.url}/v1/jobs/${jobId}`, { headers: authHeaders(stack.url) });
      return ((await res.json()) as JobStatusBody).pages.some((p) => p.status !== 'pending');
    });
    await first.kill();
    await s3.stop();
    // A worker with an empty cache of its own: the pages need the store.
    await stack.startWorker(oneAtATime);
    const handle = client.workflow.getHandle(documentWorkflowId(jobId));
    let seen: unknown[] = [];
    await until(
      'a page activity fails for the store',
      async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        seen = pending.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.message]);
        return pending.some((a) => /object store is unavailable/.test(a.lastFailure?.message ?? ''));
      },
      60_000,
    ).catch(async (err: Error) => {
      const status = await (await fetch(`${stack.url}/v1/jobs/${jobId}`, { headers: authHeaders(stack.url) })).text();
      throw new Error(
        `${err.message}; pending activities: ${JSON.stringify(seen)}; job: ${status.slice(0, 800)}\n${stack.workers.at(-1)?.output.join('').slice(-3000)}`,
      );
    });
    await s3.start();
    const done = await waitForJob(stack.url, jobId, 180_000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      done.pages.map((p) => [p.number, p.status]),
      [
        [1, 'done'],
        [2, 'done'],
        [3, 'done'],
      ],
    );
    assert.ok(
      done.pages.some((p) => p.attempts > 1),
      'a page took more than one attempt',
    );
  });
});
