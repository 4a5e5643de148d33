/**
 * The legacy mirror (LEGACY_MIRROR, docs/legacy.md): a document workflow keeps its job's row in the previous
 * service's legacy_jobs table true through one child workflow, started when the document starts and
 * abandoned when it closes. The document only signals it ("the job changed"; "that was the end") — a
 * Temporal call that never touches the legacy DB — so a legacy DB that is down can delay the row, never the
 * document. The child writes with an activity that reads the job's state from the app DB at that moment and
 * retries without a limit of attempts, and it ends only after a write that followed the last signal: the
 * final state cannot be lost, even when the legacy DB comes back hours after the document ended.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { documentWorkflowId, type DocumentProgress, type DocumentWorkflowInput } from '../core/contracts.js';

/** The patch that added the mirror: histories from before it replay without the child and its signals. */
export const LEGACY_MIRROR_PATCH = 'legacy-mirror';

/** Input of legacyMirrorWorkflow. */
export interface LegacyMirrorWorkflowInput {
  jobId: string;
}

/** Output of legacyMirrorWorkflow: how many writes it made. */
export interface LegacyMirrorWorkflowOutput {
  writes: number;
}

/** Argument of the legacyMirrorChanged signal: `final` once the job's state is its last. */
export interface LegacyMirrorNote {
  final: boolean;
}

/** The document workflow tells its mirror that the job changed. */
export const legacyMirrorChanged = defineSignal<[LegacyMirrorNote]>('legacyMirrorChanged');

/**
 * A write: 30 s each, tried again after 1 s doubling up to 10 s, with no limit of attempts — a legacy DB
 * that is away for a day costs one retried activity (attempts are not history events), not a lost row.
 */
const { mirrorLegacyJob } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/** A mirror whose document never said "final" (terminated, say) writes once more and ends after this. */
const IDLE_LIMIT = '30 days';

/**
 * One job's mirror: writes the job's row at its start and after each signal, coalescing signals that arrive
 * while a write is under way into one more write; ends after the write that followed the final signal.
 */
export async function legacyMirrorWorkflow(input: LegacyMirrorWorkflowInput): Promise<LegacyMirrorWorkflowOutput> {
  let dirty = true;
  let final = false;
  let writes = 0;
  setHandler(legacyMirrorChanged, (note) => {
    dirty = true;
    final ||= note.final;
  });
  for (;;) {
    if (!(await condition(() => dirty, IDLE_LIMIT))) final = true;
    dirty = false;
    const last = final;
    await mirrorLegacyJob({ jobId: input.jobId });
    writes++;
    if (last && !dirty) return { writes };
  }
}

/** The mirror of a job's document workflow: `document-<jobId>-legacy-mirror`. */
export function legacyMirrorWorkflowId(jobId: string): string {
  return `${documentWorkflowId(jobId)}-legacy-mirror`;
}

/** What the document workflow holds of its mirror. */
export interface LegacyMirror {
  /** The job's state changed (called after the bookkeeping write that changed it). */
  note(): Promise<void>;
  /** Notes each tenth of the pages that ends, until end(): progress without a write per page. */
  follow(progress: DocumentProgress): void;
  /** The job's state is final; the mirror writes it and ends. */
  end(): Promise<void>;
}

/** The tenths of the document's pages that have ended. */
function tenthsOf(progress: DocumentProgress): number {
  if (progress.pageCount === 0) return 0;
  return Math.floor(((progress.pagesDone + progress.pagesFailed) * 10) / progress.pageCount);
}

/**
 * Starts the job's mirror when its input asks for one (behind the `legacy-mirror` patch) and returns once the
 * child has started; undefined when the job is not mirrored.
 */
export async function startLegacyMirror(
  input: Pick<DocumentWorkflowInput, 'jobId' | 'legacyMirror'>,
): Promise<LegacyMirror | undefined> {
  if (!input.legacyMirror || !patched(LEGACY_MIRROR_PATCH)) return undefined;
  const workflowId = legacyMirrorWorkflowId(input.jobId);
  let child: Pick<ChildWorkflowHandle<typeof legacyMirrorWorkflow>, 'signal'>;
  try {
    child = await startChild(legacyMirrorWorkflow, {
      workflowId,
      args: [{ jobId: input.jobId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
    });
  } catch (err) {
    // A mirror of an earlier run of this job's workflow (reset, or restarted by the reconciler) still running:
    // it reads the same job, so this run signals that one.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    child = getExternalWorkflowHandle(workflowId);
  }
  let ended = false;
  // Signals go out even while the document is being cancelled: the mirror must hear about the end.
  const signal = (final: boolean) =>
    CancellationScope.nonCancellable(() => child.signal(legacyMirrorChanged, { final }));
  return {
    note: () => signal(false),
    follow(progress) {
      let tenths = tenthsOf(progress);
      const loop = async () => {
        for (;;) {
          await condition(() => ended || tenthsOf(progress) > tenths);
          if (ended) return;
          tenths = tenthsOf(progress);
          await signal(false);
        }
      };
      void CancellationScope.nonCancellable(loop).catch((err: unknown) => {
        log.warn('legacy mirror: a progress signal failed', { error: String(err) });
      });
    },
    async end() {
      ended = true;
      await signal(true);
    },
  };
}
