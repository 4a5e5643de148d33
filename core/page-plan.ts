/**
 * How a document's pages are run — the sliding window, child workflows for long documents, each page's
 * timeout, attempts and heartbeat — built from configuration in one place. The worker's inspect puts it in
 * the document workflow's history (so a replay sees the plan the run had); a retry's starter puts it in the
 * retry workflow's input.
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
