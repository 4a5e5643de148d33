import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Job, JobPage } from '../../core/db/models.js';
import type { JobsService, PageCountsView, PageState } from './jobs.service.js';
import { JOB_STATUSES, JOB_STEPS, PAGE_METHODS, PAGE_STATUSES, READ_METHODS } from '../../core/lifecycle.js';

/** A structured error: a stable code, a message saying what to do, the page when one page is at fault. */
export class ErrorView {
  @ApiProperty({ example: 'PDF_PASSWORD_REQUIRED' }) code!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional() page?: number;
}

export class ProgressView {
  @ApiProperty({ minimum: 0, maximum: 100 }) percent!: number;
  @ApiProperty() pagesTotal!: number;
  @ApiProperty() pagesDone!: number;
  @ApiProperty() pagesFailed!: number;
}

export class PageStateView {
  @ApiProperty() number!: number;
  @ApiProperty({ enum: PAGE_STATUSES }) status!: string;
  @ApiProperty({ enum: PAGE_METHODS, nullable: true }) method!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: ErrorView }) error!: ErrorView | null;
}

export class JobLinksView {
  @ApiProperty() self!: string;
  @ApiProperty() result!: string;
  @ApiProperty({ description: 'The document workflow in the Temporal UI' }) workflow!: string;
}

export class JobView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty({ enum: JOB_STEPS }) step!: string;
  @ApiProperty({ type: ProgressView }) progress!: ProgressView;
  @ApiProperty({ nullable: true, type: ErrorView }) error!: ErrorView | null;
  @ApiProperty({ nullable: true, type: String }) filename!: string | null;
  @ApiProperty() sizeBytes!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: "The document's pages: a PDF's, 1 for an image, a multi-page TIFF's frames; null until inspected",
  })
  pageCount!: number | null;
  @ApiProperty({
    minimum: 1,
    maximum: 5,
    description: '1 (most urgent) to 5; PATCH /v1/jobs/{id} changes it while pages wait',
  })
  priority!: number;
  @ApiProperty() options!: Record<string, unknown>;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({ nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When the stored upload was removed by the cleanup schedule',
  })
  archivedAt!: string | null;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ nullable: true, type: String }) note!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Kept until then instead of the default retention' })
  retainUntil!: string | null;
  @ApiProperty({ type: [PageStateView] }) pages!: PageStateView[];
  @ApiProperty({ type: JobLinksView }) links!: JobLinksView;
}

export class WordView {
  @ApiProperty() text!: string;
  @ApiProperty({
    example: { x0: 10, y0: 20, x1: 60, y1: 34 },
    description:
      "PDF points (1/72 inch) of the page as displayed, origin top-left; an image's pixels at its own resolution (300 dpi if it declares none)",
  })
  bbox!: Record<string, number>;
  @ApiProperty() confidence!: number;
  @ApiPropertyOptional({
    description: "The word's text line on the page, from 0 in reading order (absent on pages read by older releases)",
  })
  line?: number;
}

export class PageLanguagesView {
  @ApiProperty({ type: [String], example: ['kor', 'eng'], description: 'The languages the page was read in' })
  used!: string[];
  @ApiProperty({ description: 'True when they were picked from the detected script (languages=auto)' }) auto!: boolean;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'Hangul',
    description: "languages=auto: the page's script as tesseract's OSD named it; null when none was found",
  })
  script?: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'How far that script led the next one' })
  scriptConfidence?: number | null;
  @ApiPropertyOptional({
    description:
      "Why the page was read in the default languages instead of its script's (none installed, or none found)",
  })
  fallback?: string;
}

export class PageResultView {
  @ApiProperty() number!: number;
  @ApiProperty({ enum: READ_METHODS, description: '`ocr` for every page of an image, which has no text layer' })
  method!: string;
  @ApiProperty() text!: string;
  @ApiProperty({ description: 'Mean word confidence, 0–100' }) confidence!: number;
  @ApiProperty({ type: [WordView] }) words!: WordView[];
  @ApiPropertyOptional({
    nullable: true,
    type: PageLanguagesView,
    description: 'OCR pages: the languages they were read in; null for text-layer pages',
  })
  languages?: PageLanguagesView | null;
}

export class FailedPageView {
  @ApiProperty() number!: number;
  @ApiProperty({ type: ErrorView }) error!: ErrorView;
}

export class JobResultView {
  @ApiProperty() jobId!: string;
  @ApiProperty() status!: string;
  @ApiProperty({ type: [PageResultView] }) pages!: PageResultView[];
  @ApiProperty({ type: [FailedPageView] }) failedPages!: FailedPageView[];
}

function pageError(p: Pick<JobPage, 'errorCode' | 'errorMessage' | 'pageNumber'>): ErrorView | null {
  return p.errorCode ? { code: p.errorCode, message: p.errorMessage ?? '', page: p.pageNumber } : null;
}

export function jobError(job: Job): ErrorView | null {
  if (!job.errorCode) return null;
  return { code: job.errorCode, message: job.errorMessage ?? '', ...(job.errorPage ? { page: job.errorPage } : {}) };
}

/** The status view of a job. */
export function toJobView(jobs: JobsService, job: Job, pages: PageState[]): JobView {
  const counts: PageCountsView = jobs.counts(job, pages);
  return {
    jobId: job.id,
    status: job.status,
    step: job.step,
    progress: {
      percent: jobs.percent(job, counts),
      pagesTotal: counts.total,
      pagesDone: counts.done,
      pagesFailed: counts.failed,
    },
    error: jobError(job),
    filename: job.filename,
    sizeBytes: job.sizeBytes,
    sha256: job.sha256,
    pageCount: job.pageCount,
    priority: job.priority,
    options: job.options as unknown as Record<string, unknown>,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    archivedAt: job.archivedAt?.toISOString() ?? null,
    tags: job.tags ?? [],
    note: job.note ?? null,
    retainUntil: job.retainUntil?.toISOString() ?? null,
    pages: pages.map((p) => ({
      number: p.pageNumber,
      status: p.status,
      method: p.method,
      attempts: p.attempts,
      error: pageError(p),
    })),
    links: jobs.links(job),
  };
}

/** The result view: finished pages with text, failed pages with their errors. */
export function toResultView(job: Job, pages: JobPage[]): JobResultView {
  return {
    jobId: job.id,
    status: job.status,
    pages: pages
      .filter((p) => p.status === 'done')
      .map((p) => ({
        number: p.pageNumber,
        method: p.method ?? 'none',
        text: p.text ?? '',
        confidence: p.confidence ?? 0,
        words: p.words ?? [],
        languages: p.languages ?? null,
      })),
    failedPages: pages
      .filter((p) => p.status === 'failed')
      .map((p) => ({ number: p.pageNumber, error: pageError(p) ?? { code: 'PAGE_FAILED', message: '' } })),
  };
}

/** Plain text of the finished pages, pages separated by a form feed as pdftotext does. */
export function toPlainText(pages: JobPage[]): string {
  return pages
    .filter((p) => p.status === 'done')
    .map((p) => p.text ?? '')
    .join('\n\f');
}

export class JobListItemView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty() step!: string;
  @ApiProperty({ nullable: true, type: String }) filename!: string | null;
  @ApiProperty() sha256!: string;
  @ApiProperty({ nullable: true, type: Number }) pageCount!: number | null;
  @ApiProperty({ minimum: 1, maximum: 5 }) priority!: number;
  @ApiProperty({ nullable: true, type: ErrorView }) error!: ErrorView | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({ nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'finishedAt − startedAt' }) durationMs!: number | null;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: JobLinksView }) links!: JobLinksView;
}

export class JobListView {
  @ApiProperty({ type: [JobListItemView] }) jobs!: JobListItemView[];
  @ApiProperty({ description: 'Jobs matching the filters, over all pages' }) total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Set when paginating by offset' }) offset!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor!: string | null;
}

export class RetryStartedView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ example: 'processing' }) status!: string;
  @ApiProperty({ description: 'The pages being run again' }) pages!: number[];
  @ApiProperty({ example: 'document-…-retry-1' }) workflowId!: string;
  @ApiProperty({ type: JobLinksView }) links!: JobLinksView;
}

/** One attempt at delivering one of the job's webhooks. */
export class WebhookDeliveryView {
  @ApiProperty({ example: 'msg_2b1f0c6e5d4a4f0b9a3c8e7d6f5a4b3c', description: 'Standard Webhooks webhook-id' })
  webhookId!: string;
  @ApiProperty({ example: 'job.completed' }) event!: string;
  @ApiProperty({ description: 'Attempt number of this event, from 1' }) attempt!: number;
  @ApiProperty() url!: string;
  @ApiProperty({
    enum: ['delivered', 'gone', 'failed', 'refused'],
    description:
      'delivered: 2xx; gone: 410, no more attempts; failed: retried; refused: URL, address or secret refused',
  })
  outcome!: string;
  @ApiProperty({ nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() durationMs!: number;
  @ApiProperty({ format: 'date-time' }) attemptedAt!: string;
}

/** GET /v1/jobs/{id}/deliveries. */
export class WebhookDeliveriesView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ nullable: true, type: String, description: "Where the job's webhooks go; null: none" })
  callbackUrl!: string | null;
  @ApiProperty({ type: [WebhookDeliveryView], description: 'Oldest first' }) deliveries!: WebhookDeliveryView[];
}
