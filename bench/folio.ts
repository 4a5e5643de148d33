/**
 * Folio as a client sees it: an API and worker processes on a task queue of their own, documents submitted
 * through the API and timed from the first upload until the last job is finished. The workflow histories
 * give each page activity's start and end, for the orchestration overhead.
 */
import type { Client } from '@temporalio/client';
import { freeLoopbackPort } from '../src/common/ports.js';
import { documentWorkflowId } from '../core/contracts.js';
import {
  createApiKey,
  startApi,
  startWorker,
  submit,
  uniqueTaskQueue,
  type FolioProcess,
  type JobResultBody,
  type SubmitFields,
} from '../test/support/stack.js';

export interface FolioStack {
  name: string;
  api: FolioProcess & { url: string };
  workers: FolioProcess[];
  /** Page activities that can run at once: min(activity slots, page window) summed over the workers. */
  pageSlots: number;
  /** Seconds spent so far in each phase of the page activities (text-layer, render, orientation, ocr), all workers. */
  phaseSeconds(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** An API and `workers` worker processes, each started with `workerEnv`. */
export async function startStack(
  name: string,
  workers: number,
  workerEnv: NodeJS.ProcessEnv,
  apiEnv: NodeJS.ProcessEnv = {},
): Promise<FolioStack> {
  const queue = uniqueTaskQueue(`bench-${name}`);
  // Each worker serves its metrics on a port of its own: the phase histograms say where page time goes.
  const metricsPorts = await Promise.all(Array.from({ length: workers }, () => freeLoopbackPort()));
  const settled = await Promise.allSettled([
    startApi({ TEMPORAL_TASK_QUEUE: queue, ...apiEnv }),
    ...metricsPorts.map((port) =>
      startWorker({ TEMPORAL_TASK_QUEUE: queue, WORKER_METRICS_PORT: String(port), ...workerEnv }),
    ),
  ]);
  const up = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    // No process outlives a stack that did not come up.
    await Promise.all(up.map((p) => p.stop()));
    throw failed.reason;
  }
  const [api, ...started] = up as [FolioProcess & { url: string }, ...FolioProcess[]];
  const ocrWorkers = Number(workerEnv.OCR_WORKERS ?? 2);
  const slots = Number(workerEnv.WORKER_MAX_ACTIVITIES ?? ocrWorkers * 2);
  const window = Number(workerEnv.PAGE_WINDOW ?? 8);
  return {
    name,
    api,
    workers: started,
    pageSlots: workers * Math.min(slots, window),
    phaseSeconds: async () => {
      const total: Record<string, number> = {};
      for (const port of metricsPorts) {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        for (const [, phase, value] of text.matchAll(
          /^folio_page_phase_duration_seconds_sum\{phase="([^"]+)"\} ([0-9.e+-]+)$/gm,
        )) {
          total[phase!] = (total[phase!] ?? 0) + Number(value);
        }
      }
      return total;
    },
    stop: async () => {
      await Promise.all([api.stop(), ...started.map((w) => w.stop())]);
    },
  };
}

export interface Submission {
  name: string;
  bytes: Uint8Array;
  fields?: SubmitFields;
}

export interface FolioPass {
  seconds: number;
  jobIds: string[];
  /** The batch's own API key: results are read as their owner. */
  headers: Record<string, string>;
}

let batch = 0;

/** Submits every document at once and waits until all are finished; every one must complete. */
export async function submitAndWait(
  stack: FolioStack,
  documents: Submission[],
  timeoutMs = 60 * 60_000,
): Promise<FolioPass> {
  // Each batch submits as an owner of its own: the same pages again would otherwise join the earlier,
  // completed jobs (dedupe by owner and content). Its filename prefix lets one request count its jobs.
  const prefix = `b${++batch}x${Date.now()}-`;
  const { key } = await createApiKey(`bench ${prefix}`, 'admin');
  const headers = { authorization: `Bearer ${key}` };
  const started = performance.now();
  const responses = await Promise.all(
    documents.map((d) =>
      submit(stack.api.url, { name: `${prefix}${d.name}`, bytes: d.bytes }, d.fields, undefined, headers),
    ),
  );
  const jobIds: string[] = [];
  for (const res of responses) {
    if (res.status !== 202) throw new Error(`${stack.name}: submission answered ${res.status}: ${await res.text()}`);
    jobIds.push(((await res.json()) as { jobId: string }).jobId);
  }
  const deadline = Date.now() + timeoutMs;
  const count = async (statuses: string) => {
    const res = await fetch(`${stack.api.url}/v1/jobs?filename=${prefix}&status=${statuses}&limit=1`, {
      headers,
    });
    if (res.status !== 200) throw new Error(`${stack.name}: job list answered ${res.status}`);
    return ((await res.json()) as { total: number }).total;
  };
  while ((await count('completed,partial,failed,cancelled')) < documents.length) {
    if (Date.now() > deadline) throw new Error(`${stack.name}: jobs not finished in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  const completed = await count('completed');
  if (completed !== documents.length) {
    throw new Error(`${stack.name}: ${documents.length - completed} of ${documents.length} jobs did not complete`);
  }
  return { seconds, jobIds, headers };
}

async function result(stack: FolioStack, pass: FolioPass, jobId: string): Promise<JobResultBody> {
  const res = await fetch(`${stack.api.url}/v1/jobs/${jobId}/result`, { headers: pass.headers });
  if (res.status !== 200) throw new Error(`${stack.name}: result of ${jobId} answered ${res.status}`);
  return (await res.json()) as JobResultBody;
}

/** Each job's pages' text, in page order, joined. */
export async function texts(stack: FolioStack, pass: FolioPass): Promise<string[]> {
  return Promise.all(
    pass.jobIds.map(async (id) => {
      const { pages } = await result(stack, pass, id);
      return pages
        .sort((a, b) => a.number - b.number)
        .map((p) => p.text)
        .join('\n');
    }),
  );
}

/** The method (ocr, text-layer) each page of the jobs went through, counted. */
export async function methods(stack: FolioStack, pass: FolioPass): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const id of pass.jobIds) {
    for (const page of (await result(stack, pass, id)).pages) counts[page.method] = (counts[page.method] ?? 0) + 1;
  }
  return counts;
}

type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

function ms(t: Timestamp): number {
  const s = t?.seconds ?? 0;
  return (typeof s === 'number' ? s : s.toNumber()) * 1000 + (t?.nanos ?? 0) / 1e6;
}

/** Start and end (ms since the epoch) of every processPage activity attempt that completed, from the histories. */
export async function pageActivityIntervals(client: Client, jobIds: string[]): Promise<[number, number][]> {
  const intervals: [number, number][] = [];
  for (const jobId of jobIds) {
    const history = await client.workflow.getHandle(documentWorkflowId(jobId)).fetchHistory();
    const pageScheduled = new Set<string>();
    const startedAt = new Map<string, number>();
    for (const event of history.events ?? []) {
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'processPage') {
        pageScheduled.add(String(event.eventId));
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started && pageScheduled.has(String(started.scheduledEventId))) {
        startedAt.set(String(started.scheduledEventId), ms(event.eventTime));
      }
      const completed = event.activityTaskCompletedEventAttributes;
      const start = completed ? startedAt.get(String(completed.scheduledEventId)) : undefined;
      if (start !== undefined) intervals.push([start, ms(event.eventTime)]);
    }
  }
  return intervals;
}

/**
 * End-to-end time against the ideal: the page activities' summed time divided by the page activities that
 * can run at once. Also the time during which at least one page activity ran (their union).
 */
export function orchestrationOverhead(seconds: number, intervals: [number, number][], slots: number) {
  const activitySeconds = intervals.reduce((sum, [a, b]) => sum + (b - a), 0) / 1000;
  const ideal = activitySeconds / slots;
  const sorted = [...intervals].sort((x, y) => x[0] - y[0]);
  let busy = 0;
  let end = -Infinity;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    busy += b - Math.max(a, end);
    end = b;
  }
  return {
    endToEndSeconds: seconds,
    pageActivities: intervals.length,
    pageActivitySecondsSum: activitySeconds,
    concurrency: slots,
    idealSeconds: ideal,
    overheadPercent: 100 * (seconds / ideal - 1),
    pageActivityBusySeconds: busy / 1000,
    // The share of the end-to-end time in which no page activity ran: upload, workflow start, inspect,
    // finalize, Temporal round trips. The rest of the overhead is inside the busy span (pages of unequal
    // cost leaving OCR threads idle at the end, page activities waiting for an OCR thread).
    outsidePageActivitiesPercent: 100 * (1 - busy / 1000 / seconds),
  };
}
