/**
 * A document's priority as its run knows it (changed by the setPriority signal while it runs), and what the
 * Temporal UI shows of the document: its search attributes, kept current, and the summaries of its steps.
 */
import type { Priority, SearchAttributeUpdatePair } from '@temporalio/common';
import {
  defineSignal,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  FolioSearchAttributes,
  isPriority,
  setPrioritySignalName,
  type DocumentOptions,
  type SetPriorityInput,
} from '../core/contracts.js';
import type { JobStatus } from '../core/lifecycle.js';

/**
 * The patch that gave runs a priority of their own: page activities and child workflows started with the
 * run's current priority, summaries on each step, search attributes kept current, the setPriority signal
 * obeyed. Runs whose history began before it keep inheriting the priority they were started with.
 */
export const PRIORITY_PATCH = 'priority';

/** Tells a running document (and the page-range child it is running) its job's new priority. */
export const setPrioritySignal = defineSignal<[SetPriorityInput]>(setPrioritySignalName);

/** A run's priority and what it shows. */
export interface RunPriority {
  /** The priority key pages start with from now on; undefined: inherited from the workflow's own. */
  key: number | undefined;
  /** Whether this run has the patch (else it changes nothing of what it did before). */
  tracked: boolean;
  /** The page-range child this run is waiting for, to pass a new priority on to. */
  child?: string | undefined;
}

/**
 * The run's priority, from its input; registers the setPriority signal. Called once, first thing in a run,
 * so the patch marker comes before any command.
 */
export function trackPriority(initial: number | undefined): RunPriority {
  const run: RunPriority = { key: undefined, tracked: patched(PRIORITY_PATCH) };
  if (run.tracked && isPriority(initial)) run.key = initial;
  setHandler(setPrioritySignal, async ({ priority }) => {
    if (!run.tracked || !isPriority(priority) || priority === run.key) return;
    run.key = priority;
    show(run, { priority });
    if (run.child) {
      try {
        await getExternalWorkflowHandle(run.child).signal(setPrioritySignal, { priority });
      } catch {
        // The child finished meanwhile: its pages are done, and the next child starts with the new key.
      }
    }
  });
  return run;
}

/** Temporal's priority for what the run starts now: absent when the run inherits. */
export function priorityOf(run: RunPriority): { priority?: Priority } {
  return run.key === undefined ? {} : { priority: { priorityKey: run.key } };
}

/** A step's one-line summary, shown in the history in the Temporal UI; none in runs from before the patch. */
export function summaryOf(run: RunPriority, summary: string): { summary?: string } {
  return run.tracked ? { summary } : {};
}

/** A page activity's summary: "page 12: auto, kor" (the OCR mode and the languages it will be read in). */
export function pageSummary(pageNumber: number, options: DocumentOptions): string {
  const mode = options.ocrMode === 'force' ? 'OCR' : options.ocrMode === 'skip' ? 'text layer' : 'auto';
  return `page ${pageNumber}: ${mode}, ${options.languages.join('+')}`;
}

/**
 * Keeps the document's search attributes current (FolioStatus, FolioPageCount, FolioPriority): only those
 * the run was started with, so a cluster missing one (a start without it) is never sent it.
 */
export function show(run: RunPriority, what: { status?: JobStatus; pageCount?: number; priority?: number }): void {
  if (!run.tracked) return;
  const started = workflowInfo().typedSearchAttributes;
  const { status, pageCount, priority } = FolioSearchAttributes;
  const pairs: SearchAttributeUpdatePair[] = [];
  if (what.status !== undefined && started.get(status) !== undefined) pairs.push({ key: status, value: what.status });
  if (what.pageCount !== undefined && started.get(pageCount) !== undefined)
    pairs.push({ key: pageCount, value: what.pageCount });
  if (what.priority !== undefined && started.get(priority) !== undefined)
    pairs.push({ key: priority, value: what.priority });
  if (pairs.length > 0) upsertSearchAttributes(pairs);
}
