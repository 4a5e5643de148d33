/**
 * The recorded histories in test/fixtures/histories/ (real runs: a retried page, a page failed for good, a
 * page failed after its retries, a job that waited for its password, jobs that sent webhooks) replay against the current workflow
 * code: a change that would break the workflows running in production breaks this test. Refresh them with
 * `FOLIO_RECORD_HISTORIES=1 npm test -- pipeline passwords` (see test/fixtures/README.md). The histories
 * of the scenarios in document.test.ts are replayed there.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type History } from '@temporalio/worker';
import { repoRoot } from '../support/stack.js';
import { quietTemporalLogs, workflowBundle } from '../support/temporal.js';

const fixturesDir = path.join(repoRoot, 'test/fixtures/histories');

function load(file: string): History {
  return JSON.parse(fs.readFileSync(path.join(fixturesDir, file), 'utf8')) as History;
}

describe('replay of the recorded histories', () => {
  quietTemporalLogs();
  const files = fs.readdirSync(fixturesDir).filter((f) => f.endsWith('.json'));

  it('has the recorded histories', () => {
    assert.deepEqual(files.sort(), [
      'document-1.json',
      'document-2.json',
      'document-3.json',
      'document-batch-completed.json',
      'document-legacy-mirror.json',
      'document-needs-password.json',
      'document-priority-changed.json',
      'document-priority.json',
      'document-webhooks-cancelled.json',
      'document-webhooks-completed.json',
    ]);
    // The webhooks patch: each event a child workflow the document workflow abandons when it closes.
    for (const [file, events] of [
      ['document-webhooks-completed.json', ['job.completed']],
      ['document-webhooks-cancelled.json', ['job.needs_password', 'job.cancelled']],
      // The batches patch: the batch's last document ends it and starts batch.completed after job.completed.
      ['document-batch-completed.json', ['job.completed', 'batch.completed']],
    ] as const) {
      const starts = (load(file).events ?? []).flatMap((e) => {
        const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
        return a ? [a] : [];
      });
      assert.deepEqual(
        starts.map((a) => a.workflowType?.name),
        events.map(() => 'webhookDeliveryWorkflow'),
        file,
      );
      assert.ok(
        starts.every((a) => String(a.parentClosePolicy).includes('ABANDON')),
        `${file}: deliveries outlive the document workflow`,
      );
    }
    // The priority patch: its marker, the search attributes kept current, and a priority changed mid-run.
    const patchIds = (events: NonNullable<History['events']>) =>
      events.flatMap((e) => {
        const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data as unknown;
        return typeof data === 'string'
          ? [(JSON.parse(Buffer.from(data, 'base64').toString()) as { id: string }).id]
          : [];
      });
    const upserted = (e: NonNullable<History['events']>[number]) =>
      Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
    for (const file of ['document-priority.json', 'document-priority-changed.json']) {
      const events = load(file).events ?? [];
      assert.ok(patchIds(events).includes('priority'), `${file}: the priority patch marker`);
      assert.ok(
        events.some((e) => upserted(e).includes('FolioStatus')),
        `${file}: FolioStatus kept current`,
      );
    }
    const changed = load('document-priority-changed.json').events ?? [];
    const signalled = changed.findIndex(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'setPriority',
    );
    assert.ok(signalled > 0, 'the history holds the setPriority signal');
    assert.ok(
      changed.slice(signalled).some((e) => upserted(e).includes('FolioPriority')),
      'and the FolioPriority upsert that answered it',
    );
    // The legacy-mirror patch: its marker, one abandoned mirror child, signalled a tenth at a time.
    const mirrored = load('document-legacy-mirror.json').events ?? [];
    assert.ok(patchIds(mirrored).includes('legacy-mirror'), 'the legacy-mirror patch marker');
    const mirrorStarts = mirrored.flatMap((e) => {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
      return a?.workflowType?.name === 'legacyMirrorWorkflow' ? [a] : [];
    });
    assert.equal(mirrorStarts.length, 1, 'one mirror child');
    assert.ok(String(mirrorStarts[0]?.parentClosePolicy).includes('ABANDON'), 'the mirror outlives the document');
    const mirrorSignals = mirrored.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes).length;
    assert.ok(mirrorSignals >= 3 && mirrorSignals <= 15, `${mirrorSignals} signals for 40 pages`);
    const waited = load('document-needs-password.json');
    assert.ok(
      waited.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes),
      'the history holds the password update',
    );
  });

  it('replays the committed histories (a retried page, a failed page, a password wait) with the current workflow code', async () => {
    assert.ok(files.length >= 2, 'fixtures are committed');
    const histories = files.map((file) => ({ workflowId: file, history: load(file) }));
    const replayed: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
      replayed.push(result.workflowId);
    }
    assert.deepEqual(replayed, files);
  });

  it('fails the replay of a history whose commands the code would not give', async () => {
    // The first activity the workflow scheduled, renamed: the code schedules updateJob there.
    const history = load('document-1.json');
    const first = history.events?.find((e) => e.activityTaskScheduledEventAttributes);
    const activityType = first?.activityTaskScheduledEventAttributes?.activityType;
    assert.ok(activityType);
    assert.equal(activityType.name, 'updateJob');
    activityType.name = 'somethingElse';
    await assert.rejects(Worker.runReplayHistory({ workflowBundle }, history, 'altered'), DeterminismViolationError);
  });
});
