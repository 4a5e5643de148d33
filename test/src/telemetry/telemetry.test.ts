import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../../../scripts/lib/services.js';
import { corpusPath } from '../../support/corpus.js';
import {
  authHeaders,
  harnessEnv,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type FolioProcess,
  type Stack,
} from '../../support/stack.js';
import { alertQueries, dashboardQueries, metricNames } from '../../support/deploy-queries.js';

/** One sample of a Prometheus exposition: its name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and these labels (0 when absent). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value ?? 0;
}

async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parseExposition(await res.text());
}

/** The JSON log lines a process wrote to stdout so far; every stdout line must be one. */
function jsonLines(stdout: string[]): Record<string, unknown>[] {
  return stdout
    .join('')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`stdout line is not JSON: ${l}`);
      }
    });
}

function captureStdout(proc: FolioProcess): string[] {
  const lines: string[] = [];
  proc.child.stdout?.on('data', (d: Buffer) => lines.push(d.toString()));
  return lines;
}

describe('metrics and logs', () => {
  const env = harnessEnv();
  let stack: Stack;
  let api: ApiProcess;
  let worker: FolioProcess;
  let apiMetricsPort: number;
  let workerMetricsPort: number;
  let apiStdout: string[];
  let workerStdout: string[];
  const requestId = `telemetry-${randomUUID()}`;
  const pdfPassword = `pw-${randomUUID()}`;
  const jobs: { textLayer: string; ocr: string } = { textLayer: '', ocr: '' };
  let workerBefore: Sample[];

  before(async () => {
    [apiMetricsPort, workerMetricsPort] = [await freePort(), await freePort()];
    stack = await startStack({
      name: 'telemetry',
      api: { LOG_LEVEL: 'info', METRICS_PORT: String(apiMetricsPort) },
      worker: { LOG_LEVEL: 'info', WORKER_METRICS_PORT: String(workerMetricsPort) },
    });
    [api, worker] = [stack.api, stack.workers[0]!];
    // Both started with stdout piped; lines written before this point are in FolioProcess.output.
    apiStdout = captureStdout(api);
    workerStdout = captureStdout(worker);
    workerBefore = await scrape(workerMetricsPort);

    // A two-page born-digital document (text layers) and a one-page scan (render + OCR).
    const textRes = await submit(api.url, corpusPath('born-digital/pdfjs-issue840.pdf'), {}, '/v1/documents', {
      'x-request-id': requestId,
    });
    assert.equal(textRes.status, 202);
    assert.equal(textRes.headers.get('x-request-id'), requestId);
    jobs.textLayer = ((await textRes.json()) as { jobId: string }).jobId;
    const form = new FormData();
    form.append(
      'file',
      new Blob([await import('node:fs').then((fs) => fs.readFileSync(corpusPath('scanned/tess-phototest.pdf')))]),
      'scan.pdf',
    );
    form.append('password', pdfPassword);
    const ocrRes = await fetch(`${api.url}/v1/documents`, {
      method: 'POST',
      body: form,
      headers: { 'x-api-key': api.key! },
    });
    assert.equal(ocrRes.status, 202, await ocrRes.clone().text());
    jobs.ocr = ((await ocrRes.json()) as { jobId: string }).jobId;
    for (const id of [jobs.textLayer, jobs.ocr])
      assert.equal((await waitForJob(api.url, id, 180_000)).status, 'completed');
  });
  after(async () => {
    await stack?.stop();
  });

  it("counts the worker's pages by method and outcome, with render, OCR and attempt histograms", async () => {
    const now = await scrape(workerMetricsPort);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(now, name, labels) - valueOf(workerBefore, name, labels);
    assert.equal(delta('folio_pages_total', { method: 'text-layer', outcome: 'done' }), 2);
    assert.equal(delta('folio_pages_total', { method: 'ocr', outcome: 'done' }), 1);
    for (const outcome of ['error', 'cancelled']) {
      assert.equal(delta('folio_pages_total', { method: 'ocr', outcome }), 0);
      assert.equal(delta('folio_pages_total', { method: 'text-layer', outcome }), 0);
    }
    assert.equal(delta('folio_page_duration_seconds_count', { method: 'text-layer' }), 2);
    assert.equal(delta('folio_page_duration_seconds_count', { method: 'ocr' }), 1);
    // The scan's text layer is looked at first (ocrMode auto), then it is rendered and read.
    assert.equal(delta('folio_page_phase_duration_seconds_count', { phase: 'text-layer' }), 3);
    assert.equal(delta('folio_page_phase_duration_seconds_count', { phase: 'render' }), 1);
    assert.equal(delta('folio_page_phase_duration_seconds_count', { phase: 'ocr' }), 1);
    assert.ok(delta('folio_page_phase_duration_seconds_sum', { phase: 'ocr' }) > 0);
    assert.equal(
      delta('folio_page_phase_duration_seconds_bucket', { phase: 'render', le: '+Inf' }),
      1,
      'the +Inf bucket holds every observation',
    );
    assert.equal(delta('folio_page_retries_total'), 0);
    assert.equal(valueOf(now, 'folio_pages_in_flight'), 0);
    assert.ok(valueOf(now, 'process_resident_memory_bytes') > 0, 'default process metrics are there');
  });

  it("serves the Temporal SDK's worker metrics on the same port", async () => {
    const now = await scrape(workerMetricsPort);
    const sdk = now.filter((s) => s.name.startsWith('temporal_'));
    assert.ok(sdk.length > 0, 'no temporal_ metrics');
    // Activities ran here: the SDK's own activity latency histogram counted them.
    const activityLatency = now
      .filter((s) => s.name === 'temporal_activity_execution_latency_count' && s.labels.activity_type === 'processPage')
      .reduce((n, s) => n + s.value, 0);
    assert.equal(activityLatency, 3);
  });

  it('counts HTTP requests by route template and status, and documents by status from the DB', async () => {
    // Bodies read to the end: the server has answered each request before the scrape.
    for (const [path, headers] of [
      [`/v1/jobs/${jobs.ocr}`, authHeaders(api.url)],
      [`/v1/jobs/${randomUUID()}`, authHeaders(api.url)],
      [`/no/such/route/${randomUUID()}`, {}],
      ['/admin/login', {}],
    ] as const) {
      await (await fetch(`${api.url}${path}`, { headers })).text();
    }
    const now = await scrape(apiMetricsPort);
    const series = now
      .filter((s) => s.name === 'folio_http_requests_total')
      .map((s) => `${s.labels.method} ${s.labels.route} ${s.labels.status} = ${s.value}`)
      .join('\n');
    const requests = (labels: Record<string, string>) => valueOf(now, 'folio_http_requests_total', labels);
    assert.equal(requests({ method: 'POST', route: '/v1/documents', status: '202' }), 2, series);
    assert.ok(requests({ method: 'GET', route: '/v1/jobs/:id', status: '200' }) >= 1, series);
    assert.equal(requests({ method: 'GET', route: '/v1/jobs/:id', status: '404' }), 1, series);
    assert.equal(requests({ method: 'GET', route: 'unmatched', status: '404' }), 1, series);
    // The panel is mounted ahead of all middleware and is counted all the same.
    assert.equal(requests({ method: 'GET', route: '/admin/login', status: '200' }), 1, series);
    const routes = new Set(now.filter((s) => s.name === 'folio_http_requests_total').map((s) => s.labels.route));
    for (const route of routes) {
      assert.doesNotMatch(route!, /[0-9a-f]{8}-[0-9a-f]{4}-/, `a raw path became a label: ${route}`);
    }
    assert.ok(
      valueOf(now, 'folio_http_request_duration_seconds_count', { method: 'POST', route: '/v1/documents' }) === 2,
    );

    const client = new pg.Client({ connectionString: env.APP_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM jobs GROUP BY status',
      );
      const after = await scrape(apiMetricsPort);
      for (const status of ['queued', 'processing', 'completed', 'partial', 'failed', 'cancelled']) {
        const expected = rows.find((r) => r.status === status)?.n ?? 0;
        assert.equal(valueOf(after, 'folio_documents', { status }), expected, status);
      }
      assert.ok(valueOf(after, 'folio_documents', { status: 'completed' }) >= 2);
      const inFlight =
        (rows.find((r) => r.status === 'queued')?.n ?? 0) + (rows.find((r) => r.status === 'processing')?.n ?? 0);
      assert.equal(valueOf(after, 'folio_documents_in_flight'), inFlight);
    } finally {
      await client.end();
    }
  });

  it('reports whether each dependency answers and the free disk space where each process writes', async () => {
    const apiNow = await scrape(apiMetricsPort);
    for (const dependency of ['app_db', 'legacy_db', 'temporal', 'storage']) {
      assert.equal(valueOf(apiNow, 'folio_dependency_up', { dependency }), 1, dependency);
    }
    const workerNow = await scrape(workerMetricsPort);
    // The test stack keeps documents and unfinished uploads in a bucket: the worker writes only its cache, and
    // neither process reports a folder it does not write.
    for (const [samples, folder] of [[workerNow, 'storage-cache']] as const) {
      const free = valueOf(samples, 'folio_disk_free_bytes', { folder });
      const size = valueOf(samples, 'folio_disk_size_bytes', { folder });
      assert.ok(free > 0 && size >= free, `${folder}: ${free} free of ${size}`);
    }
    for (const [samples, folder] of [
      [apiNow, 'uploads'],
      [apiNow, 'storage'],
      [workerNow, 'uploads'],
      [workerNow, 'storage'],
    ] as const) {
      assert.ok(
        !samples.some((s) => s.name === 'folio_disk_free_bytes' && s.labels.folder === folder),
        `no ${folder} gauge with a bucket`,
      );
    }
  });

  it('exports every metric the Grafana dashboard and the alert rules read (they cannot drift)', async () => {
    // Names with samples, and names declared (`# TYPE`) but without a sample yet: a counter of failures by code
    // has no series until a page fails. A histogram's series are its _bucket, _sum and _count.
    const exported = new Set<string>();
    for (const port of [apiMetricsPort, workerMetricsPort]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const s of parseExposition(text)) exported.add(s.name);
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
        exported.add(name!);
        if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name!}${suffix}`);
      }
    }
    const queries = [...dashboardQueries(), ...alertQueries()];
    assert.ok(queries.length > 20, `only ${queries.length} queries found`);
    const unknown = queries.flatMap((q) =>
      metricNames(q.expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${q.where}: ${name}`),
    );
    assert.deepEqual(unknown, [], 'queries read metrics that neither the API nor a worker exports');
  });

  it('serves metrics only on the metrics port, never on the public one', async () => {
    const res = await fetch(`${api.url}/metrics`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /folio_http_requests_total/);
  });

  it('writes JSON log lines with the request id, echoed in a response header', async () => {
    const res = await fetch(`${api.url}/v1/jobs/${jobs.textLayer}`, { headers: authHeaders(api.url) });
    const generated = res.headers.get('x-request-id');
    assert.match(generated ?? '', /^[0-9a-f-]{36}$/, 'a request without an id gets one');
    // A forged id (with a line break) is replaced, not written to the log.
    const forged = await fetch(`${api.url}/health/live`, { headers: { 'x-request-id': 'a b' } });
    assert.notEqual(forged.headers.get('x-request-id'), 'a b');

    await new Promise((r) => setTimeout(r, 500));
    const lines = jsonLines(apiStdout);
    const submitted = lines.find((l) => l.requestId === requestId);
    assert.ok(submitted, `no log line with requestId ${requestId}`);
    assert.equal((submitted.req as { method: string }).method, 'POST');
    assert.equal((submitted.res as { statusCode: number }).statusCode, 202);
    assert.equal(submitted.level, 30);
    assert.ok(lines.some((l) => l.requestId === generated));
    // Credentials in headers are redacted, not dropped: the line shows the header was there.
    const headers = lines
      .map((l) => (l.req as { headers?: Record<string, string> } | undefined)?.headers)
      .filter(Boolean);
    assert.ok(headers.some((h) => h!.authorization === '[redacted]'));
    assert.ok(headers.some((h) => h!['x-api-key'] === '[redacted]'));
  });

  it('writes page log lines carrying jobId, workflowId and pageNumber', () => {
    const lines = jsonLines(workerStdout);
    const pages = lines.filter((l) => l.msg === 'Page read' && l.jobId === jobs.textLayer);
    assert.deepEqual(pages.map((l) => l.pageNumber).sort(), [1, 2]);
    for (const line of pages) {
      assert.equal(line.workflowId, `document-${jobs.textLayer}`);
      assert.equal(line.method, 'text-layer');
      assert.equal(line.activityType, 'processPage');
      assert.equal(line.level, 30);
    }
    const ocr = lines.find((l) => l.msg === 'Page read' && l.jobId === jobs.ocr);
    assert.equal(ocr?.method, 'ocr');
    assert.equal(ocr?.pageNumber, 1);
  });

  it('never logs the API key or a submitted password', () => {
    const everything = [...api.output, ...worker.output, ...apiStdout, ...workerStdout].join('');
    assert.ok(everything.includes(requestId), 'the captured output is the log');
    assert.ok(!everything.includes(api.key!), 'the API key was logged');
    assert.ok(!everything.includes(pdfPassword), 'the submitted password was logged');
  });
});
