/**
 * Folio as a client sees it: an API and worker processes on a task queue of their own, documents submitted
 * through the API and timed from the first upload until the last job is finished. The workflow histories
 * give each page activity's start and end, for the orchestration overhead.
 */
import type { Client } from '@temporalio/client';
import { freeLoopbackPort } from '../src/common/ports.js';
import { cpuBetween, cpuSnapshot, sampleWorkerCpu, type CpuBetween, type CpuSnapshot } from './cpu.js';
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
  /** OCR threads summed over the workers: how many pages can be read at the same moment. */
  ocrThreads: number;
  /** Seconds spent so far in each phase of the page activities (text-layer, render, orientation, ocr), all workers. */
  phaseSeconds(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * An API and `workers` worker processes, each started with `workerEnv`; from `root`'s build when given
 * (another checkout, for before/after in one run).
 */
export async function startStack(
  name: string,
  workers: number,
  workerEnv: NodeJS.ProcessEnv,
  apiEnv: NodeJS.ProcessEnv = {},
  root?: string,
): Promise<FolioStack> {
  const queue = uniqueTaskQueue(`bench-${name}`);
  // Each worker serves its metrics on a port of its own: the phase histograms say where page time goes.
  const metricsPorts = await Promise.all(Array.from({ length: workers }, () => freeLoopbackPort()));
  const settled = await Promise.allSettled([
    startApi({ TEMPORAL_TASK_QUEUE: queue, ...apiEnv }, root),
    ...metricsPorts.map((port) =>
      startWorker({ TEMPORAL_TASK_QUEUE: queue, WORKER_METRICS_PORT: String(port), ...workerEnv }, root),
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
    ocrThreads: workers * ocrWorkers,
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
  /** Wall-clock bounds of the pass (ms since the epoch): the first upload, and the moment all had finished. */
  startedAtMs: number;
  endedAtMs: number;
  jobIds: string[];
  /** The batch's own API key: results are read as their owner. */
  headers: Record<string, string>;
}

let batch = 0;
let temporal: Client | undefined;

/** The Temporal client passes wait with (the bench's own connection). */
export function useTemporal(client: Client): void {
  temporal = client;
}

function temporalClient(): Client {
  if (!temporal) throw new Error('bench/folio.ts: call useTemporal(client) first');
  return temporal;
}

/** Submits every document at once and waits until all are finished; every one must complete. */
export async function submitAndWait(
  stack: FolioStack,
  documents: Submission[],
  timeoutMs = 60 * 60_000,
  watch?: { started(): void; finished(): void },
): Promise<FolioPass> {
  // Each batch submits as an owner of its own: the same pages again would otherwise join the earlier,
  // completed jobs (dedupe by owner and content). Its filename prefix lets one request count its jobs.
  const prefix = `b${++batch}x${Date.now()}-`;
  const { key } = await createApiKey(`bench ${prefix}`, 'admin');
  const headers = { authorization: `Bearer ${key}` };
  watch?.started();
  const startedAtMs = Date.now();
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
  const count = async (statuses: string) => {
    const res = await fetch(`${stack.api.url}/v1/jobs?filename=${prefix}&status=${statuses}&limit=1`, {
      headers,
    });
    if (res.status !== 200) throw new Error(`${stack.name}: job list answered ${res.status}`);
    return ((await res.json()) as { total: number }).total;
  };
  // Each job's workflow records the job's end in the DB and then closes: waiting for the closes (long polls
  // to Temporal) marks the end without an API request every few ms competing with the pages for the cores.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(
      jobIds.map((id) =>
        temporalClient()
          .workflow.getHandle(documentWorkflowId(id))
          .result()
          .catch(() => undefined),
      ),
    ),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${stack.name}: jobs not finished in ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  const seconds = (performance.now() - started) / 1000;
  const endedAtMs = Date.now();
  watch?.finished();
  // The end as the client sees it: every job's status, read once.
  if ((await count('completed,partial,failed,cancelled')) < documents.length) {
    throw new Error(`${stack.name}: workflows closed but not every job shows its end`);
  }
  const completed = await count('completed');
  if (completed !== documents.length) {
    throw new Error(`${stack.name}: ${documents.length - completed} of ${documents.length} jobs did not complete`);
  }
  return { seconds, startedAtMs, endedAtMs, jobIds, headers };
}

/** A pass as submitAndWait runs it, with the machine's CPU accounted for while it ran. */
export interface MeasuredPass extends FolioPass {
  cpu: CpuBetween;
  /** The workers' CPU use over the pass: [start ms, end ms, cores used]. */
  workerCores: [number, number, number][];
}

export async function measuredPass(stack: FolioStack, documents: Submission[]): Promise<MeasuredPass> {
  const roles = {
    workers: stack.workers.map((w) => w.child.pid!),
    apis: [stack.api.child.pid!],
  };
  let before: CpuSnapshot | undefined;
  let after: CpuSnapshot | undefined;
  let sampler: ReturnType<typeof sampleWorkerCpu> | undefined;
  let workerCores: [number, number, number][] = [];
  const pass = await submitAndWait(stack, documents, undefined, {
    started() {
      before = cpuSnapshot(roles);
      sampler = sampleWorkerCpu(roles.workers);
    },
    finished() {
      workerCores = sampler!.stop();
      after = cpuSnapshot(roles);
    },
  });
  return { ...pass, cpu: cpuBetween(before!, after!), workerCores };
}

async function result(stack: FolioStack, pass: FolioPass, jobId: string): Promise<JobResultBody> {
  const res = await fetch(`${stack.api.url}/v1/jobs/${jobId}/result`, { headers: pass.headers });
  if (res.status !== 200) throw new Error(`${stack.name}: result of ${jobId} answered ${res.status}`);
  return (await res.json()) as JobResultBody;
}

/** Every page's text: the jobs in order, each job's pages in page order. */
export async function pageTexts(stack: FolioStack, pass: FolioPass): Promise<string[]> {
  const jobs = await Promise.all(pass.jobIds.map((id) => result(stack, pass, id)));
  return jobs.flatMap(({ pages }) => pages.sort((a, b) => a.number - b.number).map((p) => p.text));
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

/** One activity attempt of a document workflow, from its history (ms since the epoch). */
export interface ActivitySpan {
  type: string;
  /** The page, for page activities (from the activity's input). */
  page?: number;
  scheduledMs: number;
  startedMs?: number;
  endedMs?: number;
  outcome: 'completed' | 'failed' | 'timed-out' | 'cancelled' | 'open';
}

/** A document workflow's life as its history tells it. */
export interface JobTimeline {
  jobId: string;
  workflowStartedMs: number;
  workflowClosedMs?: number;
  activities: ActivitySpan[];
  /** Workflow tasks: how many, and their summed time from scheduled to completed. */
  workflowTasks: number;
  workflowTaskMs: number;
}

/** Each job's document workflow, from its history. */
export async function passTimeline(client: Client, jobIds: string[]): Promise<JobTimeline[]> {
  const timelines: JobTimeline[] = [];
  for (const jobId of jobIds) {
    const history = await client.workflow.getHandle(documentWorkflowId(jobId)).fetchHistory();
    const spans = new Map<string, ActivitySpan>();
    const taskScheduled = new Map<string, number>();
    const timeline: JobTimeline = { jobId, workflowStartedMs: 0, activities: [], workflowTasks: 0, workflowTaskMs: 0 };
    for (const event of history.events ?? []) {
      const at = ms(event.eventTime);
      if (event.workflowExecutionStartedEventAttributes) timeline.workflowStartedMs = at;
      if (
        event.workflowExecutionCompletedEventAttributes ||
        event.workflowExecutionFailedEventAttributes ||
        event.workflowExecutionCanceledEventAttributes
      ) {
        timeline.workflowClosedMs = at;
      }
      if (event.workflowTaskScheduledEventAttributes) taskScheduled.set(String(event.eventId), at);
      const task = event.workflowTaskCompletedEventAttributes;
      if (task) {
        timeline.workflowTasks++;
        timeline.workflowTaskMs += at - (taskScheduled.get(String(task.scheduledEventId)) ?? at);
      }
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        const span: ActivitySpan = { type: scheduled.activityType?.name ?? '?', scheduledMs: at, outcome: 'open' };
        const data = scheduled.input?.payloads?.[0]?.data;
        if (data && span.type === 'processPage') {
          span.page = (JSON.parse(Buffer.from(data).toString('utf8')) as { pageNumber?: number }).pageNumber;
        }
        spans.set(String(event.eventId), span);
        timeline.activities.push(span);
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) spans.get(String(started.scheduledEventId))!.startedMs = at;
      for (const [attributes, outcome] of [
        [event.activityTaskCompletedEventAttributes, 'completed'],
        [event.activityTaskFailedEventAttributes, 'failed'],
        [event.activityTaskTimedOutEventAttributes, 'timed-out'],
        [event.activityTaskCanceledEventAttributes, 'cancelled'],
      ] as const) {
        const span = attributes ? spans.get(String(attributes.scheduledEventId)) : undefined;
        if (span) {
          span.endedMs = at;
          span.outcome = outcome;
        }
      }
    }
    timelines.push(timeline);
  }
  return timelines;
}

/** Start and end (ms since the epoch) of every processPage activity attempt that completed. */
export function pageIntervals(timelines: JobTimeline[]): [number, number][] {
  return timelines.flatMap((t) =>
    t.activities
      .filter((a) => a.type === 'processPage' && a.outcome === 'completed' && a.startedMs !== undefined)
      .map((a): [number, number] => [a.startedMs!, a.endedMs!]),
  );
}

/** Start and end (ms since the epoch) of every processPage activity attempt that completed, from the histories. */
export async function pageActivityIntervals(client: Client, jobIds: string[]): Promise<[number, number][]> {
  return pageIntervals(await passTimeline(client, jobIds));
}

/**
 * The orchestration overhead measured on the cores: a pass had `cores × seconds` of CPU; the workers used
 * some of it for the pages (their CPU time: render, orientation, OCR, and the worker's own bookkeeping);
 * everything else is overhead — CPU that the API, Temporal, PostgreSQL and the bench took, and cores left
 * idle. Split two ways, each in percent of the workers' CPU time (the summed page work), so that the parts
 * add up to the overhead: by who took the cores, and by when the workers left them unused — before the
 * first page started, while pages waited to start, in the tail (after the last page started, when nothing
 * is left to fill a free OCR thread) and after the last page ended.
 */
export function coreOverhead(pass: MeasuredPass, timelines: JobTimeline[]) {
  const { cpu } = pass;
  const work = cpu.seconds.worker;
  const capacity = cpu.cores * pass.seconds;
  const pct = (s: number) => (100 * s) / work;
  const pages = timelines.flatMap((t) => t.activities.filter((a) => a.type === 'processPage' && a.startedMs));
  const firstStart = Math.min(...pages.map((a) => a.startedMs!));
  const lastStart = Math.max(...pages.map((a) => a.startedMs!));
  const lastEnd = Math.max(...pages.map((a) => a.endedMs ?? pass.endedAtMs));
  // Worker cores left unused in [from, to): the samples overlapping it, pro rata.
  const unused = (from: number, to: number) => {
    let sum = 0;
    for (const [a, b, cores] of pass.workerCores) {
      const overlap = Math.min(b, to) - Math.max(a, from);
      if (overlap > 0) sum += ((cpu.cores - cores) * overlap) / 1000;
    }
    return sum;
  };
  const others = Object.entries(cpu.seconds).filter(([group]) => group !== 'worker');
  return {
    endToEndSeconds: pass.seconds,
    cores: cpu.cores,
    pageWorkCpuSeconds: work,
    idealSeconds: work / cpu.cores,
    overheadPercent: pct(capacity - work),
    byConsumer: Object.fromEntries([
      ...others.map(([group, seconds]) => [group, pct(seconds)]),
      ['idle', pct(cpu.idleSeconds)],
    ]) as Record<string, number>,
    byPhase: {
      beforeFirstPage: pct(unused(pass.startedAtMs, firstStart)),
      whilePagesWaited: pct(unused(firstStart, lastStart)),
      tail: pct(unused(lastStart, lastEnd)),
      afterLastPage: pct(unused(lastEnd, pass.endedAtMs)),
    },
    secondsOf: {
      beforeFirstPage: (firstStart - pass.startedAtMs) / 1000,
      tail: (lastEnd - lastStart) / 1000,
      afterLastPage: (pass.endedAtMs - lastEnd) / 1000,
    },
  };
}

/** A pass's timelines made relative to its start and compact, for the results file. */
export function compactTimeline(pass: FolioPass, timelines: JobTimeline[]) {
  const rel = (t: number | undefined) => (t === undefined ? null : Math.round(t - pass.startedAtMs));
  return timelines.map((t) => ({
    started: rel(t.workflowStartedMs),
    closed: rel(t.workflowClosedMs),
    workflowTasks: t.workflowTasks,
    workflowTaskMs: Math.round(t.workflowTaskMs),
    // [type, page or null, scheduled, started, ended]
    activities: t.activities.map((a) => [a.type, a.page ?? null, rel(a.scheduledMs), rel(a.startedMs), rel(a.endedMs)]),
  }));
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
