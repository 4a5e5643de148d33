import { Inject, Injectable } from '@nestjs/common';
import { QueryTypes, type Sequelize } from 'sequelize';
import { APP_DB } from '../database/database.module.js';
import { ApiError } from '../common/errors.js';
import type { Principal } from '../auth/api-keys.service.js';
import type { JobStatus } from '../../core/lifecycle.js';

export const SORTS = ['created', 'updated', 'status', 'duration', 'pageCount'] as const;
export type JobSort = (typeof SORTS)[number];
export type SortOrder = 'asc' | 'desc';

/**
 * Each sort key as SQL, the type its cursor value is cast back to, and the index that serves it
 * (migrations/20261121110000-jobs-api.ts). Nullable keys are coalesced so rows without a duration or
 * page count sort first (asc) and keyset comparisons never meet a NULL; the indexes are on the same
 * expressions.
 */
const SORT_SQL: Record<JobSort, { expr: string; cast: string }> = {
  created: { expr: 'created_at', cast: 'timestamptz' },
  updated: { expr: 'updated_at', cast: 'timestamptz' },
  status: { expr: 'status', cast: 'text' },
  duration: { expr: "COALESCE(finished_at - started_at, interval '-1 second')", cast: 'interval' },
  pageCount: { expr: 'COALESCE(page_count, -1)', cast: 'integer' },
};

/** A validated list query. */
export interface JobListQuery {
  statuses?: JobStatus[];
  priorities?: number[];
  createdFrom?: Date;
  createdTo?: Date;
  filename?: string;
  sha256?: string;
  /** Every one must be among the job's tags. */
  tags?: string[];
  sort: JobSort;
  order: SortOrder;
  limit: number;
  offset?: number;
  cursor?: string;
}

/** One row of a list: the job without its pages. */
export interface JobListRow {
  id: string;
  status: JobStatus;
  step: string;
  filename: string | null;
  sha256: string;
  page_count: number | null;
  pages_selected: number | null;
  priority: number;
  error_code: string | null;
  error_message: string | null;
  error_page: number | null;
  workflow_id: string;
  tags: string[];
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  sort_value: string;
}

export interface JobListPage {
  rows: JobListRow[];
  total: number;
  nextCursor: string | null;
}

interface Cursor {
  s: JobSort;
  o: SortOrder;
  v: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string, sort: JobSort, order: SortOrder): Cursor {
  let c: Partial<Cursor>;
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    throw new ApiError('INVALID_CURSOR', 'The cursor is not one this API returned.');
  }
  if (typeof c.v !== 'string' || typeof c.id !== 'string' || !/^[0-9a-f-]{36}$/.test(c.id)) {
    throw new ApiError('INVALID_CURSOR', 'The cursor is not one this API returned.');
  }
  if (c.s !== sort || c.o !== order) {
    throw new ApiError('INVALID_CURSOR', 'The cursor belongs to another sort; send the same sort and order with it.');
  }
  return c as Cursor;
}

/** Escapes LIKE wildcards so the filename filter is a plain substring match. */
function likeSubstring(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/**
 * GET /v1/jobs as SQL: filters, one sort with id as tie-breaker, and either keyset (cursor) or offset
 * pagination; `total` counts every row the filters match. Clients see only their own jobs.
 */
@Injectable()
export class JobsListService {
  constructor(@Inject(APP_DB) private readonly db: Sequelize) {}

  /** The WHERE clause and its replacements, shared by the page and the total. */
  private filters(q: JobListQuery, principal: Principal): { where: string[]; params: Record<string, unknown> } {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (principal.role === 'client') {
      where.push('api_key_id = :owner');
      params.owner = principal.apiKeyId;
    }
    if (q.statuses?.length) {
      where.push('status IN (:statuses)');
      params.statuses = q.statuses;
    }
    if (q.priorities?.length) {
      where.push('priority IN (:priorities)');
      params.priorities = q.priorities;
    }
    if (q.createdFrom) {
      where.push('created_at >= :createdFrom');
      params.createdFrom = q.createdFrom;
    }
    if (q.createdTo) {
      where.push('created_at < :createdTo');
      params.createdTo = q.createdTo;
    }
    if (q.filename) {
      where.push('filename ILIKE :filename');
      params.filename = likeSubstring(q.filename);
    }
    if (q.sha256) {
      where.push('sha256 = :sha256');
      params.sha256 = q.sha256.toLowerCase();
    }
    if (q.tags?.length) {
      // Containment, served by the GIN index on tags.
      where.push('tags @> ARRAY[:tags]::text[]');
      params.tags = q.tags;
    }
    return { where, params };
  }

  /** The SQL of one page, exposed so the index test can EXPLAIN exactly what the API runs. */
  pageSql(q: JobListQuery, principal: Principal): { sql: string; params: Record<string, unknown> } {
    const { where, params } = this.filters(q, principal);
    const { expr, cast } = SORT_SQL[q.sort];
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor, q.sort, q.order);
      where.push(
        `(${expr}, id) ${q.order === 'asc' ? '>' : '<'} (CAST(:cursorValue AS ${cast}), CAST(:cursorId AS uuid))`,
      );
      params.cursorValue = c.v;
      params.cursorId = c.id;
    }
    params.limit = q.limit + 1;
    params.offset = q.offset ?? 0;
    const sql = `SELECT id, status, step, filename, sha256, page_count, pages_selected, priority, error_code, error_message,
        error_page, workflow_id, tags, created_at, updated_at, started_at, finished_at,
        (EXTRACT(EPOCH FROM finished_at - started_at) * 1000)::bigint AS duration_ms,
        (${expr})::text AS sort_value
      FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${expr} ${dir}, id ${dir}
      LIMIT :limit OFFSET :offset`;
    return { sql, params };
  }

  countSql(q: JobListQuery, principal: Principal): { sql: string; params: Record<string, unknown> } {
    const { where, params } = this.filters(q, principal);
    return {
      sql: `SELECT count(*)::int AS total FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
      params,
    };
  }

  async list(q: JobListQuery, principal: Principal): Promise<JobListPage> {
    if (q.cursor !== undefined && q.offset !== undefined) {
      throw new ApiError('INVALID_QUERY', 'Send either cursor or offset, not both.');
    }
    const page = this.pageSql(q, principal);
    const count = this.countSql(q, principal);
    const [rows, totals] = await Promise.all([
      this.db.query<JobListRow>(page.sql, { replacements: page.params, type: QueryTypes.SELECT }),
      this.db.query<{ total: number }>(count.sql, { replacements: count.params, type: QueryTypes.SELECT }),
    ]);
    const more = rows.length > q.limit;
    const shown = more ? rows.slice(0, q.limit) : rows;
    const last = shown[shown.length - 1];
    return {
      rows: shown.map((r) => ({ ...r, duration_ms: r.duration_ms === null ? null : Number(r.duration_ms) })),
      total: totals[0]?.total ?? 0,
      nextCursor: more && last ? encodeCursor({ s: q.sort, o: q.order, v: last.sort_value, id: last.id }) : null,
    };
  }
}
