/**
 * A pool of engine workers (tesseract.js threads): started on demand, reused across pages, replaced after a
 * number of jobs or when a job is aborted mid-run. Generic over the worker, so tests drive it with stand-ins.
 */

interface Waiter<W> {
  /** What the job costs (for OCR, the image's size): the largest waiting job is served first. */
  weight: number;
  /** How often a larger job went ahead of this one; at MAX_PASSES it goes next, whatever its weight. */
  passed: number;
  grant(worker: W): void;
  fail(reason: unknown): void;
}

/**
 * How often a waiting job can be overtaken by larger ones. Largest-first keeps the threads busy at the end
 * of a batch (a large page started last would run alone while the others idle), and this bound keeps a
 * small page behind a stream of large ones from waiting until its activity times out.
 */
export const MAX_PASSES = 2;

/**
 * Up to `size` workers for one language set, started on demand and reused. A job aborted while queued is
 * dropped; a worker whose job is aborted mid-recognition cannot be interrupted, so it is terminated and
 * a replacement is started when next needed. A worker that has run `maxJobs` jobs is retired the same way.
 */
export class WorkerPool<W extends { terminate(): Promise<unknown> }> {
  private readonly idle: W[] = [];
  private readonly busy = new Set<W>();
  private readonly jobs = new Map<W, number>();
  private readonly waiters: Waiter<W>[] = [];
  private readonly calls = new Set<AbortController>();
  private readonly starts = new Set<Promise<void>>();
  private readonly stops = new Set<Promise<unknown>>();
  private live = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly start: () => Promise<W>,
    private readonly maxJobs = Infinity,
  ) {}

  /**
   * Runs `job` on a worker once one is free. Waiting jobs are served largest `weight` first (ties in
   * arrival order), none overtaken more than MAX_PASSES times.
   */
  async run<T>(signal: AbortSignal | undefined, job: (worker: W) => Promise<T>, weight = 0): Promise<T> {
    if (this.closed) throw new Error('TesseractEngine is closed');
    // One controller per call, aborted by the caller or by close(): AbortSignal.any would keep every
    // call's signal alive as a dependant of a pool-wide one (a known leak in Node).
    const call = new AbortController();
    const forward = (): void => call.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    this.calls.add(call);
    try {
      return await this.runUntil(call.signal, job, weight);
    } finally {
      signal?.removeEventListener('abort', forward);
      this.calls.delete(call);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const reason = new Error('TesseractEngine is closed');
    for (const waiter of this.waiters.splice(0)) waiter.fail(reason);
    const workers = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    this.jobs.clear();
    for (const call of this.calls) call.abort(reason);
    await Promise.all([...workers.map((worker) => worker.terminate()), ...this.starts, ...this.stops]);
  }

  private async runUntil<T>(stop: AbortSignal, job: (worker: W) => Promise<T>, weight: number): Promise<T> {
    const worker = await this.acquire(stop, weight);
    this.busy.add(worker);
    if (stop.aborted) {
      this.release(worker);
      throw stop.reason;
    }
    try {
      const result = await untilAborted(job(worker), stop);
      this.release(worker);
      return result;
    } catch (error) {
      // An aborted job may still be running inside the worker, and nothing can interrupt it there.
      if (stop.aborted) {
        await this.discard(worker);
      } else {
        this.release(worker);
      }
      throw error;
    }
  }

  private acquire(stop: AbortSignal, weight: number): Promise<W> {
    stop.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(stop.reason);
      };
      const waiter: Waiter<W> = {
        weight,
        passed: 0,
        grant: (worker) => {
          stop.removeEventListener('abort', onAbort);
          resolve(worker);
        },
        fail: (reason) => {
          stop.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      stop.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private release(worker: W): void {
    if (!this.busy.has(worker)) return; // close() has already taken it
    const jobs = (this.jobs.get(worker) ?? 0) + 1;
    if (jobs >= this.maxJobs) {
      this.retire(worker);
      return;
    }
    this.busy.delete(worker);
    this.jobs.set(worker, jobs);
    this.idle.push(worker);
    this.pump();
  }

  /**
   * Terminates a worker that has done its share. Its replacement starts only once it is gone, so the old
   * and the new never hold memory together; close() waits for it, the caller's result does not.
   */
  private retire(worker: W): void {
    this.busy.delete(worker);
    this.jobs.delete(worker);
    const stopped: Promise<unknown> = worker
      .terminate()
      .catch(() => undefined)
      .finally(() => {
        this.stops.delete(stopped);
        this.live -= 1;
        this.pump();
      });
    this.stops.add(stopped);
  }

  private async discard(worker: W): Promise<void> {
    if (!this.busy.delete(worker)) return; // close() has already taken it
    this.jobs.delete(worker);
    this.live -= 1;
    this.pump();
    await worker.terminate();
  }

  /** Hands idle workers to waiters (see next()), starting workers while under size and someone waits. */
  private pump(): void {
    for (;;) {
      if (this.waiters.length === 0 || this.closed) return;
      const worker = this.idle.pop();
      if (worker) {
        this.next().grant(worker);
      } else if (this.live < this.size && this.starts.size < this.waiters.length) {
        this.live += 1;
        const started = this.startOne().finally(() => {
          this.starts.delete(started);
          this.pump();
        });
        this.starts.add(started);
      } else {
        return;
      }
    }
  }

  /**
   * Takes the waiter to serve next: the first that has been passed over MAX_PASSES times, else the
   * heaviest (the earliest among equals). Every earlier waiter it overtakes counts one more pass.
   */
  private next(): Waiter<W> {
    let chosen = 0;
    for (let i = 0; i < this.waiters.length; i++) {
      const waiter = this.waiters[i]!;
      if (waiter.passed >= MAX_PASSES) {
        chosen = i;
        break;
      }
      if (waiter.weight > this.waiters[chosen]!.weight) chosen = i;
    }
    for (let i = 0; i < chosen; i++) this.waiters[i]!.passed += 1;
    return this.waiters.splice(chosen, 1)[0]!;
  }

  private async startOne(): Promise<void> {
    try {
      const worker = await this.start();
      if (this.closed) {
        await worker.terminate();
      } else {
        this.idle.push(worker);
      }
    } catch (error) {
      this.live -= 1;
      this.waiters.shift()?.fail(error);
    }
  }
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
