import { QueryTypes, type Sequelize } from 'sequelize';
import { JOB_STATUSES, RETRYABLE_STATUSES } from '../../core/lifecycle.js';

/** What the panel's dashboard shows; fetched again every few seconds by the page. */
export interface DashboardData {
  generatedAt: string;
  counts: Record<string, number>;
  queueDepth: number;
  hours: { hour: string; jobs: number; pages: number }[];
  recentFailures: {
    id: string;
    filename: string | null;
    status: string;
    errorCode: string | null;
    errorMessage: string | null;
    at: string;
  }[];
}

/** Reads the dashboard's figures from the app DB in four small queries. */
export async function dashboardData(db: Sequelize): Promise<DashboardData> {
  const [statusRows, jobHours, pageHours, failures] = await Promise.all([
    db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM jobs GROUP BY status', {
      type: QueryTypes.SELECT,
    }),
    db.query<{ hour: Date; n: string }>(
      `SELECT date_trunc('hour', created_at) AS hour, count(*) AS n FROM jobs
        WHERE created_at > now() - interval '24 hours' GROUP BY 1`,
      { type: QueryTypes.SELECT },
    ),
    db.query<{ hour: Date; n: string }>(
      `SELECT date_trunc('hour', updated_at) AS hour, count(*) AS n FROM job_pages
        WHERE status IN ('done', 'failed') AND updated_at > now() - interval '24 hours' GROUP BY 1`,
      { type: QueryTypes.SELECT },
    ),
    db.query<{
      id: string;
      filename: string | null;
      status: string;
      error_code: string | null;
      error_message: string | null;
      updated_at: Date;
    }>(
      `SELECT id, filename, status, error_code, error_message, updated_at FROM jobs
        WHERE status IN (:retryable) ORDER BY updated_at DESC LIMIT 10`,
      { type: QueryTypes.SELECT, replacements: { retryable: [...RETRYABLE_STATUSES] } },
    ),
  ]);
  const counts: Record<string, number> = {};
  for (const s of JOB_STATUSES) counts[s] = 0;
  for (const r of statusRows) counts[r.status] = Number(r.n);

  // 24 hourly buckets ending with the current hour, so the chart has no gaps.
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  const byHour = (rows: { hour: Date; n: string }[]) =>
    new Map(rows.map((r) => [new Date(r.hour).getTime(), Number(r.n)]));
  const jobs = byHour(jobHours);
  const pages = byHour(pageHours);
  const hours = Array.from({ length: 24 }, (_, i) => {
    const t = now.getTime() - (23 - i) * 3_600_000;
    return { hour: new Date(t).toISOString(), jobs: jobs.get(t) ?? 0, pages: pages.get(t) ?? 0 };
  });
  return {
    generatedAt: new Date().toISOString(),
    counts,
    queueDepth: (counts.queued ?? 0) + (counts.processing ?? 0),
    hours,
    recentFailures: failures.map((f) => ({
      id: f.id,
      filename: f.filename,
      status: f.status,
      errorCode: f.error_code,
      errorMessage: f.error_message,
      at: new Date(f.updated_at).toISOString(),
    })),
  };
}
