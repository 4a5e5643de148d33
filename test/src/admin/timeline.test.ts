/**
 * The panel's timeline (src/admin/timeline.ts) read from the recorded histories of real runs
 * (test/fixtures/histories/): a page retried after a transient error, a page failed for good, a page whose
 * transient errors outlasted its attempts, and a child workflow (a webhook delivery).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { activitiesOf } from '../../../src/admin/timeline.js';
import { repoRoot } from '../../support/stack.js';

function timelineOf(file: string) {
  const json = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/histories', file), 'utf8')) as unknown;
  return activitiesOf('wf', historyFromJSON(json).events ?? []);
}
const page = (rows: ReturnType<typeof timelineOf>['rows'], n: number) =>
  rows.find((r) => r.activity === 'processPage' && r.page === n);

describe('job timeline from workflow histories', () => {
  it('shows a retried page with its attempts and the failure that caused the retry', () => {
    const { rows, children } = timelineOf('document-1.json');
    assert.deepEqual(children, []);
    const retried = page(rows, 2);
    assert.equal(retried?.attempts, 2);
    assert.equal(retried?.outcome, 'completed');
    assert.equal(retried?.retriedAfter, 'simulated transient read error');
    assert.equal(retried?.failure, null);
    // The retry's backoff (2 s) is inside the page's duration, from scheduling to its end.
    assert.ok((retried?.durationMs ?? 0) >= 2000, `duration ${retried?.durationMs}`);
    for (const n of [1, 3]) assert.deepEqual([page(rows, n)?.attempts, page(rows, n)?.outcome], [1, 'completed']);
    assert.ok(rows.some((r) => r.activity === 'inspectDocument' && r.page === null));
  });

  it('shows a page failed for good with its message, and one whose errors outlasted its attempts', () => {
    const failed = page(timelineOf('document-2.json').rows, 3);
    assert.deepEqual([failed?.attempts, failed?.outcome, failed?.retriedAfter], [1, 'failed', null]);
    assert.match(failed?.failure ?? '', /Page 3 cannot be parsed/);
    const exhausted = page(timelineOf('document-3.json').rows, 1);
    assert.deepEqual([exhausted?.attempts, exhausted?.outcome], [2, 'failed']);
    assert.match(exhausted?.failure ?? '', /disk on fire/);
    assert.equal(exhausted?.retriedAfter, 'disk on fire');
  });

  it('names the child workflows a run started, so their histories are read too', () => {
    const { children } = timelineOf('document-webhooks-completed.json');
    assert.equal(children.length, 1);
    assert.match(children[0]!, /^webhook-msg_/);
  });
});
