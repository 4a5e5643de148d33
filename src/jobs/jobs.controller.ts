import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  Sse,
  StreamableFile,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import type { Response } from 'express';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { JobsService } from './jobs.service.js';
import { JobsListService, type JobListRow } from './jobs-list.service.js';
import { JobListQueryDto, JobPatchBody, PasswordBody, ResultQueryDto, RetryBody } from './jobs.dto.js';
import { JobPriorityService } from './job-priority.service.js';
import { JobControlService } from './job-control.service.js';
import { JobEditsService } from './job-edits.service.js';
import { JobEventsService } from './job-events.service.js';
import { JobResultsService } from './job-results.service.js';
import { OriginalDocumentService } from './original-document.service.js';
import { ACCEPTED_MEDIA_TYPES } from '../../core/document-type.js';
import {
  JobListItemView,
  JobListView,
  JobResultView,
  JobView,
  RetryStartedView,
  WebhookDeliveriesView,
  toJobView,
} from './jobs.views.js';
import { ApiErrors } from '../common/openapi.js';
import { PAGE_FORMATS } from '../../core/outputs/formats.js';
import { jobIdPipe } from '../common/pipes.js';
import { queryValidation } from '../common/validation.js';
import { keyActor } from '../../core/audit.js';
import { ApiError } from '../common/errors.js';

/** A list row as the API shows it. */
export function toListItem(jobs: JobsService, r: JobListRow): JobListItemView {
  return {
    jobId: r.id,
    status: r.status,
    step: r.step,
    filename: r.filename,
    sha256: r.sha256,
    pageCount: r.page_count,
    priority: r.priority,
    error: r.error_code
      ? { code: r.error_code, message: r.error_message ?? '', ...(r.error_page ? { page: r.error_page } : {}) }
      : null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    durationMs: r.duration_ms,
    tags: r.tags ?? [],
    links: jobs.links({ id: r.id, workflowId: r.workflow_id }),
  };
}

/** Jobs: list, status, results, progress events, cancel and retry. Clients reach only their own jobs. */
@ApiTags('jobs')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 429)
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly list: JobsListService,
    private readonly control: JobControlService,
    private readonly events: JobEventsService,
    private readonly results: JobResultsService,
    private readonly original: OriginalDocumentService,
    private readonly priorities: JobPriorityService,
    private readonly edits: JobEditsService,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: JobListView })
  @ApiErrors(400)
  async index(@Req() req: AuthedRequest, @Query(queryValidation) query: JobListQueryDto): Promise<JobListView> {
    const q = query.toQuery();
    const page = await this.list.list(q, req.principal);
    return {
      jobs: page.rows.map((r) => toListItem(this.jobs, r)),
      total: page.total,
      limit: q.limit,
      offset: q.offset ?? null,
      nextCursor: page.nextCursor,
    };
  }

  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: JobView })
  @ApiErrors(403, 404)
  async status(
    @Req() req: AuthedRequest,
    @Param('id', jobIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobView> {
    const { job, pages } = await this.jobs.statusFor(req.principal, id);
    if (!this.jobs.isFinished(job)) res.setHeader('Retry-After', '2');
    return toJobView(this.jobs, job, pages);
  }

  @Get(':id/result')
  @Header('Cache-Control', 'no-store')
  @ApiProduces(
    'application/json',
    'text/plain',
    ...new Set(Object.values(PAGE_FORMATS).map((f) => f.contentType.split(';')[0]!)),
    'application/pdf',
  )
  @ApiOkResponse({
    type: JobResultView,
    description:
      'Pages finished so far; complete once the job is finished. The JSON view is this schema; `txt` is plain ' +
      'text; `hocr` (text/vnd.hocr+html), `alto` (application/xml) and `tsv` (text/tab-separated-values) come ' +
      'as a download named after the uploaded file, with every page, those not read empty. `pdf`: the ' +
      "searchable PDF (the original with an invisible text layer on its OCR'd pages), once the job has " +
      'finished: 409 JOB_NOT_FINISHED before, 409 SEARCHABLE_PDF_UNAVAILABLE when none was built.',
  })
  @ApiErrors(400, 403, 404, 409)
  async result(
    @Req() req: AuthedRequest,
    @Param('id', jobIdPipe) id: string,
    @Query(queryValidation) { format }: ResultQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobResultView | string | StreamableFile> {
    const job = await this.jobs.getFor(req.principal, id);
    return this.results.respond(job, format, res);
  }

  @Get(':id/document')
  @Header('Cache-Control', 'no-store')
  @ApiProduces(...ACCEPTED_MEDIA_TYPES)
  @ApiOkResponse({
    description:
      'The original document as it was uploaded, byte for byte: Content-Type by its content (a PDF or the ' +
      "image's type), Content-Length, and Content-Disposition with the uploaded file's name. 410 " +
      'DOCUMENT_ARCHIVED once the retention cleanup has removed it.',
    schema: { type: 'string', format: 'binary' },
    headers: {
      'Content-Disposition': { description: 'attachment; filename="…"', schema: { type: 'string' } },
      'Content-Length': { description: 'The size in bytes', schema: { type: 'integer' } },
    },
  })
  @ApiErrors(403, 404, 410)
  async document(@Req() req: AuthedRequest, @Param('id', jobIdPipe) id: string): Promise<StreamableFile> {
    return this.original.send(await this.jobs.getFor(req.principal, id));
  }

  @Get(':id/deliveries')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({
    type: WebhookDeliveriesView,
    description: "Every attempt at delivering the job's webhooks, oldest first (the worker records each one).",
  })
  @ApiErrors(403, 404)
  async deliveries(@Req() req: AuthedRequest, @Param('id', jobIdPipe) id: string): Promise<WebhookDeliveriesView> {
    const job = await this.jobs.getFor(req.principal, id);
    const rows = await this.jobs.webhookDeliveries(job.id);
    return {
      jobId: job.id,
      callbackUrl: job.callbackUrl ?? null,
      deliveries: rows.map((d) => ({
        webhookId: d.webhookId,
        event: d.event,
        attempt: d.attempt,
        url: d.url,
        outcome: d.outcome,
        statusCode: d.statusCode,
        error: d.error,
        durationMs: d.durationMs,
        attemptedAt: d.attemptedAt.toISOString(),
      })),
    };
  }

  @Sse(':id/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description:
      'Server-Sent Events: `page` {number, status, method, error} as each page finishes, `progress` ' +
      '{status, step, percent, pagesTotal, pagesDone, pagesFailed} on change, `needs_password` {error, passwordUrl} ' +
      'when the job starts waiting for a password, and a last `end` with the final status.',
  })
  @ApiErrors(403, 404)
  async eventStream(@Req() req: AuthedRequest, @Param('id', jobIdPipe) id: string): Promise<Observable<MessageEvent>> {
    await this.jobs.getFor(req.principal, id);
    return this.events.stream(id);
  }

  @Patch(':id')
  @ApiBody({ type: JobPatchBody })
  @ApiOkResponse({
    type: JobView,
    description:
      "The job after the change, which is in the audit log; a new priority is taken by its workflow's next pages.",
  })
  @ApiErrors(400, 403, 404, 409)
  async update(
    @Req() req: AuthedRequest,
    @Param('id', jobIdPipe) id: string,
    @Body() body: JobPatchBody,
  ): Promise<JobView> {
    const { priority, ...edits } = body;
    const editing = Object.values(edits).some((v) => v !== undefined);
    if (priority === undefined && !editing) {
      throw new ApiError('VALIDATION_FAILED', 'Send at least one of priority, tags, note or retainUntil.');
    }
    if (editing && req.principal.role !== 'admin') {
      throw new ApiError('FORBIDDEN', "Only an admin key may edit a job's tags, note or retention date.");
    }
    await this.jobs.getFor(req.principal, id);
    const actor = keyActor(req.principal);
    // Edits first (a bad field refuses the request before anything moves); a priority refused after them
    // (409 JOB_NOT_QUEUED) leaves the saved edits in place.
    if (editing) await this.edits.edit(id, edits, actor);
    if (priority !== undefined) await this.priorities.setPriority(id, priority, actor);
    const { job, pages } = await this.jobs.statusFor(req.principal, id);
    return toJobView(this.jobs, job, pages);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: JobView, description: 'Cancellation requested; the job ends `cancelled`.' })
  @ApiErrors(403, 404, 409, 503)
  async cancel(@Req() req: AuthedRequest, @Param('id', jobIdPipe) id: string): Promise<JobView> {
    await this.jobs.getFor(req.principal, id);
    await this.control.cancel(id, keyActor(req.principal));
    const job = await this.jobs.get(id);
    return toJobView(this.jobs, job, await this.jobs.pageStates(id));
  }

  @Post(':id/password')
  @HttpCode(202)
  @ApiBody({ type: PasswordBody })
  @ApiAcceptedResponse({
    type: JobView,
    description:
      'The password opens the document: processing resumes. 422 PDF_PASSWORD_INCORRECT when it does not (the ' +
      'job keeps waiting); 409 JOB_NOT_WAITING_FOR_PASSWORD when the job is not in `needs_password`.',
  })
  @ApiErrors(400, 403, 404, 409, 422, 503)
  async password(
    @Req() req: AuthedRequest,
    @Param('id', jobIdPipe) id: string,
    @Body() body: PasswordBody,
  ): Promise<JobView> {
    await this.jobs.getFor(req.principal, id);
    await this.control.providePassword(id, body.password, keyActor(req.principal));
    const job = await this.jobs.get(id);
    return toJobView(this.jobs, job, await this.jobs.pageStates(id));
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiBody({ type: RetryBody, required: false })
  @ApiAcceptedResponse({ type: RetryStartedView })
  @ApiErrors(400, 403, 404, 409, 503)
  async retry(
    @Req() req: AuthedRequest,
    @Param('id', jobIdPipe) id: string,
    // The class itself (not `RetryBody | undefined`, whose emitted type is Object) so the validation
    // pipe checks it; a missing body arrives as {}.
    @Body() body: RetryBody,
  ): Promise<RetryStartedView> {
    await this.jobs.getFor(req.principal, id);
    // JSON null means "not given" (class-validator's IsOptional lets it through).
    const started = await this.control.retry(
      id,
      {
        ocrMode: body.ocrMode ?? undefined,
        pages: body.pages ?? undefined,
      },
      keyActor(req.principal),
    );
    const job = await this.jobs.get(id);
    return {
      jobId: id,
      status: job.status,
      pages: started.pages,
      workflowId: started.workflowId,
      links: this.jobs.links(job),
    };
  }
}
