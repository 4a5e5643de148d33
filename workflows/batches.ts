/** Batches in the document workflow: the end of a batch's last document ends the batch, announced once. */
import { patched } from '@temporalio/workflow';
import type { Bookkeeping } from './activity-options.js';
import { announceBatch } from './webhooks.js';

/** The patch that made a document's end conclude its batches: histories from before it replay without it. */
export const BATCHES_PATCH = 'batches';

/**
 * Called once the job's final status is recorded: ends each batch of which this was the last document in
 * flight (the activity's conditional update lets exactly one document win) and starts its batch.completed
 * delivery. A document in no batch costs one local activity that finds nothing.
 */
export async function concludeBatches(jobId: string, bookkeeping: Bookkeeping): Promise<void> {
  if (!patched(BATCHES_PATCH)) return;
  const { ended } = await bookkeeping.concludeBatches({ jobId });
  for (const batch of ended) await announceBatch(jobId, batch);
}
