import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PASSES, WorkerPool } from '../../../activities/adapters/worker-pool.js';

/** Stands in for a tesseract.js worker: counts its jobs and whether it was terminated. */
class FakeWorker {
  jobs = 0;
  terminated = false;
  constructor(readonly id: number) {}
  async terminate(): Promise<void> {
    // A thread takes a moment to exit; it counts as alive until then.
    await new Promise((resolve) => setTimeout(resolve, 2));
    this.terminated = true;
  }
}

function fakes() {
  const started: FakeWorker[] = [];
  const start = (): Promise<FakeWorker> => {
    const worker = new FakeWorker(started.length + 1);
    started.push(worker);
    return Promise.resolve(worker);
  };
  const live = () => started.filter((w) => !w.terminated).length;
  return { started, start, live };
}

const job = (worker: FakeWorker) => {
  assert.equal(worker.terminated, false, `job given terminated worker ${worker.id}`);
  worker.jobs += 1;
  return new Promise<number>((resolve) => setTimeout(() => resolve(worker.id), 1));
};

/** Runs jobs of the given weights on a one-worker pool while its worker is held, and says in what order they ran. */
async function orderOf(weights: number[]): Promise<number[]> {
  const { start } = fakes();
  const pool = new WorkerPool(1, start);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The first job takes the worker; the rest queue behind it.
  const first = pool.run(undefined, () => held);
  await new Promise((resolve) => setImmediate(resolve));
  const order: number[] = [];
  const runs = weights.map((weight, i) => pool.run(undefined, () => Promise.resolve(void order.push(i)), weight));
  release();
  await Promise.all([first, ...runs]);
  await pool.close();
  return order;
}

describe('WorkerPool', () => {
  it('serves the largest waiting job first, equal ones in arrival order', async () => {
    assert.deepEqual(await orderOf([3, 5, 1, 5]), [1, 3, 0, 2]);
    assert.deepEqual(await orderOf([0, 0, 0]), [0, 1, 2]);
  });

  it(`lets a waiting job be overtaken at most ${MAX_PASSES} times`, async () => {
    // Job 0 (small) waits while larger ones keep arriving; after MAX_PASSES overtakes it goes next.
    const { start } = fakes();
    const pool = new WorkerPool(1, start);
    const order: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const runs = [pool.run(undefined, () => held)];
    await new Promise((resolve) => setImmediate(resolve));
    runs.push(pool.run(undefined, () => Promise.resolve(void order.push('small')), 1));
    // Each large job, when it runs, queues another large one: a stream of larger work.
    let large = 0;
    const queueLarge = (): void => {
      const n = large++;
      runs.push(
        pool.run(
          undefined,
          () => {
            order.push(`large${n}`);
            if (large < 6) queueLarge();
            return Promise.resolve();
          },
          100,
        ),
      );
    };
    queueLarge();
    release();
    while (order.length < 7) await new Promise((resolve) => setTimeout(resolve, 1));
    await Promise.all(runs);
    await pool.close();
    assert.deepEqual(order.slice(0, MAX_PASSES + 1), [
      ...Array.from({ length: MAX_PASSES }, (_, i) => `large${i}`),
      'small',
    ]);
  });

  it('replaces a worker once it has run maxJobs jobs, never holding more than its size', async () => {
    const { started, start, live } = fakes();
    const pool = new WorkerPool(2, start, 3);
    let most = 0;
    const runs = Array.from({ length: 12 }, () =>
      pool.run(undefined, async (worker) => {
        most = Math.max(most, live());
        return job(worker);
      }),
    );
    await Promise.all(runs);
    await pool.close();
    assert.ok(most <= 2, `at most 2 workers alive at once, saw ${most}`);
    assert.equal(started.length, 4, '12 jobs of at most 3 per worker need 4 workers');
    for (const worker of started) assert.equal(worker.jobs, 3, `worker ${worker.id} ran ${worker.jobs} jobs`);
    assert.ok(started.every((w) => w.terminated));
  });

  it('keeps its workers without a bound', async () => {
    const { started, start } = fakes();
    const pool = new WorkerPool(1, start);
    for (let i = 0; i < 5; i++) await pool.run(undefined, job);
    assert.equal(started.length, 1);
    assert.equal(started[0]!.terminated, false);
    await pool.close();
    assert.equal(started[0]!.terminated, true);
  });

  it('waits on close for a retired worker to finish terminating', async () => {
    let finish: () => void = () => undefined;
    let finished = false;
    const slow = {
      terminate: () =>
        new Promise<void>((resolve) => {
          finish = () => {
            finished = true;
            resolve();
          };
        }),
    };
    const pool = new WorkerPool(1, () => Promise.resolve(slow), 1);
    await pool.run(undefined, () => Promise.resolve());
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(closed, false, 'close() returned before the retired worker terminated');
    finish();
    await closing;
    assert.equal(finished, true);
  });
});
