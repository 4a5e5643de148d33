import { ApiError } from '../common/errors.js';
import { JOB_STATUSES, type JobStatus } from '../../core/lifecycle.js';
import { SORTS, type JobListQuery, type JobSort, type SortOrder } from './jobs-list.service.js';

/** Raw query-string values as Express hands them over (a repeated name arrives as an array). */
export type RawQuery = Record<string, unknown>;

/** A query value that may appear once: a repeated name is INVALID_QUERY, not an array to trip over. */
export function one(q: RawQuery, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ApiError('INVALID_QUERY', `${name} may be given once.`);
  return v;
}

function int(q: RawQuery, name: string, min: number, max: number): number | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) {
    throw new ApiError('INVALID_QUERY', `${name} must be an integer from ${min} to ${max}.`);
  }
  return n;
}

function date(q: RawQuery, name: string): Date | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new ApiError('INVALID_QUERY', `${name} must be an ISO 8601 date-time.`);
  return d;
}

/** `status=a,b` or `status=a&status=b`. */
export function statuses(q: RawQuery): JobStatus[] | undefined {
  const raw = q.status;
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw])
    .flatMap((v) => (typeof v === 'string' ? v.split(',') : []))
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((s) => !JOB_STATUSES.includes(s as JobStatus));
  if (bad.length > 0 || list.length === 0) {
    throw new ApiError('INVALID_QUERY', `status must be among ${JOB_STATUSES.join(', ')}; got ${bad.join(', ')}.`);
  }
  return [...new Set(list)] as JobStatus[];
}

export const MAX_LIMIT = 200;

/** GET /v1/jobs's query string, validated: each problem is a 400 INVALID_QUERY naming the parameter. */
export function parseJobListQuery(q: RawQuery): JobListQuery {
  const sort = (one(q, 'sort') ?? 'created') as JobSort;
  if (!SORTS.includes(sort)) throw new ApiError('INVALID_QUERY', `sort must be one of ${SORTS.join(', ')}.`);
  const order = (one(q, 'order') ?? 'desc') as SortOrder;
  if (order !== 'asc' && order !== 'desc') throw new ApiError('INVALID_QUERY', 'order must be asc or desc.');
  const sha256 = one(q, 'sha256');
  if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) {
    throw new ApiError('INVALID_QUERY', 'sha256 must be 64 hex digits.');
  }
  const filename = one(q, 'filename');
  if (filename !== undefined && (filename.length === 0 || filename.length > 200)) {
    throw new ApiError('INVALID_QUERY', 'filename must be 1–200 characters.');
  }
  return {
    statuses: statuses(q),
    createdFrom: date(q, 'createdFrom'),
    createdTo: date(q, 'createdTo'),
    filename,
    sha256,
    sort,
    order,
    limit: int(q, 'limit', 1, MAX_LIMIT) ?? 50,
    offset: int(q, 'offset', 0, 1_000_000),
    cursor: one(q, 'cursor'),
  };
}

/** The seed's `order_by`: a column name, `-` in front for descending (`-created_at`). */
export function parseSeedOrderBy(raw: string | undefined): { sort: JobSort; order: SortOrder } {
  const value = raw ?? '-created_at';
  const desc = value.startsWith('-');
  const column = desc ? value.slice(1) : value;
  const sorts: Record<string, JobSort> = {
    created_at: 'created',
    updated_at: 'updated',
    status: 'status',
    duration: 'duration',
    page_count: 'pageCount',
  };
  const sort = sorts[column];
  if (!sort) {
    throw new ApiError(
      'INVALID_QUERY',
      `order_by must be one of ${Object.keys(sorts).join(', ')}, "-" in front for descending.`,
    );
  }
  return { sort, order: desc ? 'desc' : 'asc' };
}
