import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerPool } from '../../../activities/adapters/worker-pool.js';

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

describe('WorkerPool', () => {
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
