/**
 * The jobs resource's own behaviour in the panel: figures for the list and the job page, the tag filter,
 * creating a job by upload, editing tags/note/retention, and the Temporal timeline. The resource's
 * wiring (which properties, which actions) stays in resources.ts.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type * as Adminjs from 'adminjs';
import type { ActionContext, ActionRequest, ActionResponse, Filter } from 'adminjs';
import type { Client } from '@temporalio/client';
import { Op, QueryTypes, type Sequelize } from 'sequelize';
import { operatorActor, recordAudit } from '../../core/audit.js';
import type { AppModels } from '../../core/db/models.js';
import { FINISHED_STATUSES } from '../../core/lifecycle.js';
import { parseTags } from '../../core/tags.js';
import { ApiError } from '../common/errors.js';
import type { Principal } from '../auth/api-keys.service.js';
import type { DocumentsService } from '../documents/documents.service.js';
import type { JobEditsService } from '../jobs/job-edits.service.js';
import type { JobPriorityService } from '../jobs/job-priority.service.js';
import { jobTimeline } from './timeline.js';

/** What the job panel needs beyond the models. */
export interface JobPanelDeps {
  models: AppModels;
  documents: DocumentsService;
  edits: JobEditsService;
  priorities: JobPriorityService;
  temporal: Client;
  maxUploadBytes: number;
}

/** What an operator should read for a failed action: the API's code and message where there is one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const body = err.getResponse() as { error: { code: string; message: string } };
    return `${body.error.code}: ${body.error.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

type Params = Record<string, unknown>;
/** A form or record value as text; anything but a string, number or date is no value. */
const textOf = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : v instanceof Date ? v.toISOString() : undefined;
const recordsOf = (response: ActionResponse): { params: Params }[] =>
  (response.records ?? (response.record ? [response.record] : [])) as { params: Params }[];

/** "1 min 5 s" style, for the list's duration column. */
export function formatDuration(ms: number | null): string {
  if (ms === null || ms < 0) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Adds what an operator reads at a glance to each job record: pages done/total with the percentage,
 * failed pages and the duration (so far, while running); with `pages`, the per-page table as JSON.
 */
export async function addJobFigures(db: Sequelize, response: ActionResponse, pages = false): Promise<ActionResponse> {
  const records = recordsOf(response);
  const ids = records.map((r) => String(r.params.id));
  if (ids.length === 0) return response;
  const rows = await db.query<{ job_id: string; done: string; failed: string; total: string }>(
    `SELECT job_id, count(*) FILTER (WHERE status = 'done') AS done, count(*) FILTER (WHERE status = 'failed') AS failed,
            count(*) AS total
       FROM job_pages WHERE job_id IN (:ids) GROUP BY job_id`,
    { type: QueryTypes.SELECT, replacements: { ids } },
  );
  const byJob = new Map(rows.map((r) => [r.job_id, r]));
  for (const r of records) {
    const p = r.params;
    const counts = byJob.get(String(p.id));
    const done = Number(counts?.done ?? 0);
    const failed = Number(counts?.failed ?? 0);
    const total = Number(p.pagesSelected ?? p.pageCount ?? counts?.total ?? 0);
    const finished = (FINISHED_STATUSES as readonly string[]).includes(String(p.status));
    const percent = total === 0 ? (finished ? 100 : 0) : Math.floor(((done + failed) / total) * 100);
    p.progress = total === 0 ? `${percent}%` : `${done}/${total} (${percent}%)`;
    p.progressPercent = percent;
    p.failedPages = failed;
    const startedText = textOf(p.startedAt);
    const finishedText = textOf(p.finishedAt);
    const started = startedText ? new Date(startedText).getTime() : null;
    const ended = finishedText ? new Date(finishedText).getTime() : finished ? null : Date.now();
    p.duration = started !== null && ended !== null ? formatDuration(ended - started) : '';
    // The params are flattened (tags.0, tags.1, …): the tags as one text for the chips.
    p.tagsText = Object.keys(p)
      .filter((k) => /^tags\.\d+$/.test(k))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
      .map((k) => textOf(p[k]) ?? '')
      .join(',');
  }
  if (pages) {
    const [r] = records;
    if (r) {
      const table = await db.query<{
        page_number: number;
        status: string;
        method: string | null;
        attempts: number;
        duration_ms: number | null;
        error_code: string | null;
        error_message: string | null;
      }>(
        `SELECT page_number, status, method, attempts, duration_ms, error_code, error_message
           FROM job_pages WHERE job_id = :id ORDER BY page_number`,
        { type: QueryTypes.SELECT, replacements: { id: r.params.id } },
      );
      r.params.pageTable = JSON.stringify(
        table.map((t) => ({
          page: t.page_number,
          status: t.status,
          method: t.method,
          attempts: t.attempts,
          durationMs: t.duration_ms,
          error: t.error_code ? `${t.error_code}: ${t.error_message ?? ''}` : null,
        })),
      );
      // The record's params are flattened (options.languages.0, …): the options as stored, whole.
      const [row] = await db.query<{ options: unknown }>('SELECT options FROM jobs WHERE id = :id', {
        type: QueryTypes.SELECT,
        replacements: { id: r.params.id },
      });
      r.params.optionsText = JSON.stringify(row?.options ?? {}, null, 2);
    }
  }
  return response;
}

/**
 * The Sequelize resource of jobs with a working tag filter: `filters.tags=a,b` lists jobs carrying every
 * tag (containment on the GIN-indexed array), where the adapter would compare an array with LIKE.
 */
export function jobResource(Base: typeof Adminjs.BaseResource, model: unknown): Adminjs.BaseResource {
  const Resource = Base as unknown as new (model: unknown) => Adminjs.BaseResource;
  class JobResource extends Resource {
    private withTags(filter: Filter): Filter {
      const tagFilter = filter?.filters?.tags;
      if (!tagFilter) return filter;
      const tags = parseTags(tagFilter.value);
      // The adapter passes a 'mixed' property's value through as the where clause of its column.
      filter.filters.tags = {
        ...tagFilter,
        property: { ...tagFilter.property, type: () => 'mixed', name: () => 'tags' } as never,
        value: { [Op.contains]: tags } as never,
      };
      return filter;
    }
    override count(filter: Filter, context?: ActionContext) {
      return super.count(this.withTags(filter), context);
    }
    override find(filter: Filter, options: Parameters<Adminjs.BaseResource['find']>[1], context?: ActionContext) {
      return super.find(this.withTags(filter), options, context);
    }
  }
  return new JobResource(model);
}

/**
 * The edit action: tags (as one comma-separated field), note and retention date, saved through JobEditsService,
 * and the priority through JobPriorityService.
 */
export function jobEditHandler(deps: JobPanelDeps) {
  return async (request: ActionRequest, _res: unknown, ctx: ActionContext): Promise<ActionResponse> => {
    const record = ctx.record!;
    const id = String(record.id());
    const toJson = async () => {
      const fresh = (await ctx.resource.findOne(id)) ?? record;
      const json = fresh.toJSON(ctx.currentAdmin);
      const tags = (await deps.models.Job.findByPk(id))?.tags ?? [];
      json.params.tagList = tags.join(', ');
      return json;
    };
    if (request.method !== 'post') return { record: await toJson() };
    const payload = (request.payload ?? {}) as Params;
    try {
      const actor = operatorActor(ctx.currentAdmin);
      await deps.edits.edit(
        id,
        {
          tags: textOf(payload.tagList) ?? '',
          note: textOf(payload.note),
          retainUntil: textOf(payload.retainUntil),
        },
        actor,
      );
      // Priority through its own service (it moves the workflow's waiting pages), and only when changed: a
      // finished job's tags stay editable while its priority no longer can be.
      const priority = textOf(payload.priority);
      const job = await deps.models.Job.findByPk(id);
      if (priority !== undefined && job && Number(priority) !== job.priority) {
        await deps.priorities.setPriority(id, Number(priority), actor);
      }
    } catch (err) {
      return { record: await toJson(), notice: { message: errorText(err), type: 'error' } };
    }
    return {
      record: await toJson(),
      redirectUrl: ctx.h.recordActionUrl({ resourceId: ctx.resource.id(), recordId: id, actionName: 'show' }),
      notice: { message: 'Saved; the change is in the audit log.', type: 'success' },
    };
  };
}

/** The timeline action: the job's Temporal histories as rows (the component asks for it with a GET). */
export function jobTimelineHandler(deps: JobPanelDeps) {
  return async (_req: ActionRequest, _res: unknown, ctx: ActionContext): Promise<ActionResponse> => {
    const record = ctx.record!;
    const job = await deps.models.Job.findByPk(String(record.id()));
    if (!job) return { record: record.toJSON(ctx.currentAdmin), notice: { message: 'No such job.', type: 'error' } };
    try {
      return { record: record.toJSON(ctx.currentAdmin), timeline: await jobTimeline(deps.temporal, job) };
    } catch (err) {
      return { record: record.toJSON(ctx.currentAdmin), notice: { message: errorText(err), type: 'error' } };
    }
  };
}

/** A file as the panel's multipart parser (formidable 1) leaves it on disk. */
interface ParsedFile {
  path: string;
  name?: string | null;
  size: number;
}
const isParsedFile = (v: unknown): v is ParsedFile =>
  typeof v === 'object' && v !== null && typeof (v as ParsedFile).path === 'string';

/** Text fields of the upload form that the API's multipart form takes too. */
const OPTION_FIELDS = ['languages', 'pages', 'ocrMode', 'callbackUrl', 'password'] as const;

/**
 * Creating a job from the panel (the resource's `new` action, with its own form). GET: what the form
 * offers (active API keys to submit on behalf of, the size limit). POST: the uploaded file goes through
 * DocumentsService.submitStream, the API's own path: typed by content, options validated, deduplicated,
 * stored, its workflow started. Without a chosen key the job belongs to no key and records the operator
 * in created_by; with one, it is that client's job (its in-flight cap, dedupe scope and webhook secret).
 */
export function jobUploadHandler(deps: JobPanelDeps) {
  return async (request: ActionRequest, _res: unknown, ctx: ActionContext): Promise<ActionResponse> => {
    if (request.method !== 'post') {
      const keys = await deps.models.ApiKey.findAll({
        where: { revokedAt: null },
        attributes: ['id', 'name', 'role'],
        order: [['name', 'ASC']],
      });
      return { keys: keys.map((k) => ({ id: k.id, name: k.name, role: k.role })), maxUploadBytes: deps.maxUploadBytes };
    }
    const payload = (request.payload ?? {}) as Params;
    const file = payload.file;
    const actor = operatorActor(ctx.currentAdmin);
    try {
      if (!isParsedFile(file)) {
        throw new ApiError('FILE_REQUIRED', 'Choose a PDF or image to upload.');
      }
      if (file.size > deps.maxUploadBytes) {
        throw new ApiError(
          'UPLOAD_TOO_LARGE',
          `The file is larger than the limit of ${deps.maxUploadBytes} bytes (MAX_UPLOAD_BYTES).`,
        );
      }
      const fields: Record<string, string> = {};
      for (const name of OPTION_FIELDS) {
        const value = payload[name];
        if (typeof value === 'string' && value.trim() !== '') fields[name] = value.trim();
      }
      let principal: Principal = { apiKeyId: null, role: 'admin', name: actor.name };
      const keyId = typeof payload.apiKeyId === 'string' ? payload.apiKeyId.trim() : '';
      if (keyId) {
        const key = await deps.models.ApiKey.findOne({ where: { id: keyId, revokedAt: null } });
        if (!key) throw new ApiError('VALIDATION_FAILED', 'The chosen API key does not exist or is revoked.');
        principal = { apiKeyId: key.id, role: key.role, name: key.name };
      }
      const { job, duplicateOf } = await deps.documents.submitStream(
        principal,
        randomUUID(),
        createReadStream(file.path),
        file.name ?? null,
        fields,
      );
      if (!duplicateOf) {
        await job.update({ createdBy: actor.name });
        await recordAudit(deps.models, actor, {
          action: 'job.create',
          targetType: 'job',
          targetId: job.id,
          after: {
            filename: job.filename,
            sizeBytes: job.sizeBytes,
            options: job.options as unknown as Params,
            apiKeyId: job.apiKeyId,
            callbackUrl: job.callbackUrl,
          },
        });
      }
      return {
        jobId: job.id,
        redirectUrl: ctx.h.recordActionUrl({ resourceId: ctx.resource.id(), recordId: job.id, actionName: 'show' }),
        notice: {
          message: duplicateOf
            ? `The same document with the same options is already job ${duplicateOf}: it joined that job.`
            : `Job ${job.id} created; its workflow has started.`,
          type: 'success',
        },
      };
    } catch (err) {
      return { notice: { message: errorText(err), type: 'error' } };
    } finally {
      if (isParsedFile(file)) await unlink(file.path).catch(() => undefined);
    }
  };
}
