/**
 * The worker's page metrics, recorded by the page activities: attempts by method and outcome, each step's
 * duration, retries, failures by code, attempts in flight. The worker serves them on its /metrics.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { READ_METHODS, type ReadMethod } from '../core/lifecycle.js';

/** How a page attempt ended: read, failed (it may be retried), or stopped by cancellation. */
export type PageOutcome = 'done' | 'error' | 'cancelled';
/** The timed steps of a page attempt (the page pipeline's, activities/page.ts). */
export const PAGE_PHASES = ['text-layer', 'render', 'orientation', 'ocr'] as const;
export type PagePhase = (typeof PAGE_PHASES)[number];

/** Page metrics, recorded by the page activities in the worker process. */
export interface PageMetrics {
  attemptEnded(method: ReadMethod, outcome: PageOutcome, seconds: number): void;
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
  for (const method of READ_METHODS) {
    duration.zero({ method });
    for (const outcome of ['done', 'error', 'cancelled'] as const) pages.inc({ method, outcome }, 0);
  }
  for (const phase of PAGE_PHASES) phases.zero({ phase });
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
