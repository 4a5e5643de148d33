/**
 * The API under load (autocannon, from this process on the same machine) and the memory figures: the API's
 * RSS while a large upload streams in, and a worker's peak RSS on a long scanned document; what a page pays
 * to read its document from each store.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import autocannon from 'autocannon';
import { documentWorkflowId } from '../core/contracts.js';
import { authHeaders } from '../test/support/stack.js';
import { repeatFirstPage } from '../test/support/synthetic.js';
import { startStack, submitAndWait, type FolioStack } from './folio.js';
import { rssMb, summary, type ScannedPage, type Summary } from './lib.js';
import { createStorage } from '../core/storage/create-storage.js';
import { documentKey } from '../core/storage/storage.js';
import { loadConfig } from '../src/config/config.js';

const MARKER = 'folio-load-000000000000';

/**
 * p50/p99 latency of submitting a `megabytes` PDF with `connections` concurrent clients. Every request
 * carries different bytes (a counter in the file), so none joins another's job as a duplicate. The API's
 * task queue has no worker: this measures accepting the upload and starting its workflow.
 */
export async function submissionLatency(stack: FolioStack, megabytes: number, connections: number, amount: number) {
  const pdf = Buffer.concat([
    Buffer.from(`%PDF-1.7\n%${MARKER}\n`),
    Buffer.alloc(megabytes * 1024 * 1024, 0x20),
    Buffer.from('\n%%EOF\n'),
  ]);
  const form = new FormData();
  form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'load.pdf');
  const request = new Request(`${stack.api.url}/v1/documents`, { method: 'POST', body: form });
  const template = Buffer.from(await request.arrayBuffer());
  const at = template.indexOf(MARKER);
  let counter = 0;
  const result = await autocannon({
    url: stack.api.url,
    connections,
    amount,
    timeout: 120,
    requests: [
      {
        method: 'POST',
        path: '/v1/documents',
        headers: { 'content-type': request.headers.get('content-type')!, ...authHeaders(stack.api.url) },
        setupRequest: (req) => {
          const body = Buffer.from(template);
          body.write(`folio-load-${String(++counter).padStart(12, '0')}`, at);
          return { ...req, body };
        },
      },
    ],
  });
  return {
    megabytes,
    connections,
    requests: result.requests.total,
    accepted: result['2xx'],
    other: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    requestsPerSecond: result.requests.average,
  };
}

/** Requests per second of GET /v1/jobs/:id with `connections` concurrent clients for `seconds`. */
export async function statusThroughput(stack: FolioStack, jobId: string, connections: number, seconds: number) {
  const result = await autocannon({
    url: `${stack.api.url}/v1/jobs/${jobId}`,
    connections,
    duration: seconds,
    headers: authHeaders(stack.api.url),
  });
  return {
    connections,
    seconds,
    requestsPerSecond: result.requests.average,
    ok: result['2xx'],
    other: result.non2xx,
    errors: result.errors,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
  };
}

/** The API's RSS (sampled every 20 ms) while one upload of `megabytes` streams in from disk. */
export async function uploadRss(stack: FolioStack, file: string, megabytes: number) {
  const pid = stack.api.child.pid!;
  const baseline = rssMb(pid).now;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid).now)), 20);
  const started = performance.now();
  const form = new FormData();
  form.append('file', await fs.openAsBlob(file, { type: 'application/pdf' }), path.basename(file));
  const res = await fetch(`${stack.api.url}/v1/documents`, {
    method: 'POST',
    body: form,
    headers: authHeaders(stack.api.url),
  });
  clearInterval(sampler);
  if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return {
    megabytes,
    baselineMb: baseline,
    peakMb: peak,
    growthMb: peak - baseline,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A file of `megabytes` that the API accepts as a PDF (header, then filler), written without holding it in memory. */
export function writeLargePdf(file: string, megabytes: number): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, '%PDF-1.7\n');
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  for (let i = 0; i < megabytes; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

/**
 * A fresh worker (default OCR pool) runs one scanned document of `pages` copies of `page`; its peak RSS over
 * the job, and while it built the job's searchable PDF: the worker's RSS with its qpdf child's, sampled every
 * 50 ms, in the window the workflow history gives the buildSearchablePdf activity.
 */
export async function workerPeakRss(page: ScannedPage, pages: number, client: Client) {
  const stack = await startStack(`rss-${pages}`, 1, {});
  try {
    const pid = stack.workers[0]!.child.pid!;
    const idle = rssMb(pid).now;
    const bytes = await repeatFirstPage(page.path, pages);
    const samples: [number, number][] = [];
    const sampler = setInterval(() => samples.push([Date.now(), rssMb(pid).now + childrenRssMb(pid)]), 50);
    const pass = await submitAndWait(stack, [{ name: `rss-${pages}.pdf`, bytes }]).finally(() =>
      clearInterval(sampler),
    );
    const { peak } = rssMb(pid);
    const jobId = pass.jobIds[0]!;
    const [from, to] = await activityWindow(client, documentWorkflowId(jobId), 'buildSearchablePdf');
    const during = samples.filter(([t]) => t >= from && t <= to).map(([, mb]) => mb);
    const atStart = samples.filter(([t]) => t <= from).at(-1)?.[1];
    const pdf = await fetch(`${stack.api.url}/v1/jobs/${jobId}/result?format=pdf`, { headers: pass.headers });
    if (pdf.status !== 200) throw new Error(`searchable PDF: ${pdf.status} ${await pdf.text()}`);
    const pdfBytes = (await pdf.arrayBuffer()).byteLength;
    return {
      pages,
      source: page.file,
      idleMb: idle,
      peakMb: peak,
      seconds: pass.seconds,
      searchablePdf: {
        seconds: (to - from) / 1000,
        samples: during.length,
        rssAtStartMb: atStart,
        peakRssMb: during.length > 0 ? Math.max(...during) : undefined,
        originalBytes: bytes.length,
        bytes: pdfBytes,
        overheadPercent: Math.round(((pdfBytes - bytes.length) / bytes.length) * 1000) / 10,
      },
    };
  } finally {
    await stack.stop();
  }
}

/** The RSS of a process's direct children (the worker's qpdf while it runs), MB. */
function childrenRssMb(pid: number): number {
  let total = 0;
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const child of children) total += rssMb(Number(child)).now;
  } catch {
    // A child that ended between the listing and the read counts for nothing.
  }
  return total;
}

/** When an activity of a workflow started and completed (its last attempt), in ms since the epoch. */
async function activityWindow(client: Client, workflowId: string, type: string): Promise<[number, number]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Set<string>();
  let from = 0;
  let to = 0;
  const ms = (t: unknown) =>
    Number((t as { seconds?: { toString(): string } }).seconds?.toString() ?? 0) * 1000 +
    Math.floor(((t as { nanos?: number }).nanos ?? 0) / 1e6);
  for (const event of history.events ?? []) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === type) scheduled.add(id);
    const started = event.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) from = ms(event.eventTime);
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && scheduled.has(String(completed.scheduledEventId))) to = ms(event.eventTime);
  }
  if (!from || !to) throw new Error(`${workflowId}: no completed ${type} activity in its history`);
  return [from, to];
}

/**
 * What a page activity pays to get its document as a file, from each store (`stores`: a STORAGE_URL each),
 * ms per call: `cold` for the first page of a document on a worker (the bucket downloads it into the cache),
 * `warm` for the pages after it. The document is stored once per run under a fresh key.
 */
export async function pageReadCosts(file: string, stores: Record<string, string>, cacheDir: string, runs: number) {
  const out: Record<string, { bytes: number; coldMs: Summary; warmMs: Summary }> = {};
  for (const [name, url] of Object.entries(stores)) {
    const storage = createStorage(
      loadConfig({ ...process.env, STORAGE_URL: url, STORAGE_CACHE_DIR: path.join(cacheDir, name) }, 'tool').storage,
    );
    await storage.clearLocalCopies();
    const cold: number[] = [];
    const warm: number[] = [];
    let bytes = 0;
    for (let i = 0; i < Math.max(runs, 5); i++) {
      const key = documentKey(randomUUID());
      bytes = (await storage.put(key, fs.createReadStream(file))).bytes;
      let started = performance.now();
      await storage.localPath(key);
      cold.push(performance.now() - started);
      for (let page = 0; page < 20; page++) {
        started = performance.now();
        await storage.localPath(key);
        warm.push(performance.now() - started);
      }
      await storage.remove(key);
    }
    await storage.clearLocalCopies();
    out[name] = { bytes, coldMs: summary(cold), warmMs: summary(warm) };
  }
  return out;
}
