/**
 * The legacy mirror's activities (LEGACY_MIRROR): keep the previous service's legacy_jobs rows of Folio's
 * jobs true. Each write reads the job's state from the app DB at that moment and upserts its row
 * (core/legacy/mirror.ts), so a retry, a repeat or a late attempt writes the truth or nothing — never an
 * older state. The connection is guarded like the API's (no delete, no schema change), and the role it logs
 * in as should have no DELETE either (scripts/legacy-role.ts).
 */
import { Op, type Sequelize } from 'sequelize';
import type { AppModels, Job } from '../core/db/models.js';
import type { JobStore } from '../core/job-store.js';
import { legacyRowOf, legacyRowsOf, sameLegacyRow, upsertLegacyRows } from '../core/legacy/mirror.js';

/** What the legacy activities need. */
export interface LegacyActivityDeps {
  models: Pick<AppModels, 'Job'>;
  jobs: JobStore;
  /** The guarded legacy connection; absent: the worker has no legacy DB, and the activities do nothing. */
  legacy?: Sequelize;
  /** LEGACY_MIRROR: whether the reconciler repairs mirrored rows (the document workflows carry their own flag). */
  mirror: boolean;
}

/** Input of mirrorLegacyJob. */
export interface MirrorLegacyJobInput {
  jobId: string;
}

/** Output of mirrorLegacyJob: the old status written, and whether the row changed. */
export interface MirrorLegacyJobOutput {
  status: string | null;
  written: boolean;
}

/** Input of repairLegacyRows: one bounded batch of Folio jobs, after `afterJobId` in id order. */
export interface RepairLegacyRowsInput {
  afterJobId: string | null;
  limit: number;
}

/** Output of repairLegacyRows: how many jobs were compared, which rows were rewritten, where the next batch starts. */
export interface RepairLegacyRowsOutput {
  checked: number;
  repaired: string[];
  lastJobId: string | null;
  /** False when the mirror is off for this worker (nothing was read). */
  enabled: boolean;
}

const JOB_ATTRIBUTES = [
  'id',
  'status',
  'step',
  'filename',
  'sha256',
  'pageCount',
  'pagesSelected',
  'errorCode',
  'errorMessage',
  'createdAt',
  'updatedAt',
] as const;

/** Builds the legacy mirror's activities. */
export function createLegacyActivities(deps: LegacyActivityDeps) {
  const { models, jobs, legacy } = deps;

  return {
    /**
     * Writes one Folio job's current state into legacy_jobs (insert or monotonic update). Fails while the
     * legacy DB is unreachable, for the workflow's retry policy to try again; a job that is gone writes nothing.
     */
    async mirrorLegacyJob(input: MirrorLegacyJobInput): Promise<MirrorLegacyJobOutput> {
      if (!legacy) return { status: null, written: false };
      const job = await models.Job.findByPk(input.jobId, { attributes: [...JOB_ATTRIBUTES] });
      if (!job) return { status: null, written: false };
      const row = legacyRowOf(job, await jobs.pageCounts(job.id));
      const written = await upsertLegacyRows(legacy, [row]);
      return { status: row.status, written: written.length > 0 };
    },

    /**
     * The reconciler's part: compares one batch of Folio jobs (id order, after `afterJobId`) with their
     * legacy rows and rewrites the rows that are missing or drifted. Bounded: `limit` jobs, two reads and at
     * most one upsert statement per batch.
     */
    async repairLegacyRows(input: RepairLegacyRowsInput): Promise<RepairLegacyRowsOutput> {
      if (!legacy || !deps.mirror) return { checked: 0, repaired: [], lastJobId: null, enabled: false };
      const batch: Job[] = await models.Job.findAll({
        attributes: [...JOB_ATTRIBUTES],
        where: input.afterJobId === null ? {} : { id: { [Op.gt]: input.afterJobId } },
        order: [['id', 'ASC']],
        limit: input.limit,
      });
      if (batch.length === 0) return { checked: 0, repaired: [], lastJobId: null, enabled: true };
      const ids = batch.map((j) => j.id);
      const [counts, stored] = await Promise.all([jobs.pageCountsOf(ids), legacyRowsOf(legacy, ids)]);
      const drifted = batch
        .map((job) => legacyRowOf(job, counts.get(job.id)!))
        .filter((row) => !sameLegacyRow(stored.get(row.job_id), row));
      const repaired = await upsertLegacyRows(legacy, drifted);
      return { checked: batch.length, repaired, lastJobId: ids[ids.length - 1]!, enabled: true };
    },
  };
}

/** The legacy mirror's activities, as registered. */
export type LegacyActivities = ReturnType<typeof createLegacyActivities>;
