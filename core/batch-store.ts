/**
 * Batches, the parts the API and the worker share: a batch's counts and status derived from its documents'
 * jobs, and the one decision that a batch has ended — a conditional UPDATE that only one caller can win, so
 * batch.completed is announced exactly once per run of the batch, by whoever saw its last document end.
 */
import { QueryTypes, type Transaction } from 'sequelize';
import type { BatchDocumentCounts, BatchWebhookPayload, ConcludedBatch } from './contracts.js';
import type { AppModels, Batch } from './db/models.js';
import { ACTIVE_STATUSES } from './lifecycle.js';

/** A batch's status: in_progress while a document is in flight, then how its documents ended. */
export const BATCH_STATUSES = ['in_progress', 'completed', 'partial', 'failed', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** A batch's figures: documents by state, refused file parts, and pages. */
export interface BatchSummary {
  documents: BatchDocumentCounts;
  rejected: number;
  pages: { total: number; done: number; failed: number };
}

/**
 * What a batch's documents add up to: in progress while one is in flight (or the batch is not sealed yet);
 * then cancelled if the batch was cancelled, completed when every document completed, failed when none
 * gave text (failed or cancelled), partial otherwise. Refused file parts never became documents: they are
 * counted apart and do not change the status.
 */
export function batchStatusOf(
  documents: BatchDocumentCounts,
  batch: { sealed: boolean; cancelled: boolean },
): BatchStatus {
  if (documents.inFlight > 0 || !batch.sealed) return 'in_progress';
  if (batch.cancelled) return 'cancelled';
  if (documents.total > 0 && documents.completed === documents.total) return 'completed';
  if (documents.completed + documents.partial === 0) return 'failed';
  return 'partial';
}

const ACTIVE = ACTIVE_STATUSES.map((s) => `'${s}'`).join(',');

/** Reads and ends batches. */
export class BatchStore {
  constructor(private readonly models: Pick<AppModels, 'Batch' | 'BatchDocument' | 'Job'>) {}

  private get db() {
    return this.models.Batch.sequelize!;
  }

  /** The batch's documents by state and its pages, in two aggregate queries (no row per document read). */
  async summary(batchId: string, transaction?: Transaction): Promise<BatchSummary> {
    const byStatus = await this.db.query<{ status: string | null; n: number; pages: number }>(
      `SELECT j.status, count(*)::int AS n, coalesce(sum(j.pages_selected), 0)::int AS pages
         FROM batch_documents d LEFT JOIN jobs j ON j.id = d.job_id
        WHERE d.batch_id = :batchId
        GROUP BY j.status`,
      { replacements: { batchId }, type: QueryTypes.SELECT, transaction },
    );
    const pageRows = await this.db.query<{ status: string; n: number }>(
      `SELECT p.status, count(*)::int AS n
         FROM batch_documents d JOIN job_pages p ON p.job_id = d.job_id
        WHERE d.batch_id = :batchId AND p.status IN ('done', 'failed')
        GROUP BY p.status`,
      { replacements: { batchId }, type: QueryTypes.SELECT, transaction },
    );
    const n = (s: string) => byStatus.find((r) => r.status === s)?.n ?? 0;
    const accepted = byStatus.filter((r) => r.status !== null);
    return {
      documents: {
        total: accepted.reduce((sum, r) => sum + r.n, 0),
        completed: n('completed'),
        partial: n('partial'),
        failed: n('failed'),
        cancelled: n('cancelled'),
        inFlight: ACTIVE_STATUSES.reduce((sum, s) => sum + n(s), 0),
      },
      rejected: byStatus.find((r) => r.status === null)?.n ?? 0,
      pages: {
        total: accepted.reduce((sum, r) => sum + r.pages, 0),
        done: pageRows.find((r) => r.status === 'done')?.n ?? 0,
        failed: pageRows.find((r) => r.status === 'failed')?.n ?? 0,
      },
    };
  }

  /**
   * Ends the sealed, unended batches holding `jobId` in which no document is in flight any more, and returns
   * each with its batch.completed payload. The UPDATE's condition (ended_at IS NULL) makes one caller win
   * when two documents end at once: PostgreSQL re-checks it on the locked row, so the loser updates nothing.
   * Each document calls this after its own final status is committed, so the last one to end always sees
   * every other document ended. `endedBy` names the caller (a workflow run): called again by the same one
   * (a retried activity whose answer was lost), it returns the batches it ended before, and no others.
   */
  async concludeFor(jobId: string, endedBy: string): Promise<ConcludedBatch[]> {
    await this.db.query(
      `UPDATE batches b SET ended_at = now(), ended_by = :endedBy, updated_at = now()
        WHERE b.ended_at IS NULL AND b.sealed_at IS NOT NULL
          AND b.id IN (SELECT batch_id FROM batch_documents WHERE job_id = :jobId)
          AND NOT EXISTS (SELECT 1 FROM batch_documents d JOIN jobs j ON j.id = d.job_id
                           WHERE d.batch_id = b.id AND j.status IN (${ACTIVE}))`,
      { replacements: { jobId, endedBy }, type: QueryTypes.UPDATE },
    );
    const ended = await this.models.Batch.findAll({ where: { endedBy }, attributes: ['id', 'webhook', 'cancelledAt'] });
    return Promise.all(ended.map((b) => this.concluded(b)));
  }

  /**
   * Seals a batch (every document recorded) and ends it at once if none of its documents is in flight any
   * more (each may have ended before the seal, when nobody could end the batch). Returns the ended batch for
   * the caller to announce, or null.
   */
  async sealAndConclude(batchId: string, endedBy: string): Promise<ConcludedBatch | null> {
    await this.models.Batch.update({ sealedAt: new Date() }, { where: { id: batchId } });
    await this.db.query(
      `UPDATE batches b SET ended_at = now(), ended_by = :endedBy, updated_at = now()
        WHERE b.id = :batchId AND b.ended_at IS NULL AND b.sealed_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM batch_documents d JOIN jobs j ON j.id = d.job_id
                           WHERE d.batch_id = b.id AND j.status IN (${ACTIVE}))`,
      { replacements: { batchId, endedBy }, type: QueryTypes.UPDATE },
    );
    const ended = await this.models.Batch.findOne({
      where: { id: batchId, endedBy },
      attributes: ['id', 'webhook', 'cancelledAt'],
    });
    return ended ? this.concluded(ended) : null;
  }

  /** Reopens an ended batch (unsealed, not ended) before a retry-failed: nothing ends it until it is sealed again. */
  async reopen(batchId: string): Promise<void> {
    await this.models.Batch.update({ sealedAt: null, endedAt: null, endedBy: null }, { where: { id: batchId } });
  }

  private async concluded(row: Pick<Batch, 'id' | 'webhook' | 'cancelledAt'>): Promise<ConcludedBatch> {
    const summary = await this.summary(row.id);
    const base = (row.webhook?.baseUrl ?? '').replace(/\/+$/, '');
    const self = `${base}/v1/batches/${row.id}`;
    const payload: BatchWebhookPayload = {
      type: 'batch.completed',
      timestamp: new Date().toISOString(),
      data: {
        batchId: row.id,
        status: batchStatusOf(summary.documents, { sealed: true, cancelled: row.cancelledAt !== null }),
        documents: summary.documents,
        rejected: summary.rejected,
        pages: summary.pages,
        links: { self, results: `${self}/results?format=txt` },
      },
    };
    return { batchId: row.id, webhook: row.webhook, payload };
  }
}
