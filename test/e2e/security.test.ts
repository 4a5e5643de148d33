/**
 * The API's protections on real processes and the real app DB: request rate per key shared by two API
 * replicas, the per-key cap on documents in flight (refused before the body is stored), 401/403, CORS from
 * an allowlist, helmet headers on every answer, and client file names kept only as data.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { documentKey } from '../../core/storage/storage.js';
import {
  createApiKey,
  folderStore,
  harnessEnv,
  startStack,
  submit,
  type ApiProcess,
  type Stack,
} from '../support/stack.js';

async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: harnessEnv().APP_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A tiny upload that passes the content check; `tag` makes each one distinct (no dedupe). */
function pdfBytes(tag: string): { name: string; bytes: Uint8Array } {
  return { name: `${tag}.pdf`, bytes: new TextEncoder().encode(`%PDF-1.4\n% ${tag}\n%%EOF\n`) };
}

function storedFiles(): number {
  const dir = path.join(harnessEnv().STORAGE_DIR!, 'documents');
  return fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API rate limit per key, shared by replicas', () => {
  let stack: Stack;
  let a: ApiProcess;
  let b: ApiProcess;

  before(async () => {
    const env = { RATE_LIMIT_REQUESTS: '5', RATE_LIMIT_WINDOW_SECONDS: '120' };
    stack = await startStack({ name: 'rate', env: folderStore(), api: [env, env] });
    [a, b] = stack.apis as [ApiProcess, ApiProcess];
    // The per-address count is shared by every API process of the test DB: start this test from none.
    await sql(`DELETE FROM rate_limits WHERE key LIKE 'api:ip:%'`);
  });
  after(async () => {
    await stack?.stop();
    await sql(`DELETE FROM rate_limits WHERE key LIKE 'api:ip:%'`);
  });

  it('counts one key across both API processes and answers 429 RATE_LIMITED with Retry-After', async () => {
    const remaining: string[] = [];
    for (const api of [a, b, a, b, a]) {
      const res = await fetch(`${api.url}/v1/jobs?limit=1`, { headers: bearer(a.key!) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit-limit'), '5');
      assert.equal(res.headers.get('ratelimit-policy'), '5;w=120');
      remaining.push(res.headers.get('ratelimit-remaining') ?? '');
      await res.arrayBuffer();
    }
    assert.deepEqual(remaining, ['4', '3', '2', '1', '0']);

    const limited = await fetch(`${b.url}/v1/jobs`, { headers: bearer(a.key!) });
    assert.equal(limited.status, 429);
    const body = (await limited.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'RATE_LIMITED');
    assert.match(body.error.message, /5 per 120 s/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 120, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');

    // Another key has its own budget.
    const other = await fetch(`${a.url}/v1/jobs?limit=1`, { headers: bearer(b.key!) });
    assert.equal(other.status, 200);
    await other.arrayBuffer();
    // Health probes are never limited.
    const health = await fetch(`${a.url}/health/live`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
  });

  it('counts requests without a valid key per client address: 401 until the limit, then 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${a.url}/v1/jobs`, { headers: i % 2 ? bearer('folio_000000000000_wrong') : {} });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  });
});

describe('documents in flight per key', () => {
  let stack: Stack;
  let api: ApiProcess;

  before(async () => {
    // No worker on this queue: accepted documents stay queued, i.e. in flight.
    stack = await startStack({ name: 'inflight', env: folderStore(), api: { MAX_IN_FLIGHT_PER_KEY: '2' } });
    api = stack.api;
  });
  after(async () => {
    await stack?.stop();
  });

  it('accepts up to the cap, then answers 429 DOCUMENTS_IN_FLIGHT_LIMIT without storing the upload', async () => {
    const first = await submit(api.url, pdfBytes('in-flight-1'), {}, '/v1/documents', { 'idempotency-key': 'f-1' });
    assert.equal(first.status, 202);
    const firstJob = ((await first.json()) as { jobId: string }).jobId;
    const second = await submit(api.url, pdfBytes('in-flight-2'));
    assert.equal(second.status, 202);
    await second.arrayBuffer();

    const before = storedFiles();
    const refused = await submit(api.url, pdfBytes('in-flight-3'));
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'DOCUMENTS_IN_FLIGHT_LIMIT');
    assert.match(body.error.message, /limit is 2/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(storedFiles(), before, 'the refused upload was not stored');
    const [{ n }] = (await sql<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE filename = 'in-flight-3.pdf'`)) as [
      { n: string },
    ];
    assert.equal(n, '0', 'no job for the refused upload');

    // A repeated Idempotency-Key is not new work: it still gets its job back.
    const replay = await submit(api.url, pdfBytes('in-flight-1'), {}, '/v1/documents', { 'idempotency-key': 'f-1' });
    assert.equal(replay.status, 202);
    assert.equal(((await replay.json()) as { jobId: string }).jobId, firstJob);
  });

  it('lets no more than the cap through when one key uploads in parallel', async () => {
    const { key, id } = await createApiKey('parallel uploader', 'client');
    const before = storedFiles();
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => submit(api.url, pdfBytes(`parallel-${i}`), {}, '/v1/documents', bearer(key))),
    );
    const statuses = answers.map((r) => r.status).sort();
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    assert.deepEqual(statuses, [202, 202, 429, 429, 429]);
    const [{ n }] = (await sql<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE api_key_id = $1`, [id])) as [
      { n: string },
    ];
    assert.equal(n, '2');
    assert.equal(storedFiles(), before + 2, 'refused uploads leave no file behind');
  });
});

describe('API keys, file names, headers and CORS', () => {
  let stacks: Stack[] = [];
  let api: ApiProcess;
  let open: ApiProcess;

  before(async () => {
    // Two stacks, each API on a queue of its own.
    stacks = await Promise.all([
      startStack({ name: 'sec', env: folderStore(), api: { CORS_ORIGINS: 'https://app.example.com' } }),
      startStack({ name: 'sec-open', env: folderStore() }),
    ]);
    [api, open] = stacks.map((s) => s.api) as [ApiProcess, ApiProcess];
  });
  after(async () => {
    await Promise.all(stacks.map((s) => s.stop()));
  });

  it('keeps a client file name such as ../../etc/passwd only as data; the stored name is the job id', async () => {
    const res = await submit(api.url, { name: '../../etc/passwd', bytes: pdfBytes('traversal').bytes });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    const [row] = await sql<{ filename: string; storage_key: string }>(
      `SELECT filename, storage_key FROM jobs WHERE id = $1`,
      [jobId],
    );
    assert.equal(row?.filename, '../../etc/passwd');
    assert.equal(row?.storage_key, documentKey(jobId));
    const stored = path.join(harnessEnv().STORAGE_DIR!, row.storage_key);
    assert.ok(fs.existsSync(stored), 'the upload is under STORAGE_DIR by its job id');
    const status = (await (await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: bearer(api.key!) })).json()) as {
      filename: string;
    };
    assert.equal(status.filename, '../../etc/passwd');
  });

  it('answers 401 without a key or with a revoked one, and 403 for another client’s job', async () => {
    const none = await fetch(`${api.url}/v1/jobs`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="folio"');
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');

    const owner = await createApiKey('owner client', 'client');
    const stranger = await createApiKey('other client', 'client');
    const res = await submit(api.url, pdfBytes('owned'), {}, '/v1/documents', bearer(owner.key));
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    const forbidden = await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: bearer(stranger.key) });
    assert.equal(forbidden.status, 403);
    assert.equal(((await forbidden.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');

    await sql(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [owner.id]);
    const revoked = await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: bearer(owner.key) });
    assert.equal(revoked.status, 401);
    await revoked.arrayBuffer();
  });

  it('puts helmet headers on every answer, errors included', async () => {
    for (const res of [
      await fetch(`${api.url}/v1/jobs`),
      await fetch(`${api.url}/no-such-route`),
      await fetch(`${api.url}/health/live`),
    ]) {
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', res.url);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/, res.url);
      assert.ok(res.headers.get('strict-transport-security'), res.url);
      assert.equal(res.headers.get('x-powered-by'), null, res.url);
      await res.arrayBuffer();
    }
  });

  it('allows cross-origin calls only from CORS_ORIGINS', async () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/v1/jobs`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(api.url, 'https://app.example.com');
    assert.ok(allowed.status === 204 || allowed.status === 200, `preflight: ${allowed.status}`);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    await allowed.arrayBuffer();

    const denied = await preflight(api.url, 'https://evil.example');
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    await denied.arrayBuffer();
    const noList = await preflight(open.url, 'https://app.example.com');
    assert.equal(noList.headers.get('access-control-allow-origin'), null, 'no allowlist: no cross-origin access');
    await noList.arrayBuffer();

    const actual = await fetch(`${api.url}/v1/jobs?limit=1`, {
      headers: { ...bearer(api.key!), origin: 'https://app.example.com' },
    });
    assert.equal(actual.status, 200);
    assert.equal(actual.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(actual.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    await actual.arrayBuffer();

    // Resumable uploads from a browser: tus's methods and headers pass the preflight; the answers carry the
    // API's CORS headers (never tus's own `*`) and expose the upload's URL, offset and job.
    const tusPreflight = await fetch(`${api.url}/v1/uploads/00000000-0000-4000-8000-000000000000`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization,tus-resumable,upload-offset,content-type',
      },
    });
    assert.match(tusPreflight.headers.get('access-control-allow-methods') ?? '', /PATCH/);
    assert.match(tusPreflight.headers.get('access-control-allow-headers') ?? '', /Upload-Offset/i);
    await tusPreflight.arrayBuffer();
    const created = await fetch(`${api.url}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...bearer(api.key!),
        origin: 'https://app.example.com',
        'tus-resumable': '1.0.0',
        'upload-length': '10',
      },
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const exposed = created.headers.get('access-control-expose-headers') ?? '';
    for (const header of ['Location', 'Upload-Offset', 'Folio-Job-Id']) assert.match(exposed, new RegExp(header));
    await created.arrayBuffer();
  });
});
