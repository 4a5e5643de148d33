/**
 * GET /api/v1/jobs over both systems while clients move off the previous service: Folio's jobs and the
 * legacy_jobs rows Folio did not create (rows it mirrored are its own jobs: they appear once, as Folio's).
 * One ordering across two databases: each source is read in the same order — the sort key, then the job id
 * byte by byte — for offset + limit rows, and the two lists are merged, so paging is stable and every row
 * shows up on exactly one page. Each row says which system it came from (`source`).
 */
import { Inject, Injectable } from '@nestjs/common';
import { QueryTypes, type QueryOptionsWithType, type Sequelize } from 'sequelize';
import { APP_DB, LEGACY_DB } from '../database/database.module.js';
import type { Principal } from '../auth/api-keys.service.js';
import { JOB_STATUSES, SEED_STATUS_OF, statusesOfSeed, type SeedStatus } from '../../core/lifecycle.js';
import type { JobSort, SortOrder } from '../jobs/jobs-list.service.js';

/** Which system a row of the merged list comes from. */
export const JOB_SOURCES = ['folio', 'legacy'] as const;
export type JobSource = (typeof JOB_SOURCES)[number];

/** The merged list's query: the old field names' meaning. */
export interface MergedJobsQuery {
  status?: SeedStatus;
  sort: JobSort;
  order: SortOrder;
  limit: number;
  offset: number;
}

/** One row of the merged list, in the previous service's terms. */
export interface MergedJobRow {
  source: JobSource;
  job_id: string;
  filename: string | null;
  status: string;
  current_step: string | null;
  page_count: number | null;
  progress: number | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
  /** The sort key: milliseconds, a count, or the old status name. */
  sort_key: string | number;
}

export interface MergedJobsPage {
  rows: MergedJobRow[];
  total: number;
}

/** Microseconds since the epoch: exact in a JavaScript number, so the SQL and the merge order agree. */
const us = (expr: string) => `(EXTRACT(EPOCH FROM ${expr}) * 1000000)::bigint`;

/** The old status name of a Folio status, in SQL. */
const FOLIO_SEED_STATUS = `CASE status::text ${JOB_STATUSES.map((s) => `WHEN '${s}' THEN '${SEED_STATUS_OF[s]}'`).join(' ')} END`;
/** The previous service wrote `queued` for what its API called `pending`. */
const LEGACY_STATUS = `CASE status WHEN 'queued' THEN 'pending' ELSE status END`;
const FOLIO_DURATION = "COALESCE(finished_at - started_at, interval '-1 second')";

interface SortKey {
  /** What each table orders by (Folio's: the expressions its list indexes serve) … */
  folioOrder: string;
  legacyOrder: string;
  /** … and the same order as a value the merge compares. */
  folioKey: string;
  legacyKey: string;
  numeric: boolean;
}

/**
 * Each sort in both tables. Legacy rows have no duration or page count: they sort as Folio's jobs without
 * one do (-1 s, -1 pages: first ascending). Text is ordered byte by byte (COLLATE "C"), as the merge compares.
 */
const KEYS: Record<JobSort, SortKey> = {
  created: {
    folioOrder: 'created_at',
    legacyOrder: 'created_at',
    folioKey: us('created_at'),
    legacyKey: us('created_at'),
    numeric: true,
  },
  updated: {
    folioOrder: 'updated_at',
    legacyOrder: 'updated_at',
    folioKey: us('updated_at'),
    legacyKey: us('updated_at'),
    numeric: true,
  },
  status: {
    folioOrder: `(${FOLIO_SEED_STATUS}) COLLATE "C"`,
    legacyOrder: `(${LEGACY_STATUS}) COLLATE "C"`,
    folioKey: FOLIO_SEED_STATUS,
    legacyKey: LEGACY_STATUS,
    numeric: false,
  },
  duration: {
    folioOrder: FOLIO_DURATION,
    legacyOrder: 'NULL::int',
    folioKey: us(FOLIO_DURATION),
    legacyKey: '(-1000000)::bigint',
    numeric: true,
  },
  pageCount: {
    folioOrder: 'COALESCE(page_count, -1)',
    legacyOrder: 'NULL::int',
    folioKey: 'COALESCE(page_count, -1)',
    legacyKey: '(-1)::bigint',
    numeric: true,
  },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Legacy rows read per query while looking for those Folio did not create. */
const CHUNK = 500;

@Injectable()
export class MergedJobsService {
  constructor(
    @Inject(APP_DB) private readonly app: Sequelize,
    @Inject(LEGACY_DB) private readonly legacy: Sequelize,
  ) {}

  /**
   * A page of the merged list. A client key sees its own Folio jobs only; legacy rows have no owner, so
   * only an admin key (or API_AUTH=off) sees them.
   */
  async list(q: MergedJobsQuery, principal: Principal): Promise<MergedJobsPage> {
    const wanted = q.offset + q.limit;
    const withLegacy = principal.role === 'admin';
    const [folio, folioTotal, legacy, legacyTotal] = await Promise.all([
      this.folioRows(q, principal, wanted),
      this.folioTotal(q, principal),
      withLegacy ? this.legacyOnlyRows(q, wanted) : Promise.resolve([]),
      withLegacy ? this.legacyOnlyTotal(q) : Promise.resolve(0),
    ]);
    const merged = [...folio, ...legacy].sort(comparator(q.order));
    return { rows: merged.slice(q.offset, wanted), total: folioTotal + legacyTotal };
  }

  /** One legacy row Folio did not create, in the list's terms; undefined when there is none. */
  async legacyRow(jobId: string): Promise<MergedJobRow | undefined> {
    if (UUID.test(jobId) && (await this.folioIdsAmong([jobId])).size > 0) return undefined;
    const [row] = await this.legacyQuery<MergedJobRow>(
      `SELECT ${legacyColumns('created')} FROM legacy_jobs WHERE job_id = :jobId`,
      { replacements: { jobId }, type: QueryTypes.SELECT },
    );
    return row && normalized(row, true);
  }

  /**
   * A query of the legacy DB. A legacy DB without a legacy_jobs table (a fresh development database, say)
   * has no rows to add: undefined_table reads as none.
   */
  private async legacyQuery<T extends object>(
    sql: string,
    options: QueryOptionsWithType<QueryTypes.SELECT>,
  ): Promise<T[]> {
    try {
      return await this.legacy.query<T>(sql, options);
    } catch (err) {
      if ((err as { parent?: { code?: string } }).parent?.code === '42P01') return [];
      throw err;
    }
  }

  private folioWhere(q: MergedJobsQuery, principal: Principal): { where: string; params: Record<string, unknown> } {
    const clauses: string[] = [];
    const params: Record<string, unknown> = {};
    if (principal.role === 'client') {
      clauses.push('api_key_id = :owner');
      params.owner = principal.apiKeyId;
    }
    if (q.status) {
      clauses.push('status IN (:statuses)');
      params.statuses = statusesOfSeed(q.status);
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  private async folioRows(q: MergedJobsQuery, principal: Principal, limit: number): Promise<MergedJobRow[]> {
    const { where, params } = this.folioWhere(q, principal);
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    const rows = await this.app.query<MergedJobRow>(
      `SELECT 'folio' AS source, id::text AS job_id, filename, ${FOLIO_SEED_STATUS} AS status, step AS current_step,
          page_count, NULL AS progress, error_message, created_at, updated_at, ${KEYS[q.sort].folioKey} AS sort_key
        FROM jobs ${where}
        ORDER BY ${KEYS[q.sort].folioOrder} ${dir}, id ${dir}
        LIMIT :limit`,
      { replacements: { ...params, limit }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => normalized(r, KEYS[q.sort].numeric));
  }

  private async folioTotal(q: MergedJobsQuery, principal: Principal): Promise<number> {
    const { where, params } = this.folioWhere(q, principal);
    const [row] = await this.app.query<{ total: number }>(`SELECT count(*)::int AS total FROM jobs ${where}`, {
      replacements: params,
      type: QueryTypes.SELECT,
    });
    return row?.total ?? 0;
  }

  /** Of these ids, those that are Folio's jobs (only UUIDs can be). */
  private async folioIdsAmong(ids: string[]): Promise<Set<string>> {
    const uuids = ids.filter((id) => UUID.test(id));
    if (uuids.length === 0) return new Set();
    const rows = await this.app.query<{ id: string }>(`SELECT id::text AS id FROM jobs WHERE id IN (:uuids)`, {
      replacements: { uuids },
      type: QueryTypes.SELECT,
    });
    return new Set(rows.map((r) => r.id));
  }

  /** The first `limit` legacy rows Folio did not create, in the list's order. */
  private async legacyOnlyRows(q: MergedJobsQuery, limit: number): Promise<MergedJobRow[]> {
    const found: MergedJobRow[] = [];
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    const chunk = Math.max(CHUNK, limit);
    for (let offset = 0; found.length < limit; offset += chunk) {
      const rows = await this.legacyQuery<MergedJobRow>(
        `SELECT ${legacyColumns(q.sort)} FROM legacy_jobs
          ${q.status ? `WHERE ${LEGACY_STATUS} = :status` : ''}
          ORDER BY ${KEYS[q.sort].legacyOrder} ${dir}, job_id COLLATE "C" ${dir}
          LIMIT :chunk OFFSET :offset`,
        { replacements: { status: q.status ?? null, chunk, offset }, type: QueryTypes.SELECT },
      );
      const folio = await this.folioIdsAmong(rows.map((r) => r.job_id));
      for (const r of rows) if (!folio.has(r.job_id)) found.push(normalized(r, KEYS[q.sort].numeric));
      if (rows.length < chunk) break;
    }
    return found.slice(0, limit);
  }

  /**
   * How many legacy rows Folio did not create match the filter: all that match, less those whose job id is
   * a Folio job (looked up CHUNK × 10 UUID-shaped ids at a time, in job id order).
   */
  private async legacyOnlyTotal(q: MergedJobsQuery): Promise<number> {
    const status = q.status ? `AND ${LEGACY_STATUS} = :status` : '';
    const [counted] = await this.legacyQuery<{ total: number }>(
      `SELECT count(*)::int AS total FROM legacy_jobs WHERE true ${status}`,
      { replacements: { status: q.status ?? null }, type: QueryTypes.SELECT },
    );
    let total = counted?.total ?? 0;
    let after = '';
    for (;;) {
      const ids = await this.legacyQuery<{ job_id: string }>(
        `SELECT job_id FROM legacy_jobs
          WHERE job_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            AND job_id COLLATE "C" > :after ${status}
          ORDER BY job_id COLLATE "C" LIMIT :chunk`,
        { replacements: { status: q.status ?? null, after, chunk: CHUNK * 10 }, type: QueryTypes.SELECT },
      );
      total -= (await this.folioIdsAmong(ids.map((r) => r.job_id))).size;
      if (ids.length < CHUNK * 10) return total;
      after = ids[ids.length - 1]!.job_id;
    }
  }
}

function legacyColumns(sort: JobSort): string {
  return `'legacy' AS source, job_id, filename, ${LEGACY_STATUS} AS status, current_step, NULL::int AS page_count,
    progress_percentage AS progress, error_message, created_at, updated_at, ${KEYS[sort].legacyKey} AS sort_key`;
}

/** bigint keys come back as strings from pg. */
function normalized(row: MergedJobRow, numeric: boolean): MergedJobRow {
  return { ...row, sort_key: numeric ? Number(row.sort_key) : String(row.sort_key) };
}

/**
 * The order both queries use: the key, then the job id byte by byte (a UUID's bytes order as its hex text
 * does, COLLATE "C"), both in `order`.
 */
function comparator(order: SortOrder): (a: MergedJobRow, b: MergedJobRow) => number {
  const sign = order === 'asc' ? 1 : -1;
  const cmp = (x: string | number, y: string | number) => (x < y ? -1 : x > y ? 1 : 0);
  return (a, b) => sign * (cmp(a.sort_key, b.sort_key) || cmp(a.job_id, b.job_id));
}
