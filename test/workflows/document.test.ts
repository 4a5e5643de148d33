/**
 * documentWorkflow, pageRangeWorkflow and retryPagesWorkflow in the Temporal test environment (a dev server
 * of this file's own, from the installed CLI) with mocked activities: plain functions that record every call
 * and do what each test scripts, per job. What is checked is the orchestration alone — the sliding window,
 * child workflows for long documents, cancellation, the password wait, failed pages, input failures, retries
 * of failed pages — and, last, that every history these runs left replays against the workflow code.
 * Time-skipping is not available here: waits are kept short by small inputs (a 2 s password deadline).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities/index.js';
import {
  documentProgressQueryName,
  documentWorkflowId,
  type BuildSearchablePdfInput,
  type BuildSearchablePdfOutput,
  type CheckDocumentPasswordInput,
  type CheckDocumentPasswordOutput,
  type DocumentProgress,
  type FinalizeDocumentInput,
  type InspectDocumentInput,
  type InspectDocumentOutput,
  type PagePlan,
  type ProcessPageInput,
  type RecordPageFailureInput,
  type UpdateJobInput,
} from '../../core/contracts.js';
import { INPUT_FAILURE_CODES, isPasswordFailure } from '../../core/failures.js';
import type { FinishedStatus } from '../../core/lifecycle.js';
import {
  providePassword,
  startDocumentWorkflow,
  startRetryWorkflow,
  type JobToStart,
} from '../../core/workflow-client.js';
import type { documentWorkflow, retryPagesWorkflow } from '../../workflows/index.js';
import { historiesOf, startTestTemporal, until, workflowBundle } from '../support/temporal.js';

type Mocked = Pick<
  Activities,
  | 'updateJob'
  | 'inspectDocument'
  | 'checkDocumentPassword'
  | 'processPage'
  | 'recordPageFailure'
  | 'buildSearchablePdf'
  | 'finalizeDocument'
  | 'concludeBatches'
>;
type ActivityName = keyof Mocked;

/** One call of a mocked activity. */
interface Call {
  activity: ActivityName;
  input: unknown;
  attempt: number;
  /** The workflow that scheduled it: the document's, or one of its children. */
  workflowId: string;
}

/** What a test scripts for one job's activities; unscripted calls succeed at once. */
interface Script {
  /** The pages inspect selects (default 1..n for a number). */
  pages?: number[] | number;
  plan?: Partial<PagePlan>;
  /** The order inspect says to run the pages in (the largest first); absent: page order. */
  runOrder?: number[];
  inspect?: (input: InspectDocumentInput, attempt: number) => Promise<void>;
  page?: (input: ProcessPageInput, attempt: number) => Promise<void>;
  /** The searchable PDF build: succeeds at once unless scripted. */
  build?: (attempt: number) => Promise<void>;
}

const RIGHT = 'sealed-right-password';
const WRONG = 'sealed-wrong-password';

/** One job: its scripted activities and everything they were asked, in order. */
class Job {
  readonly id = randomUUID();
  readonly workflowId = documentWorkflowId(this.id);
  readonly storageKey = `documents/${this.id}`;
  readonly calls: Call[] = [];
  /** Activity names as they were called, with what the scripts add (`page 2 stopped`). */
  readonly log: string[] = [];
  readonly pageNumbers: number[];
  readonly plan: PagePlan;
  readonly done = new Set<number>();
  readonly failed = new Set<number>();
  inFlight = 0;
  maxInFlight = 0;

  constructor(readonly script: Script = {}) {
    const pages = script.pages ?? 3;
    this.pageNumbers = typeof pages === 'number' ? Array.from({ length: pages }, (_, i) => i + 1) : pages;
    this.plan = {
      window: 4,
      pagesPerChild: 500,
      pageTimeoutSeconds: 30,
      pageMaxAttempts: 3,
      heartbeatTimeoutSeconds: 30,
      ...script.plan,
    };
  }

  inputsOf(activity: ActivityName): unknown[] {
    return this.calls.filter((c) => c.activity === activity).map((c) => c.input);
  }

  /** The pages processPage was asked for, in the order the attempts started. */
  pagesStarted(): number[] {
    return this.calls.filter((c) => c.activity === 'processPage').map((c) => (c.input as ProcessPageInput).pageNumber);
  }

  /** The job row as JobStore.finalize derives it from the pages. */
  finalize(cancelled: boolean) {
    const status: FinishedStatus = cancelled
      ? 'cancelled'
      : this.failed.size === 0
        ? 'completed'
        : this.done.size === 0
          ? 'failed'
          : 'partial';
    return { status, pagesDone: this.done.size, pagesFailed: this.failed.size };
  }
}

const jobs = new Map<string, Job>();

/** Records the call on its job and returns the job. */
function called(activity: ActivityName, input: { jobId: string }): { job: Job; attempt: number } {
  const job = jobs.get(input.jobId);
  assert.ok(job, `an activity was called for an unknown job ${input.jobId}`);
  const { attempt, workflowExecution } = Context.current().info;
  job.calls.push({ activity, input, attempt, workflowId: workflowExecution?.workflowId ?? '' });
  job.log.push(activity);
  return { job, attempt };
}

/** The activities the test worker registers: the real names and signatures, scripted per job. */
const activities: Mocked = {
  updateJob(input: UpdateJobInput) {
    called('updateJob', input);
    return Promise.resolve();
  },
  async inspectDocument(input: InspectDocumentInput): Promise<InspectDocumentOutput> {
    const { job, attempt } = called('inspectDocument', input);
    await job.script.inspect?.(input, attempt);
    return {
      pageCount: Math.max(...job.pageNumbers),
      encrypted: false,
      pageNumbers: job.pageNumbers,
      ...(job.script.runOrder ? { runOrder: job.script.runOrder } : {}),
      plan: job.plan,
    };
  },
  checkDocumentPassword(input: CheckDocumentPasswordInput): Promise<CheckDocumentPasswordOutput> {
    called('checkDocumentPassword', input);
    return Promise.resolve(
      input.password === RIGHT
        ? { opens: true }
        : { opens: false, code: 'PDF_PASSWORD_INCORRECT', message: 'The password does not open the document.' },
    );
  },
  async processPage(input: ProcessPageInput) {
    const { job, attempt } = called('processPage', input);
    job.inFlight++;
    job.maxInFlight = Math.max(job.maxInFlight, job.inFlight);
    try {
      await (job.script.page?.(input, attempt) ?? sleep(20));
    } finally {
      job.inFlight--;
    }
    job.done.add(input.pageNumber);
    job.log.push(`page ${input.pageNumber} done`);
    return { pageNumber: input.pageNumber, method: 'text-layer' as const, characters: 10 };
  },
  recordPageFailure(input: RecordPageFailureInput) {
    const { job } = called('recordPageFailure', input);
    job.failed.add(input.pageNumber);
    return Promise.resolve();
  },
  async buildSearchablePdf(input: BuildSearchablePdfInput): Promise<BuildSearchablePdfOutput> {
    const { job, attempt } = called('buildSearchablePdf', input);
    await job.script.build?.(attempt);
    return { built: true, storageKey: `results/${input.jobId}.pdf`, bytes: 1, pagesWithTextLayer: job.done.size };
  },
  finalizeDocument(input: FinalizeDocumentInput) {
    const { job } = called('finalizeDocument', input);
    return Promise.resolve(job.finalize(input.cancelled ?? false));
  },
  // These jobs are in no batch (test/e2e/batches.test.ts and test/core/batch-store.test.ts cover batches).
  concludeBatches: () => Promise.resolve({ ended: [] }),
};

/** Inspect as the real one answers: it opens only with the right password. */
const inspectWithPassword = ({ password }: InspectDocumentInput) => {
  if (password === undefined) {
    return Promise.reject(ApplicationFailure.nonRetryable('The document needs a password.', 'PDF_PASSWORD_REQUIRED'));
  }
  if (password !== RIGHT) {
    return Promise.reject(ApplicationFailure.nonRetryable('The password is wrong.', 'PDF_PASSWORD_INCORRECT'));
  }
  return Promise.resolve();
};

function waitingUpdate(job: Job): UpdateJobInput | undefined {
  return (job.inputsOf('updateJob') as UpdateJobInput[]).find((u) => u.status === 'needs_password');
}

const pages = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

describe('document workflows with mocked activities', () => {
  const taskQueue = 'workflow-tests';
  /** Every workflow these tests ran, children included: their histories are replayed last. */
  const ran: string[] = [];
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    env = await startTestTemporal();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities,
      // Well above any window below: the workflow is what limits pages in flight, not the worker.
      maxConcurrentActivityTaskExecutions: 50,
      // Heartbeats reach the server at once, so a cancellation reaches a page within a fraction of a second.
      maxHeartbeatThrottleInterval: '200 ms',
      defaultHeartbeatThrottleInterval: '200 ms',
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  function jobToStart(job: Job, password?: string): JobToStart {
    return {
      id: job.id,
      storageKey: job.storageKey,
      options: { ocrMode: 'auto', languages: ['eng'] },
      passwordSealed: password ?? null,
    };
  }

  /** Starts a job's documentWorkflow through the API's own starter. */
  async function start(
    job: Job,
    input: { password?: string; passwordWaitSeconds?: number } = {},
  ): Promise<WorkflowHandle<typeof documentWorkflow>> {
    jobs.set(job.id, job);
    const outcome = await startDocumentWorkflow(env.client, jobToStart(job, input.password), {
      taskQueue,
      passwordWaitSeconds: input.passwordWaitSeconds ?? 60,
    });
    assert.equal(outcome, 'started');
    ran.push(job.workflowId);
    return env.client.workflow.getHandle<typeof documentWorkflow>(job.workflowId);
  }

  function progress(handle: WorkflowHandle): Promise<DocumentProgress> {
    return handle.query<DocumentProgress>(documentProgressQueryName);
  }

  /** The workflow ended cancelled: its result rejects with a CancelledFailure. */
  async function assertCancelled(handle: WorkflowHandle): Promise<void> {
    await assert.rejects(
      handle.result(),
      (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure,
    );
  }

  /** The update was refused with a failure of this type. */
  async function assertRefused(update: Promise<unknown>, type: string | undefined, message?: RegExp): Promise<void> {
    await assert.rejects(update, (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError, `not an update failure: ${String(err)}`);
      assert.ok(err.cause instanceof ApplicationFailure, `cause: ${String(err.cause)}`);
      assert.equal(err.cause.type ?? undefined, type);
      if (message) assert.match(err.cause.message, message);
      return true;
    });
  }

  describe('pages', () => {
    it('runs every page once, through a window of plan.window page activities and never more', async () => {
      const job = new Job({
        pages: 11,
        plan: { window: 3 },
        page: ({ pageNumber }) => sleep(30 + ((pageNumber * 37) % 50)),
      });
      const result = await (await start(job)).result();

      assert.equal(job.maxInFlight, 3, 'the window is filled and never exceeded');
      assert.deepEqual(job.pagesStarted(), pages(1, 11), 'each page once, taken in order');
      assert.deepEqual(job.inputsOf('processPage')[0], {
        jobId: job.id,
        pageNumber: 1,
        storageKey: job.storageKey,
        options: { ocrMode: 'auto', languages: ['eng'] },
      });
      assert.deepEqual(result, { jobId: job.id, status: 'completed', pageCount: 11, pagesDone: 11, pagesFailed: 0 });
      assert.deepEqual(job.inputsOf('inspectDocument'), [{ jobId: job.id, storageKey: job.storageKey }]);
      assert.deepEqual(job.inputsOf('updateJob'), [
        { jobId: job.id, status: 'processing', step: 'inspecting' },
        { jobId: job.id, step: 'processing-pages' },
        { jobId: job.id, step: 'finalizing' },
      ]);
      assert.deepEqual(job.inputsOf('finalizeDocument'), [{ jobId: job.id }]);
      assert.ok(job.log.indexOf('finalizeDocument') > job.log.lastIndexOf('page 11 done'));
      assert.deepEqual(job.inputsOf('recordPageFailure'), []);
    });

    it('slides: a slow page holds one lane while the other lanes take every other page', async () => {
      const job = new Job({
        pages: 6,
        plan: { window: 2 },
        page: ({ pageNumber }) => sleep(pageNumber === 1 ? 3000 : 20),
      });
      await (await start(job)).result();
      const finished = job.log.filter((l) => l.endsWith(' done'));
      assert.deepEqual(finished, [
        'page 2 done',
        'page 3 done',
        'page 4 done',
        'page 5 done',
        'page 6 done',
        'page 1 done',
      ]);
      assert.equal(job.maxInFlight, 2);
    });

    it('runs the pages in the order inspect gives (the largest first), in child workflows too', async () => {
      const order = [4, 2, 5, 1, 3];
      const job = new Job({ pages: 5, plan: { window: 1 }, runOrder: order });
      await (await start(job)).result();
      assert.deepEqual(job.pagesStarted(), order);

      // A long document: each child takes its own consecutive slice, in the given order within it.
      const long = new Job({ pages: 6, plan: { window: 1, pagesPerChild: 3 }, runOrder: [6, 3, 5, 2, 4, 1] });
      await (await start(long)).result();
      assert.deepEqual(long.pagesStarted(), [3, 2, 1, 6, 5, 4]);
      assert.deepEqual(
        [...new Set(long.calls.filter((c) => c.activity === 'processPage').map((c) => c.workflowId))],
        [`${long.workflowId}-pages-1-3`, `${long.workflowId}-pages-4-6`],
      );
    });

    it('writes the job state with local activities: only inspect and the pages go through the task queue', async () => {
      const job = new Job({
        pages: 2,
        plan: { pageMaxAttempts: 1 },
        page: ({ pageNumber }) =>
          pageNumber === 2 ? Promise.reject(ApplicationFailure.nonRetryable('bad page', 'PAGE_UNREADABLE')) : sleep(20),
      });
      const handle = await start(job);
      const result = await handle.result();
      assert.equal(result.status, 'partial');
      const { events } = await handle.fetchHistory();
      const queued = (events ?? []).flatMap((e) => {
        const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
        return type ? [type] : [];
      });
      assert.deepEqual(queued.sort(), ['buildSearchablePdf', 'inspectDocument', 'processPage', 'processPage']);
      const markers = (events ?? []).filter(
        (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
      );
      // processing, processing-pages, the failed page, finalizing, finalize, conclude its batches (none).
      assert.equal(markers.length, 6);
      assert.deepEqual(job.inputsOf('recordPageFailure'), [
        { jobId: job.id, pageNumber: 2, code: 'PAGE_UNREADABLE', message: 'bad page' },
      ]);
    });

    it('builds the searchable PDF once, after the last page and before the job is finalized', async () => {
      const job = new Job({ pages: 3 });
      const result = await (await start(job)).result();
      assert.equal(result.status, 'completed');
      assert.deepEqual(job.inputsOf('buildSearchablePdf'), [{ jobId: job.id, storageKey: job.storageKey }]);
      const built = job.log.indexOf('buildSearchablePdf');
      assert.ok(built > job.log.lastIndexOf('page 3 done') && built > job.log.lastIndexOf('page 1 done'));
      assert.ok(built < job.log.indexOf('finalizeDocument'));
    });

    it('skips the searchable PDF when no page was read, and finishes the job when its build fails', async () => {
      const none = new Job({
        pages: 2,
        plan: { pageMaxAttempts: 1 },
        page: () => Promise.reject(ApplicationFailure.nonRetryable('bad page', 'PAGE_UNREADABLE')),
      });
      assert.equal((await (await start(none)).result()).status, 'failed');
      assert.deepEqual(none.inputsOf('buildSearchablePdf'), []);

      const broken = new Job({
        pages: 2,
        build: () => Promise.reject(ApplicationFailure.nonRetryable('qpdf refused it', 'SEARCHABLE_PDF_FAILED')),
      });
      const result = await (await start(broken)).result();
      assert.equal(result.status, 'completed', 'the text stands without its PDF');
      assert.equal(broken.inputsOf('buildSearchablePdf').length, 1, 'a non-retryable failure is not retried');
      assert.deepEqual(broken.inputsOf('finalizeDocument'), [{ jobId: broken.id }]);
    });

    it('records a page that fails after its retries, runs the others and finalizes the job as partial', async () => {
      const job = new Job({
        pages: 5,
        plan: { window: 2, pageMaxAttempts: 2 },
        page: ({ pageNumber }) => {
          // Page 2 keeps failing (transient each time); page 4 is refused for good (an input failure type).
          if (pageNumber === 2) return Promise.reject(new Error('disk on fire'));
          if (pageNumber === 4)
            return Promise.reject(ApplicationFailure.retryable('Page 4 is too large.', 'PAGE_TOO_LARGE'));
          return sleep(20);
        },
      });
      const handle = await start(job);
      const result = await handle.result();

      const attempts = (n: number) =>
        job.calls
          .filter((c) => c.activity === 'processPage' && (c.input as ProcessPageInput).pageNumber === n)
          .map((c) => c.attempt);
      assert.deepEqual(attempts(2), [1, 2], 'retried up to plan.pageMaxAttempts');
      assert.deepEqual(attempts(4), [1], 'an input failure is never retried');
      for (const n of [1, 3, 5]) assert.deepEqual(attempts(n), [1]);
      const failures = job.inputsOf('recordPageFailure') as RecordPageFailureInput[];
      assert.deepEqual(failures.map((f) => [f.pageNumber, f.code]).sort(), [
        [2, 'PAGE_FAILED'],
        [4, 'PAGE_TOO_LARGE'],
      ]);
      assert.match(failures.find((f) => f.pageNumber === 2)!.message, /failed after its retries: disk on fire/);
      assert.equal(failures.find((f) => f.pageNumber === 4)!.message, 'Page 4 is too large.');
      assert.deepEqual([...job.done].sort(), [1, 3, 5]);
      assert.deepEqual(job.inputsOf('finalizeDocument'), [{ jobId: job.id }]);
      assert.deepEqual(result, { jobId: job.id, status: 'partial', pageCount: 5, pagesDone: 3, pagesFailed: 2 });
      assert.deepEqual(await progress(handle), { step: 'done', pageCount: 5, pagesDone: 3, pagesFailed: 2 });
    });

    it('records a page that outlasts its time as PAGE_TIMEOUT', async () => {
      const job = new Job({
        pages: 2,
        plan: { pageTimeoutSeconds: 1, pageMaxAttempts: 1 },
        page: ({ pageNumber }) => sleep(pageNumber === 1 ? 2500 : 20),
      });
      const result = await (await start(job)).result();
      const failures = job.inputsOf('recordPageFailure') as RecordPageFailureInput[];
      assert.deepEqual(
        failures.map((f) => [f.pageNumber, f.code]),
        [[1, 'PAGE_TIMEOUT']],
      );
      assert.match(failures[0]!.message, /did not finish in time/);
      assert.equal(result.status, 'partial');
    });

    it('runs a long document in child workflows of plan.pagesPerChild pages, named by their first and last page', async () => {
      const selected = [1, 2, 3, 5, 8, 9, 10, 12, 13, 20];
      const job = new Job({
        pages: selected,
        plan: { window: 2, pagesPerChild: 4 },
        page: ({ pageNumber }) =>
          pageNumber === 9
            ? Promise.reject(ApplicationFailure.nonRetryable('Page 9 is unreadable.', 'PAGE_UNREADABLE'))
            : sleep(20),
      });
      const handle = await start(job);
      const result = await handle.result();

      const children = [`${job.workflowId}-pages-1-5`, `${job.workflowId}-pages-8-12`, `${job.workflowId}-pages-13-20`];
      ran.push(...children);
      const ranIn = new Map<string, number[]>();
      for (const c of job.calls.filter((c) => c.activity === 'processPage')) {
        ranIn.set(c.workflowId, [...(ranIn.get(c.workflowId) ?? []), (c.input as ProcessPageInput).pageNumber]);
      }
      assert.deepEqual(Object.fromEntries(ranIn), {
        [children[0]!]: [1, 2, 3, 5],
        [children[1]!]: [8, 9, 10, 12],
        [children[2]!]: [13, 20],
      });
      for (const id of children) {
        const child = await env.client.workflow.getHandle(id).describe();
        assert.equal(child.type, 'pageRangeWorkflow');
        assert.equal(child.status.name, 'COMPLETED');
        assert.equal(child.parentExecution?.workflowId, job.workflowId);
      }
      assert.ok(job.maxInFlight <= 2, `${job.maxInFlight} pages at once`);
      // The children's counts add up in the document workflow; the job's bookkeeping stays the parent's.
      assert.deepEqual(await progress(handle), { step: 'done', pageCount: 10, pagesDone: 9, pagesFailed: 1 });
      assert.deepEqual(job.inputsOf('recordPageFailure'), [
        { jobId: job.id, pageNumber: 9, code: 'PAGE_UNREADABLE', message: 'Page 9 is unreadable.' },
      ]);
      const bookkeeping = job.calls.filter((c) => !['processPage', 'recordPageFailure'].includes(c.activity));
      assert.ok(bookkeeping.every((c) => c.workflowId === job.workflowId));
      assert.deepEqual(job.inputsOf('finalizeDocument'), [{ jobId: job.id }]);
      assert.equal(result.status, 'partial');
    });

    it('runs a document of exactly plan.pagesPerChild pages in the document workflow itself', async () => {
      const job = new Job({ pages: 4, plan: { pagesPerChild: 4 } });
      await (await start(job)).result();
      const where = job.calls.filter((c) => c.activity === 'processPage').map((c) => c.workflowId);
      assert.deepEqual(where, Array(4).fill(job.workflowId));
    });
  });

  describe('cancel', () => {
    it('cancels the running pages, waits until each has stopped, then finalizes the job as cancelled', async () => {
      const job = new Job({
        pages: 6,
        plan: { window: 2, heartbeatTimeoutSeconds: 5 },
        // A page that heartbeats until it learns of the cancellation; page 2 takes a second to stop.
        page: async ({ pageNumber }) => {
          const ctx = Context.current();
          try {
            for (;;) {
              ctx.heartbeat();
              await ctx.sleep(100);
            }
          } catch (err) {
            job.log.push(`page ${pageNumber} saw the cancellation`);
            if (pageNumber === 2) await sleep(1000);
            job.log.push(`page ${pageNumber} stopped`);
            throw err;
          }
        },
      });
      const handle = await start(job);
      await until('two pages run', () => job.inFlight === 2);
      await handle.cancel();
      await assertCancelled(handle);

      assert.deepEqual(job.pagesStarted(), [1, 2], 'no page starts after the cancellation');
      // By the time the workflow has ended, both pages had stopped, and only then was the job finalized.
      const stopped = ['page 1 stopped', 'page 2 stopped'].map((l) => job.log.indexOf(l));
      assert.ok(
        stopped.every((i) => i >= 0 && i < job.log.indexOf('finalizeDocument')),
        `finalized only after every running page stopped: ${job.log.join(', ')}`,
      );
      assert.deepEqual(job.inputsOf('finalizeDocument'), [{ jobId: job.id, cancelled: true }]);
      assert.deepEqual(job.inputsOf('recordPageFailure'), [], 'a cancelled page is not a failed page');
    });
  });

  describe('password wait', () => {
    it('waits in needs_password; refuses a wrong password and keeps waiting; resumes with the right one', async () => {
      const job = new Job({ pages: 3, inspect: inspectWithPassword });
      const handle = await start(job);
      await until('the job waits for its password', () => waitingUpdate(job) !== undefined);
      const waiting = waitingUpdate(job)!;
      assert.equal(waiting.step, 'waiting-for-password');
      assert.equal(waiting.error?.code, 'PDF_PASSWORD_REQUIRED');
      assert.match(waiting.error?.message ?? '', new RegExp(`POST it .* to /v1/jobs/${job.id}/password within 60 s`));

      await assertRefused(providePassword(env.client, job.workflowId, WRONG), 'PDF_PASSWORD_INCORRECT');
      assert.deepEqual(job.inputsOf('checkDocumentPassword'), [
        { jobId: job.id, storageKey: job.storageKey, password: WRONG },
      ]);
      assert.equal((await progress(handle)).step, 'waiting-for-password', 'a wrong password leaves it waiting');
      assert.equal(job.inputsOf('inspectDocument').length, 1);

      assert.deepEqual(await providePassword(env.client, job.workflowId, RIGHT), { accepted: true });
      const result = await handle.result();
      assert.equal(result.status, 'completed');
      assert.deepEqual(job.inputsOf('inspectDocument'), [
        { jobId: job.id, storageKey: job.storageKey },
        { jobId: job.id, storageKey: job.storageKey, password: RIGHT },
      ]);
      const updates = job.inputsOf('updateJob') as UpdateJobInput[];
      assert.deepEqual(updates[2], { jobId: job.id, status: 'processing', step: 'inspecting', error: null });
      assert.ok((job.inputsOf('processPage') as ProcessPageInput[]).every((p) => p.password === RIGHT));
      assert.equal(job.log.filter((l) => l === 'checkDocumentPassword').length, 2);
    });

    it('refuses a password while the job is not waiting for one, and an empty one, without checking it', async () => {
      let releaseInspect!: () => void;
      let releasePage!: () => void;
      const inspecting = new Promise<void>((resolve) => (releaseInspect = resolve));
      const paging = new Promise<void>((resolve) => (releasePage = resolve));
      const job = new Job({ pages: 1, inspect: () => inspecting, page: () => paging });
      const handle = await start(job);

      await until('inspect runs', () => job.log.includes('inspectDocument'));
      await assertRefused(
        providePassword(env.client, job.workflowId, RIGHT),
        'NOT_WAITING_FOR_PASSWORD',
        /not waiting for a password/,
      );
      releaseInspect();
      await until('the page runs', () => job.inFlight === 1);
      await assertRefused(providePassword(env.client, job.workflowId, RIGHT), 'NOT_WAITING_FOR_PASSWORD');
      await assertRefused(providePassword(env.client, job.workflowId, ''), 'NOT_WAITING_FOR_PASSWORD');
      releasePage();
      assert.equal((await handle.result()).status, 'completed');
      assert.deepEqual(job.inputsOf('checkDocumentPassword'), [], 'the validator refused them before any check');
    });

    it('refuses an empty password while waiting', async () => {
      const job = new Job({ pages: 1, inspect: inspectWithPassword });
      const handle = await start(job);
      await until('the job waits for its password', () => waitingUpdate(job) !== undefined);
      await assertRefused(providePassword(env.client, job.workflowId, ''), 'Error', /password is required/);
      assert.deepEqual(job.inputsOf('checkDocumentPassword'), []);
      await providePassword(env.client, job.workflowId, RIGHT);
      assert.equal((await handle.result()).status, 'completed');
    });

    it('fails the job with PASSWORD_DEADLINE_EXCEEDED when no password comes in time', async () => {
      const job = new Job({ pages: 2, inspect: inspectWithPassword });
      const started = Date.now();
      const result = await (await start(job, { passwordWaitSeconds: 2 })).result();
      assert.ok(Date.now() - started >= 2000, 'it waited the deadline out');
      assert.deepEqual(result, { jobId: job.id, status: 'failed', pageCount: 0, pagesDone: 0, pagesFailed: 0 });
      const updates = job.inputsOf('updateJob') as UpdateJobInput[];
      assert.deepEqual(
        updates.map((u) => [u.status, u.step, u.error?.code]),
        [
          ['processing', 'inspecting', undefined],
          ['needs_password', 'waiting-for-password', 'PDF_PASSWORD_REQUIRED'],
          ['failed', 'done', 'PASSWORD_DEADLINE_EXCEEDED'],
        ],
      );
      assert.match(updates[1]!.error!.message, /within 2 s/);
      assert.match(updates[2]!.error!.message, /within 2 s; submit the document again with its password/);
      assert.deepEqual(job.inputsOf('processPage'), []);
      assert.deepEqual(job.inputsOf('finalizeDocument'), []);
    });

    it('waits with PDF_PASSWORD_INCORRECT for a wrong password sent with the upload, and can be cancelled while waiting', async () => {
      const job = new Job({ pages: 2, inspect: inspectWithPassword });
      const handle = await start(job, { password: WRONG });
      await until('the job waits for its password', () => waitingUpdate(job) !== undefined);
      assert.equal(waitingUpdate(job)!.error?.code, 'PDF_PASSWORD_INCORRECT');
      assert.deepEqual(job.inputsOf('inspectDocument'), [
        { jobId: job.id, storageKey: job.storageKey, password: WRONG },
      ]);
      await handle.cancel();
      await assertCancelled(handle);
      assert.deepEqual(job.inputsOf('finalizeDocument'), [{ jobId: job.id, cancelled: true }]);
      assert.deepEqual(job.inputsOf('processPage'), []);
    });
  });

  describe('input failures', () => {
    const inputCodes = INPUT_FAILURE_CODES.filter((c) => !isPasswordFailure(c));

    it(`ends inspect at its first failure of an input type (${inputCodes.length} types), and fails the job with it`, async () => {
      assert.ok(inputCodes.includes('PDF_CORRUPT') && inputCodes.includes('TOO_MANY_PAGES'));
      const runs = inputCodes.map(async (code) => {
        // Raised as retryable: only the workflow's nonRetryableErrorTypes (core/failures.ts) stop the retry.
        const job = new Job({ inspect: () => Promise.reject(ApplicationFailure.retryable(`Bad: ${code}.`, code)) });
        const result = await (await start(job)).result();
        assert.deepEqual(result, { jobId: job.id, status: 'failed', pageCount: 0, pagesDone: 0, pagesFailed: 0 });
        assert.equal(job.inputsOf('inspectDocument').length, 1, `${code} was retried`);
        assert.deepEqual((job.inputsOf('updateJob') as UpdateJobInput[]).at(-1), {
          jobId: job.id,
          status: 'failed',
          step: 'done',
          error: { code, message: `Bad: ${code}.` },
        });
        assert.deepEqual(job.inputsOf('processPage'), []);
        assert.deepEqual(job.inputsOf('finalizeDocument'), []);
      });
      await Promise.all(runs);
    });

    it('retries an inspect that fails for another reason', async () => {
      const job = new Job({
        pages: 1,
        inspect: (_input, attempt) => (attempt === 1 ? Promise.reject(new Error('storage hiccup')) : Promise.resolve()),
      });
      const result = await (await start(job)).result();
      assert.equal(result.status, 'completed');
      assert.deepEqual(
        job.calls.filter((c) => c.activity === 'inspectDocument').map((c) => c.attempt),
        [1, 2],
      );
    });
  });

  describe('retryPagesWorkflow', () => {
    async function startRetry(job: Job, n: number, pageNumbers: number[]) {
      jobs.set(job.id, job);
      const { workflowId, outcome } = await startRetryWorkflow(
        env.client,
        { job: jobToStart(job, RIGHT), n, pageNumbers, ocrMode: 'force', plan: job.plan },
        { taskQueue },
      );
      assert.equal(outcome, 'started');
      ran.push(workflowId);
      return env.client.workflow.getHandle<typeof retryPagesWorkflow>(workflowId);
    }

    it('runs only the pages it is given, with the retry options, and finalizes the job from all its pages', async () => {
      const job = new Job({ plan: { window: 2 } });
      const handle = await startRetry(job, 1, [2, 5, 7]);
      assert.equal(handle.workflowId, `${job.workflowId}-retry-1`);
      const result = await handle.result();
      assert.deepEqual(job.pagesStarted(), [2, 5, 7]);
      assert.deepEqual(job.inputsOf('processPage')[0], {
        jobId: job.id,
        pageNumber: 2,
        storageKey: job.storageKey,
        options: { ocrMode: 'force', languages: ['eng'] },
        password: RIGHT,
      });
      assert.deepEqual(job.inputsOf('inspectDocument'), [], 'a retry does not inspect again');
      assert.deepEqual(job.inputsOf('updateJob'), [{ jobId: job.id, step: 'finalizing' }]);
      assert.deepEqual(job.inputsOf('finalizeDocument'), [{ jobId: job.id }]);
      assert.deepEqual(result, { jobId: job.id, pageCount: 3, status: 'completed', pagesDone: 3, pagesFailed: 0 });
    });

    it('runs a long retry in child workflows, records pages that fail again, and can be cancelled', async () => {
      const job = new Job({
        plan: { window: 1, pagesPerChild: 2, pageMaxAttempts: 1 },
        page: ({ pageNumber }) =>
          pageNumber === 3
            ? Promise.reject(ApplicationFailure.nonRetryable('Still unreadable.', 'PAGE_UNREADABLE'))
            : sleep(20),
      });
      const handle = await startRetry(job, 2, [1, 3, 4]);
      const result = await handle.result();
      const children = [`${handle.workflowId}-pages-1-3`, `${handle.workflowId}-pages-4-4`];
      ran.push(...children);
      assert.deepEqual(
        [...new Set(job.calls.filter((c) => c.activity === 'processPage').map((c) => c.workflowId))],
        children,
      );
      assert.deepEqual(job.inputsOf('recordPageFailure'), [
        { jobId: job.id, pageNumber: 3, code: 'PAGE_UNREADABLE', message: 'Still unreadable.' },
      ]);
      assert.deepEqual(result, { jobId: job.id, pageCount: 3, status: 'partial', pagesDone: 2, pagesFailed: 1 });

      const stuck = new Job({
        plan: { window: 1, heartbeatTimeoutSeconds: 5 },
        page: async () => {
          const ctx = Context.current();
          for (;;) {
            ctx.heartbeat();
            await ctx.sleep(100);
          }
        },
      });
      const cancelled = await startRetry(stuck, 1, [1, 2]);
      await until('the retried page runs', () => stuck.inFlight === 1);
      await cancelled.cancel();
      await assertCancelled(cancelled);
      assert.deepEqual(stuck.pagesStarted(), [1]);
      assert.deepEqual(stuck.inputsOf('finalizeDocument'), [{ jobId: stuck.id, cancelled: true }]);
    });
  });

  describe('replay', () => {
    it('replays the history of every run above, children included, with the current workflow code', async () => {
      assert.ok(ran.length >= 30, `${ran.length} workflows ran`);
      const replayed: string[] = [];
      for await (const result of Worker.runReplayHistories({ workflowBundle }, historiesOf(env.client, ran))) {
        assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
        replayed.push(result.workflowId);
      }
      assert.deepEqual(replayed, ran);
    });

    it('finds the password update in the history of a job that waited for its password', async () => {
      const job = new Job({ pages: 1, inspect: inspectWithPassword });
      const handle = await start(job);
      await until('the job waits for its password', () => waitingUpdate(job) !== undefined);
      await providePassword(env.client, job.workflowId, RIGHT);
      await handle.result();
      const history = await handle.fetchHistory();
      assert.ok(
        history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes),
        'the history holds the password update',
      );
      await Worker.runReplayHistory({ workflowBundle }, history, job.workflowId);
    });
  });
});
