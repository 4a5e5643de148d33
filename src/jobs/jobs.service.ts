import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { APP_MODELS } from '../database/database.module.js';
import { Op, QueryTypes } from 'sequelize';
import type { AppModels, Job, JobPage, WebhookDelivery } from '../../core/db/models.js';
import { ApiError } from '../common/errors.js';
import type { JobStatus } from '../../core/lifecycle.js';
import type { StoredPage } from '../../core/outputs/formats.js';
import type { Principal } from '../auth/api-keys.service.js';

const FINISHED: readonly JobStatus[] = ['completed', 'partial', 'failed', 'cancelled'];

/** Counts of a job's pages by state. */
export interface PageCountsView {
  total: number;
  done: number;
  failed: number;
  pending: number;
}

/** A page as a status poll shows it (its state, never its text): attribute → column. */
const PAGE_STATE_COLUMNS = {
  pageNumber: 'page_number',
  status: 'status',
  method: 'method',
  attempts: 'attempts',
  errorCode: 'error_code',
  errorMessage: 'error_message',
} as const;

export type PageState = Pick<JobPage, keyof typeof PAGE_STATE_COLUMNS>;

/**
 * A job row with its pages' states in one round trip: what a status poll (the API's most frequent request)
 * reads. Page states are aggregated in PostgreSQL, ordered by page number.
 */
const JOB_WITH_PAGE_STATES = `
  SELECT j.*, COALESCE((
    SELECT json_agg(json_build_object(${Object.entries(PAGE_STATE_COLUMNS)
      .map(([attribute, column]) => `'${attribute}', p.${column}`)
      .join(', ')}) ORDER BY p.page_number)
      FROM job_pages p WHERE p.job_id = j.id), '[]'::json) AS page_states
    FROM jobs j WHERE j.id = :id`;

/** Reads jobs and their pages from the app DB (never from Temporal). */
@Injectable()
export class JobsService {
  constructor(
    @Inject(APP_MODELS) private readonly models: AppModels,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async get(id: string): Promise<Job> {
    const job = await this.models.Job.findByPk(id);
    if (!job) throw new ApiError('JOB_NOT_FOUND', `No job has the id ${id}.`);
    return job;
  }

  /** The job if this caller may see it: clients only their own (403 otherwise), admins every job. */
  async getFor(principal: Principal, id: string): Promise<Job> {
    return this.owned(principal, await this.get(id));
  }

  /** getFor and pageStates in one query. */
  async statusFor(principal: Principal, id: string): Promise<{ job: Job; pages: PageState[] }> {
    const [job] = await this.models.Job.sequelize!.query<Job>(JOB_WITH_PAGE_STATES, {
      replacements: { id },
      type: QueryTypes.SELECT,
      model: this.models.Job,
      mapToModel: true,
    });
    if (!job) throw new ApiError('JOB_NOT_FOUND', `No job has the id ${id}.`);
    const pages = job.get('page_states' as keyof Job) as unknown as PageState[];
    return { job: this.owned(principal, job), pages };
  }

  private owned(principal: Principal, job: Job): Job {
    if (principal.role !== 'admin' && job.apiKeyId !== principal.apiKeyId) {
      throw new ApiError('FORBIDDEN', `Job ${job.id} belongs to another API client.`);
    }
    return job;
  }

  isFinished(job: Job): boolean {
    return FINISHED.includes(job.status);
  }

  /** Per-page states, without their text: what a status poll needs (the same columns as statusFor). */
  async pageStates(jobId: string): Promise<PageState[]> {
    return this.models.JobPage.findAll({
      where: { jobId },
      attributes: Object.keys(PAGE_STATE_COLUMNS),
      order: [['pageNumber', 'ASC']],
    });
  }

  /** Finished pages with their text and words. */
  async pageResults(jobId: string): Promise<JobPage[]> {
    return this.models.JobPage.findAll({
      where: { jobId },
      attributes: [
        'pageNumber',
        'status',
        'method',
        'text',
        'confidence',
        'words',
        'renderDpi',
        'languages',
        'errorCode',
        'errorMessage',
      ],
      order: [['pageNumber', 'ASC']],
    });
  }

  /**
   * Every page of a job as the page formats render it, in page order, read `batch` rows at a time: a long
   * document's words are never all in memory at once.
   */
  async *storedPages(jobId: string, batch = 50): AsyncGenerator<StoredPage> {
    let after = 0;
    for (;;) {
      const rows = await this.models.JobPage.findAll({
        where: { jobId, pageNumber: { [Op.gt]: after } },
        attributes: ['pageNumber', 'status', 'width', 'height', 'words', 'layout', 'renderDpi', 'errorCode'],
        order: [['pageNumber', 'ASC']],
        limit: batch,
      });
      for (const r of rows) {
        yield {
          number: r.pageNumber,
          status: r.status,
          width: r.width,
          height: r.height,
          words: r.words,
          layout: r.layout,
          renderDpi: r.renderDpi,
          errorCode: r.errorCode,
        };
      }
      if (rows.length < batch) return;
      after = rows[rows.length - 1]!.pageNumber;
    }
  }

  counts(job: Job, pages: Pick<JobPage, 'status'>[]): PageCountsView {
    const done = pages.filter((p) => p.status === 'done').length;
    const failed = pages.filter((p) => p.status === 'failed').length;
    const total = job.pagesSelected ?? pages.length;
    return { total, done, failed, pending: Math.max(0, total - done - failed) };
  }

  percent(job: Job, counts: PageCountsView): number {
    if (job.status === 'completed' || job.status === 'partial') return 100;
    if (counts.total === 0) return 0;
    return Math.floor(((counts.done + counts.failed) / counts.total) * 100);
  }

  /** The job's webhook attempts, oldest first. */
  webhookDeliveries(jobId: string): Promise<WebhookDelivery[]> {
    return this.models.WebhookDelivery.findAll({
      where: { jobId },
      order: [
        ['attemptedAt', 'ASC'],
        ['id', 'ASC'],
      ],
    });
  }

  links(job: Pick<Job, 'id' | 'workflowId'>): { self: string; result: string; workflow: string } {
    const ui = this.config.temporal.uiUrl;
    const ns = encodeURIComponent(this.config.temporal.namespace);
    return {
      self: `/v1/jobs/${job.id}`,
      result: `/v1/jobs/${job.id}/result`,
      workflow: `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(job.workflowId)}`,
    };
  }
}
