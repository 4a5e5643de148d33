import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy, type RestartDecision } from '../../../scripts/lib/supervisor.js';

/** The decisions for crashes at these seconds. */
function decide(policy: RestartPolicy, seconds: number[]): string[] {
  const show = (d: RestartDecision) => (d.action === 'restart' ? `restart in ${d.delayMs} ms` : 'give up');
  return seconds.map((s) => show(policy.onCrash(1_000_000 + s * 1000)));
}

describe("npm start's restart policy", () => {
  it('backs off 1, 2, 4 and 8 s and gives up at the fifth crash within a minute', () => {
    // A worker that dies ~2 s after each start.
    assert.deepEqual(decide(new RestartPolicy(), [0, 3, 7, 13, 23]), [
      'restart in 1000 ms',
      'restart in 2000 ms',
      'restart in 4000 ms',
      'restart in 8000 ms',
      'give up',
    ]);
  });

  it('counts only the crashes within the window: one now and then is always restarted, after the first delay', () => {
    assert.deepEqual(decide(new RestartPolicy(), [0, 61, 122, 183, 244, 305]), Array(6).fill('restart in 1000 ms'));
    // The crash at 0 s has left the window by the third (the second within the last minute) but not the 10 s one.
    assert.deepEqual(decide(new RestartPolicy(), [0, 10, 65, 68]), [
      'restart in 1000 ms',
      'restart in 2000 ms',
      'restart in 2000 ms',
      'restart in 4000 ms',
    ]);
  });

  it('caps the delay', () => {
    const policy = new RestartPolicy({ maxCrashes: 10, windowMs: 600_000, firstDelayMs: 1000, maxDelayMs: 5000 });
    assert.deepEqual(decide(policy, [0, 10, 20, 30, 40]), [
      'restart in 1000 ms',
      'restart in 2000 ms',
      'restart in 4000 ms',
      'restart in 5000 ms',
      'restart in 5000 ms',
    ]);
  });
});
