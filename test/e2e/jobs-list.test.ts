/**
 * GET /v1/jobs and the seed's /api/v1/jobs over 100,000 generated jobs: every filter, sort and pagination
 * path against numbers derived from the generator, API-key auth (401/403), and EXPLAIN plans showing the
 * list queries use indexes. Prints the list latency at this size (no timed assertion: shared machine).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { QueryTypes } from 'sequelize';
import { createSequelize } from '../../core/db/connections.js';
import { JobsListService, type JobListQuery } from '../../src/jobs/jobs-list.service.js';
import type { Principal } from '../../src/auth/api-keys.service.js';
import { createApiKey, harnessEnv, startStack, type ApiProcess, type Stack } from '../support/stack.js';

const ROWS = 100_000;
const STATUSES = ['queued', 'processing', 'completed', 'partial', 'failed', 'cancelled'];
/** What the generator gives row i (1-based): kept next to the SQL so the expectations are independent of the API. */
const statusOf = (i: number) => STATUSES[i % 6]!;
const createdOf = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000);

interface ListBody {
  jobs: {
    jobId: string;
    status: string;
    filename: string | null;
    sha256: string;
    pageCount: number | null;
    createdAt: string;
    updatedAt: string;
    durationMs: number | null;
  }[];
  total: number;
  limit: number;
  offset: number | null;
  nextCursor: string | null;
}

describe('jobs list at 100,000 jobs', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  let stack: Stack;
  let api: ApiProcess;
  let a: { key: string; id: string };
  let b: { key: string; id: string };
  let bJob: string;

  async function get(path: string, key = a.key): Promise<Response> {
    return fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  }
  async function list(query: string, key = a.key): Promise<ListBody> {
    const res = await get(`/v1/jobs?${query}`, key);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as ListBody;
  }

  before(async () => {
    [a, b] = await Promise.all([createApiKey('list client A', 'client'), createApiKey('list client B', 'client')]);
    const started = Date.now();
    // One statement: 100k rows in a couple of seconds. Every generated value is a function of i.
    await db.query(
      `INSERT INTO jobs (id, status, step, filename, size_bytes, sha256, storage_key, options, workflow_id,
                         page_count, created_at, updated_at, started_at, finished_at, api_key_id)
       SELECT md5('jobs-list-' || i)::uuid,
              (ARRAY['queued','processing','completed','partial','failed','cancelled'])[1 + i % 6],
              'done',
              CASE WHEN i % 1000 = 0 THEN 'Invoice-' || i || '.pdf' ELSE 'scan_' || i || '.pdf' END,
              1000 + i,
              encode(sha256(convert_to(i::text, 'UTF8')), 'hex'),
              'documents/generated-' || i,
              '{"ocrMode":"auto","languages":["eng"]}'::jsonb,
              'document-generated-' || i,
              CASE WHEN i % 7 = 0 THEN NULL ELSE i % 50 + 1 END,
              timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute',
              timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute' + (i % 100) * interval '1 second',
              CASE WHEN i % 6 = 0 THEN NULL ELSE timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute' END,
              CASE WHEN i % 6 >= 2 THEN timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute'
                                        + (i % 997) * interval '1 millisecond' END,
              :owner
         FROM generate_series(1, :rows) AS i`,
      { replacements: { owner: a.id, rows: ROWS } },
    );
    bJob = '00000000-0000-4000-8000-00000000b001';
    await db.query(
      `INSERT INTO jobs (id, status, step, filename, size_bytes, sha256, storage_key, options, workflow_id,
                         created_at, updated_at, api_key_id)
       VALUES (:id, 'completed', 'done', 'b-only.pdf', 1, repeat('b', 64), 'documents/b', '{}'::jsonb, 'document-b',
               now(), now(), :owner)`,
      { replacements: { id: bJob, owner: b.id } },
    );
    await db.query('VACUUM ANALYZE jobs');
    console.log(`# inserted ${ROWS} jobs and analysed in ${Date.now() - started} ms`);
    stack = await startStack({ name: 'jobs-list' });
    api = stack.api;
  });

  after(async () => {
    await stack?.stop();
    // Generated rows only (they have no pages); other test files' jobs stay.
    await db.query(`DELETE FROM jobs WHERE api_key_id IN (:ids)`, { replacements: { ids: [a.id, b.id] } });
    await db.close();
  });

  describe('auth', () => {
    it('answers 401 without a key, with a malformed or unknown key, and with a revoked key', async () => {
      const none = await fetch(`${api.url}/v1/jobs`);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
      assert.equal((await get('/v1/jobs', 'nonsense')).status, 401);
      assert.equal((await get('/v1/jobs', `${a.key.slice(0, -4)}AAAA`)).status, 401, 'right prefix, wrong secret');
      assert.equal((await fetch(`${api.url}/api/v1/jobs`)).status, 401, 'seed routes too');
      assert.equal((await fetch(`${api.url}/extract/status/${bJob}`)).status, 401);
      const revoked = await createApiKey('to revoke', 'client');
      assert.equal((await get('/v1/jobs?limit=1', revoked.key)).status, 200);
      await db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = :id`, { replacements: { id: revoked.id } });
      assert.equal((await get('/v1/jobs?limit=1', revoked.key)).status, 401);
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_keys WHERE id = :id`, {
        replacements: { id: revoked.id },
        type: QueryTypes.SELECT,
      });
      assert.equal(row?.n, 1, 'revoked, not deleted');
    });

    it('accepts X-API-Key as well as a bearer token, and leaves /health and /openapi.json open', async () => {
      const res = await fetch(`${api.url}/v1/jobs?limit=1`, { headers: { 'x-api-key': a.key } });
      assert.equal(res.status, 200);
      assert.equal((await fetch(`${api.url}/health/live`)).status, 200);
      assert.equal((await fetch(`${api.url}/openapi.json`)).status, 200);
    });

    it("shows a client only its own jobs and answers 403 for another client's job; an admin sees all", async () => {
      assert.equal((await list('limit=1')).total, ROWS);
      const onlyB = await list('limit=5', b.key);
      assert.deepEqual(
        onlyB.jobs.map((j) => j.jobId),
        [bJob],
      );
      const forbidden = await get(`/v1/jobs/${bJob}`, a.key);
      assert.equal(forbidden.status, 403);
      assert.equal(((await forbidden.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
      assert.equal((await get(`/v1/jobs/${bJob}/result`, a.key)).status, 403);
      assert.equal((await get(`/api/v1/jobs/${bJob}`, a.key)).status, 403);
      const cancel = await fetch(`${api.url}/v1/jobs/${bJob}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.key}` },
      });
      assert.equal(cancel.status, 403);
      assert.equal((await get(`/v1/jobs/${bJob}`, b.key)).status, 200);
      assert.equal((await get(`/v1/jobs/${bJob}`, api.key)).status, 200, 'admin');
      assert.ok((await list('limit=1', api.key)).total >= ROWS + 1, 'admin counts every job');
    });
  });

  describe('filters', () => {
    it('filters by several statuses at once (comma-separated or repeated)', async () => {
      const expected = Array.from({ length: ROWS }, (_, k) => statusOf(k + 1)).filter(
        (s) => s === 'failed' || s === 'cancelled',
      ).length;
      const comma = await list('status=failed,cancelled&limit=200');
      assert.equal(comma.total, expected);
      assert.ok(comma.jobs.every((j) => j.status === 'failed' || j.status === 'cancelled'));
      assert.equal((await list('status=failed&status=cancelled&limit=1')).total, expected);
      const bad = await get('/v1/jobs?status=done');
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_QUERY');
    });

    it('filters by a created-at range: from inclusive, to exclusive', async () => {
      const body = await list(
        `createdFrom=${createdOf(10).toISOString()}&createdTo=${createdOf(20).toISOString()}&sort=created&order=asc`,
      );
      assert.equal(body.total, 10);
      assert.deepEqual(
        body.jobs.map((j) => j.createdAt),
        Array.from({ length: 10 }, (_, k) => createdOf(10 + k).toISOString()),
      );
      assert.equal((await get('/v1/jobs?createdFrom=yesterday')).status, 400);
    });

    it('filters by filename substring, case-insensitive, with LIKE wildcards taken literally', async () => {
      const body = await list('filename=iNvOiCe&limit=200');
      assert.equal(body.total, ROWS / 1000);
      assert.ok(body.jobs.every((j) => j.filename?.startsWith('Invoice-')));
      assert.equal(
        (await list('filename=1_2&limit=1')).total,
        0,
        '_ is literal (as a wildcard it matches 102, 112, …)',
      );
      assert.equal((await list('filename=%25&limit=1')).total, 0, '% is literal');
    });

    it('filters by content hash', async () => {
      const hash = createHash('sha256').update('4242').digest('hex');
      const body = await list(`sha256=${hash}`);
      assert.equal(body.total, 1);
      assert.equal(body.jobs[0]?.filename, 'scan_4242.pdf');
      assert.equal((await get('/v1/jobs?sha256=abc')).status, 400);
    });
  });

  describe('sorting', () => {
    const keyOf: Record<string, (j: ListBody['jobs'][number]) => string | number> = {
      created: (j) => Date.parse(j.createdAt),
      updated: (j) => Date.parse(j.updatedAt),
      status: (j) => j.status,
      duration: (j) => j.durationMs ?? -1000,
      pageCount: (j) => j.pageCount ?? -1,
    };
    for (const sort of Object.keys(keyOf)) {
      for (const order of ['asc', 'desc'] as const) {
        it(`sorts by ${sort} ${order}, ties broken by id`, async () => {
          const body = await list(`sort=${sort}&order=${order}&limit=200`);
          assert.equal(body.jobs.length, 200);
          const key = keyOf[sort]!;
          for (let k = 1; k < body.jobs.length; k++) {
            const [p, c] = [body.jobs[k - 1]!, body.jobs[k]!];
            const cmp = key(p) < key(c) ? -1 : key(p) > key(c) ? 1 : p.jobId < c.jobId ? -1 : 1;
            assert.equal(cmp, order === 'asc' ? -1 : 1, `rows ${k - 1} and ${k} out of order`);
          }
        });
      }
    }

    it('puts the longest job first for duration desc and the largest page count first for pageCount desc', async () => {
      const longest = (await list('sort=duration&order=desc&limit=1')).jobs[0];
      assert.equal(longest?.durationMs, 996, 'i % 997 peaks at 996 ms');
      const most = (await list('sort=pageCount&order=desc&limit=1')).jobs[0];
      assert.equal(most?.pageCount, 50);
    });
  });

  describe('pagination', () => {
    it('walks every page with the cursor: no row twice, none missed, same order as offset pages', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const body: ListBody = await list(
          `filename=invoice&sort=pageCount&order=desc&limit=30${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(body.total, 100);
        seen.push(...body.jobs.map((j) => j.jobId));
        cursor = body.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 4);
      assert.equal(new Set(seen).size, 100);
      const byOffset: string[] = [];
      for (let offset = 0; offset < 100; offset += 30) {
        const body = await list(`filename=invoice&sort=pageCount&order=desc&limit=30&offset=${offset}`);
        assert.equal(body.offset, offset);
        byOffset.push(...body.jobs.map((j) => j.jobId));
      }
      assert.deepEqual(seen, byOffset);
    });

    it('pages through the whole table by cursor on the default sort', async () => {
      const first = await list('limit=200');
      const second = await list(`limit=200&cursor=${first.nextCursor}`);
      assert.equal(second.jobs.length, 200);
      assert.ok(Date.parse(second.jobs[0]!.createdAt) <= Date.parse(first.jobs[199]!.createdAt));
      assert.equal(new Set([...first.jobs, ...second.jobs].map((j) => j.jobId)).size, 400);
    });

    it('refuses cursor with offset, a forged cursor, a cursor of another sort, and a bad limit', async () => {
      const first = await list('limit=2');
      for (const [query, code] of [
        [`cursor=${first.nextCursor}&offset=2`, 'INVALID_QUERY'],
        ['cursor=bm90LWEtY3Vyc29y', 'INVALID_CURSOR'],
        [`cursor=${first.nextCursor}&sort=status`, 'INVALID_CURSOR'],
        ['limit=0', 'INVALID_QUERY'],
        ['limit=201', 'INVALID_QUERY'],
        ['sort=size', 'INVALID_QUERY'],
      ]) {
        const res = await get(`/v1/jobs?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, code, query);
      }
    });
  });

  describe("the seed's routes", () => {
    it('GET /api/v1/jobs keeps status, limit, offset and order_by, with snake_case bodies', async () => {
      const res = await get('/api/v1/jobs?status=pending&limit=5&offset=5&order_by=created_at');
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        jobs: { job_id: string; status: string; created_at: string }[];
        total: number;
        limit: number;
        offset: number;
      };
      assert.equal(body.total, Math.floor(ROWS / 6));
      assert.equal(body.limit, 5);
      assert.equal(body.offset, 5);
      assert.ok(body.jobs.every((j) => j.status === 'pending'));
      assert.deepEqual(
        body.jobs.map((j) => j.created_at),
        [36, 42, 48, 54, 60].map((i) => createdOf(i).toISOString()),
        'queued rows are i % 6 = 0: the 6th to 10th, oldest first',
      );
      const desc = (await (await get('/api/v1/jobs?order_by=-created_at&limit=1')).json()) as typeof body;
      assert.equal(desc.jobs[0]?.created_at, createdOf(ROWS).toISOString());
      assert.equal((await get('/api/v1/jobs?order_by=size')).status, 400);
    });

    it('GET /api/v1/jobs/{job_id} answers in the seed shape', async () => {
      const body = (await (await get(`/api/v1/jobs/${bJob}`, b.key)).json()) as Record<string, unknown>;
      assert.equal(body.job_id, bJob);
      assert.equal(body.status, 'completed');
      assert.equal(body.filename, 'b-only.pdf');
      assert.equal(typeof body.progress, 'number');
    });
  });

  describe('indexes', () => {
    const service = new JobsListService(db);
    const admin: Principal = { apiKeyId: null, role: 'admin', name: 'test' };
    const base: JobListQuery = { sort: 'created', order: 'desc', limit: 50 };

    function nodes(plan: Record<string, unknown>): Record<string, unknown>[] {
      const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
      return [plan, ...children.flatMap(nodes)];
    }

    async function explain(sql: string, params: Record<string, unknown>): Promise<Record<string, unknown>[]> {
      const [row] = await db.query<{ 'QUERY PLAN': { Plan: Record<string, unknown> }[] }>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        { replacements: params, type: QueryTypes.SELECT },
      );
      return nodes(row!['QUERY PLAN'][0]!.Plan);
    }

    it('runs every main list query on an index, never a sequential scan of jobs, and reports latency', async () => {
      const client: Principal = { apiKeyId: a.id, role: 'client', name: 'A' };
      const cursor = (await list('limit=1')).nextCursor!;
      const cases: [string, JobListQuery, Principal][] = [
        ['newest first (admin)', base, admin],
        ['newest first (client)', base, client],
        ['next page by cursor', { ...base, cursor }, client],
        ['two statuses', { ...base, statuses: ['failed', 'cancelled'] }, admin],
        ['two priorities', { ...base, priorities: [1, 2] }, admin],
        ['created range', { ...base, createdFrom: createdOf(500), createdTo: createdOf(900) }, admin],
        ['filename substring', { ...base, filename: 'invoice' }, admin],
        ['content hash', { ...base, sha256: createHash('sha256').update('4242').digest('hex') }, admin],
        ['two tags', { ...base, tags: ['urgent', 'client:acme'] }, admin],
        ...(['updated', 'status', 'duration', 'pageCount'] as const).flatMap((sort) =>
          (['asc', 'desc'] as const).map((order): [string, JobListQuery, Principal] => [
            `sort ${sort} ${order}`,
            { ...base, sort, order },
            admin,
          ]),
        ),
      ];
      const report: string[] = [];
      for (const [name, q, who] of cases) {
        const { sql, params } = service.pageSql(q, who);
        const plan = await explain(sql, params);
        const seq = plan.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'jobs');
        const used = plan.filter((n) => typeof n['Index Name'] === 'string').map((n) => n['Index Name'] as string);
        assert.equal(seq.length, 0, `${name}: sequential scan of jobs`);
        assert.ok(used.length > 0, `${name}: no index in the plan`);
        const count = service.countSql(q, who);
        const countPlan = await explain(count.sql, count.params);
        report.push(
          `${name}: page ${[...new Set(used)].join('+')}; total via ${countPlan
            .map((n) => `${n['Node Type'] as string}${n['Index Name'] ? `(${n['Index Name'] as string})` : ''}`)
            .filter((t) => /Scan/.test(t))
            .join('+')}`,
        );
      }
      console.log(`# plans at ${ROWS} jobs:\n#   ${report.join('\n#   ')}`);

      // Latency through HTTP (page + total), median of 7 after one warm-up.
      const timings: string[] = [];
      for (const query of [
        'limit=50',
        'status=failed,cancelled&limit=50',
        'filename=invoice&limit=50',
        'sort=duration&order=desc&limit=50',
        `limit=50&cursor=${cursor}`,
      ]) {
        await list(query);
        const ms: number[] = [];
        for (let k = 0; k < 7; k++) {
          const t = performance.now();
          await list(query);
          ms.push(performance.now() - t);
        }
        ms.sort((x, y) => x - y);
        timings.push(`${query}: median ${ms[3]!.toFixed(1)} ms (min ${ms[0]!.toFixed(1)})`);
      }
      console.log(
        `# GET /v1/jobs latency at ${ROWS} jobs (client key, HTTP round trip):\n#   ${timings.join('\n#   ')}`,
      );
    });
  });
});
