/**
 * `npm run bench`: the core pipeline's throughput and the API's memory, measured end to end on the real
 * parts (API → Temporal → worker → PostgreSQL), each figure repeated and reported as min and median.
 * - scanned pages per minute (OCR path) and born-digital pages per minute (text-layer path), from upload to
 *   completed; the text-layer path is reported as a ratio against the OCR path on the same run;
 * - the API process's RSS while it receives a large upload (BENCH_UPLOAD_MB, default 200).
 * Results go to bench/results/core-<time>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServices } from '../scripts/lib/services.js';
import { corpusPath } from '../test/support/corpus.js';
import { repeatDocument, repeatFirstPage } from '../test/support/synthetic.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runs = Number(process.env.BENCH_RUNS ?? 3);
const uploadMb = Number(process.env.BENCH_UPLOAD_MB ?? 200);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bench-'));
fs.chmodSync(tmp, 0o755);
const services = await startServices(root, tmp, () => undefined);
Object.assign(process.env, services.env);
// Imported after the environment is set: the stack helpers read it.
const { authHeaders, startApi, startWorker, submit, waitForJob, uniqueTaskQueue } =
  await import('../test/support/stack.js');

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, runs: values };
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const queue = uniqueTaskQueue('bench');
const api = await startApi({ TEMPORAL_TASK_QUEUE: queue, MAX_UPLOAD_BYTES: String((uploadMb + 10) * 1024 * 1024) });
const worker = await startWorker({ TEMPORAL_TASK_QUEUE: queue });
try {
  async function pagesPerMinute(name: string, bytes: Uint8Array, pages: number): Promise<number> {
    const started = performance.now();
    const res = await submit(api.url, { name, bytes });
    const { jobId } = (await res.json()) as { jobId: string };
    const status = await waitForJob(api.url, jobId, 30 * 60_000);
    if (status.status !== 'completed') throw new Error(`${name}: ${status.status}`);
    return pages / ((performance.now() - started) / 60_000);
  }

  const scannedPages = 12;
  const scanned = await repeatFirstPage(corpusPath('scanned/scribe-filing_01.pdf'), scannedPages);
  const born = await repeatDocument(corpusPath('born-digital/pdfjs-tracemonkey.pdf'), 5);
  const bornPages = 14 * 5;
  const scannedRuns: number[] = [];
  const bornRuns: number[] = [];
  for (let i = 0; i < runs; i++) {
    scannedRuns.push(await pagesPerMinute('scanned.pdf', scanned, scannedPages));
    bornRuns.push(await pagesPerMinute('born.pdf', born, bornPages));
    console.log(
      `run ${i + 1}: scanned ${scannedRuns[i]!.toFixed(1)} pages/min, born-digital ${bornRuns[i]!.toFixed(0)} pages/min`,
    );
  }

  // A large upload, streamed from disk; the API's RSS is sampled while it arrives.
  const bigFile = path.join(tmp, 'big.pdf');
  const fd = fs.openSync(bigFile, 'w');
  fs.writeSync(fd, '%PDF-1.7\n');
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  for (let i = 0; i < uploadMb; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  const pid = api.child.pid!;
  const uploadRuns: { baselineMb: number; peakMb: number; growthMb: number; seconds: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const baseline = rssKb(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(pid))), 20);
    const started = performance.now();
    const form = new FormData();
    form.append('file', await fs.openAsBlob(bigFile, { type: 'application/pdf' }), 'big.pdf');
    const res = await fetch(`${api.url}/v1/documents`, { method: 'POST', body: form, headers: authHeaders(api.url) });
    clearInterval(sampler);
    if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
    uploadRuns.push({
      baselineMb: baseline / 1024,
      peakMb: peak / 1024,
      growthMb: (peak - baseline) / 1024,
      seconds: (performance.now() - started) / 1000,
    });
    console.log(`upload ${uploadMb} MB: API RSS ${(baseline / 1024).toFixed(0)} → peak ${(peak / 1024).toFixed(0)} MB`);
  }

  const result = {
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    scannedPagesPerMinute: summary(scannedRuns),
    bornDigitalPagesPerMinute: summary(bornRuns),
    textLayerOverOcrRatio: summary(bornRuns).median / summary(scannedRuns).median,
    upload: { megabytes: uploadMb, apiRssGrowthMb: summary(uploadRuns.map((u) => u.growthMb)), runs: uploadRuns },
  };
  const out = path.join(root, 'bench/results', `core-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await Promise.all([api.stop(), worker.stop()]);
  await services.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
