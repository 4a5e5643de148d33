/**
 * How a document's pages are run — the sliding window, child workflows for long documents, each page's
 * timeout, attempts and heartbeat — built from configuration in one place. The worker's inspect puts it in
 * the document workflow's history (so a replay sees the plan the run had); a retry's starter puts it in the
 * retry workflow's input. And in which order: the largest pages first.
 */
import type { PagePlan } from './contracts.js';

/** The configuration a page plan is made from (the `pipeline` part of the typed config). */
export interface PagePlanSettings {
  pageWindow: number;
  pagesPerChildWorkflow: number;
  pageTimeoutSeconds: number;
  pageMaxAttempts: number;
  pageHeartbeatTimeoutSeconds: number;
}

export function pagePlanOf(settings: PagePlanSettings): PagePlan {
  return {
    window: settings.pageWindow,
    pagesPerChild: settings.pagesPerChildWorkflow,
    pageTimeoutSeconds: settings.pageTimeoutSeconds,
    pageMaxAttempts: settings.pageMaxAttempts,
    heartbeatTimeoutSeconds: settings.pageHeartbeatTimeoutSeconds,
  };
}

/** A page's size as inspection found it, in PDF points: what its cost is judged by before it is read. */
export interface SizedPage {
  number: number;
  width: number;
  height: number;
}

/** Areas within this factor of each other count as one size: letter and A4 scans are not told apart. */
const SIZE_STEP = 1.25;

/**
 * The order to run a document's pages in: the largest first, pages of one size in page order. A page's OCR
 * time grows with its area (its pixels at the render resolution), so a large page started last would run
 * alone on one OCR thread while the others idle; started first, the small pages fill the threads at the
 * end (longest-first scheduling). Undefined when that order is page order, so a uniform document's history
 * carries no second list of its pages.
 */
export function runOrder(pages: SizedPage[]): number[] | undefined {
  const size = (p: SizedPage) => Math.round(Math.log(Math.max(1, p.width * p.height)) / Math.log(SIZE_STEP));
  const ordered = [...pages].sort((a, b) => size(b) - size(a) || a.number - b.number).map((p) => p.number);
  const ascending = pages.map((p) => p.number).sort((a, b) => a - b);
  return ordered.every((n, i) => n === ascending[i]) ? undefined : ordered;
}
