import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry with the process's default metrics (CPU, memory, event loop, GC). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** How a page attempt ended: read, failed (it may be retried), or stopped by cancellation. */
export type PageOutcome = 'done' | 'error' | 'cancelled';
/** How a page was read: its own text layer, or rendered and OCR'd. */
export type PageReadMethod = 'text-layer' | 'ocr';
/** The timed parts of a page attempt. */
export type PagePhase = 'text-layer' | 'render' | 'orientation' | 'ocr';

/** Page metrics, recorded by the page activities in the worker process. */
export interface PageMetrics {
  attemptEnded(method: PageReadMethod, outcome: PageOutcome, seconds: number): void;
  phase(phase: PagePhase, seconds: number): void;
  retried(): void;
  pageFailed(code: string): void;
  /** Counts a running page attempt until the returned function is called. */
  started(): () => void;
}

// Page work spans ~10 ms (a text layer) to minutes (a dense scan at 300 dpi on a busy machine).
const pageBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300];

export function createPageMetrics(registry: Registry): PageMetrics {
  const registers = [registry];
  const pages = new Counter({
    name: 'folio_pages_total',
    help: 'Page attempts finished, by method (text-layer, ocr) and outcome (done, error, cancelled)',
    labelNames: ['method', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'folio_page_duration_seconds',
    help: 'Duration of a page attempt, by method',
    labelNames: ['method'] as const,
    buckets: pageBuckets,
    registers,
  });
  const phases = new Histogram({
    name: 'folio_page_phase_duration_seconds',
    help: 'Duration of one part of a page attempt: text-layer extraction, render, orientation detection, OCR',
    labelNames: ['phase'] as const,
    buckets: pageBuckets,
    registers,
  });
  const retries = new Counter({
    name: 'folio_page_retries_total',
    help: 'Page attempts that were retries of an earlier failed attempt',
    registers,
  });
  const failed = new Counter({
    name: 'folio_pages_failed_total',
    help: 'Pages recorded as failed once their retries were spent, by error code',
    labelNames: ['code'] as const,
    registers,
  });
  const inFlight = new Gauge({
    name: 'folio_pages_in_flight',
    help: 'Page attempts running in this worker process',
    registers,
  });
  // Every series exists from the start, so rate() and absent() behave before the first page.
  for (const method of ['text-layer', 'ocr'] as const) {
    duration.zero({ method });
    for (const outcome of ['done', 'error', 'cancelled'] as const) pages.inc({ method, outcome }, 0);
  }
  for (const phase of ['text-layer', 'render', 'orientation', 'ocr'] as const) phases.zero({ phase });
  return {
    attemptEnded(method, outcome, seconds) {
      pages.inc({ method, outcome });
      duration.observe({ method }, seconds);
    },
    phase(phase, seconds) {
      phases.observe({ phase }, seconds);
    },
    retried() {
      retries.inc();
    },
    pageFailed(code) {
      failed.inc({ code });
    },
    started() {
      inFlight.inc();
      let ended = false;
      return () => {
        if (!ended) inFlight.dec();
        ended = true;
      };
    },
  };
}

const catchAll = /^\{?\/?\*\w*\}?$/;

/**
 * The route label of a request: Express's route template (`/v1/jobs/:id`), never the raw path, so job
 * ids do not become series; requests that matched no route share one label.
 */
export function routeLabel(req: IncomingMessage): string {
  const { route, baseUrl } = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  // Nest answers unknown paths from a catch-all route (`{/*splat}`): those matched nothing of ours.
  if (!route || typeof route.path !== 'string' || catchAll.test(route.path)) return 'unmatched';
  return `${baseUrl ?? ''}${route.path}` || '/';
}

/**
 * Counts and times every HTTP request the server answers. Listens on the server itself rather than as
 * middleware, so the admin panel (mounted ahead of all middleware) is counted too.
 */
export function observeHttpRequests(server: Server, registry: Registry): void {
  const registers = [registry];
  const requests = new Counter({
    name: 'folio_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'folio_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const end = duration.startTimer();
    res.once('close', () => {
      const labels = { method: req.method ?? 'UNKNOWN', route: routeLabel(req) };
      requests.inc({ ...labels, status: String(res.statusCode) });
      end(labels);
    });
  });
}

/** What the document gauges read from the app DB at scrape time. */
export interface DocumentCounts {
  byStatus(): Promise<Record<string, number>>;
  inFlight(): Promise<number>;
}

/**
 * Documents (jobs) by status and those in flight (queued + processing), read from the app DB when
 * Prometheus scrapes, by indexed counts. A scrape while the DB is away keeps the last values (readiness
 * reports the outage).
 */
export function registerDocumentGauges(
  registry: Registry,
  counts: DocumentCounts,
  statuses: readonly string[],
  onError: (err: unknown) => void,
): void {
  new Gauge({
    name: 'folio_documents',
    help: 'Documents (jobs) by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      try {
        const c = await counts.byStatus();
        for (const status of statuses) this.set({ status }, c[status] ?? 0);
      } catch (err) {
        onError(err);
      }
    },
  });
  new Gauge({
    name: 'folio_documents_in_flight',
    help: 'Documents queued or processing',
    registers: [registry],
    async collect() {
      try {
        this.set(await counts.inFlight());
      } catch (err) {
        onError(err);
      }
    },
  });
}
