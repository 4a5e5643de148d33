import { Inject, Injectable } from '@nestjs/common';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels, Job } from '../../core/db/models.js';
import { recordAudit, type AuditActor } from '../../core/audit.js';
import { parseTags, tagsProblem } from '../../core/tags.js';
import { ApiError } from '../common/errors.js';
import { JobsService } from './jobs.service.js';

/** What an operator or an admin key may change on a job besides its course: labels, a note, its retention. */
export interface JobEdits {
  /** Replaces the job's tags; an array or one comma/space-separated string. */
  tags?: unknown;
  /** Replaces the note; '' or null clears it. */
  note?: string | null;
  /** Keep the job (its file) until then instead of the cleanup schedule's retention; null: the default again. */
  retainUntil?: Date | string | null;
}

export const MAX_NOTE_CHARS = 2000;

/** The edited fields as the audit and the views show them. */
function editable(job: Job): Record<string, unknown> {
  return { tags: [...job.tags], note: job.note, retainUntil: job.retainUntil?.toISOString() ?? null };
}

/**
 * Tags, note and retention date of a job: checked, saved and audited (before and after) in one place, for
 * PATCH /v1/jobs/{id} and the panel's edit form alike. Priority is edited elsewhere (it changes the
 * workflow's scheduling, not only the row).
 */
@Injectable()
export class JobEditsService {
  constructor(
    @Inject(APP_MODELS) private readonly models: AppModels,
    private readonly jobs: JobsService,
  ) {}

  /** Validates every field first (nothing is saved when one is wrong), then saves and audits the change. */
  async edit(jobId: string, edits: JobEdits, actor: AuditActor): Promise<Job> {
    const changes: Partial<Pick<Job, 'tags' | 'note' | 'retainUntil'>> = {};
    if (edits.tags !== undefined) {
      const tags = parseTags(edits.tags);
      const problem = tagsProblem(tags);
      if (problem) throw new ApiError('TAGS_INVALID', `${problem[0]!.toUpperCase()}${problem.slice(1)}.`);
      changes.tags = tags;
    }
    if (edits.note !== undefined) {
      const note = edits.note === null ? '' : String(edits.note).trim();
      if (note.length > MAX_NOTE_CHARS) {
        throw new ApiError('NOTE_TOO_LONG', `The note has ${note.length} characters; at most ${MAX_NOTE_CHARS}.`);
      }
      changes.note = note === '' ? null : note;
    }
    if (edits.retainUntil !== undefined) {
      const raw = edits.retainUntil;
      const date = raw === null || raw === '' ? null : raw instanceof Date ? raw : new Date(raw);
      if (date !== null && Number.isNaN(date.getTime())) {
        throw new ApiError(
          'RETAIN_UNTIL_INVALID',
          'retainUntil must be an ISO 8601 date-time (e.g. 2027-01-31T00:00:00Z), or null for the default retention.',
        );
      }
      changes.retainUntil = date;
    }
    const job = await this.jobs.get(jobId);
    const before = editable(job);
    if (Object.keys(changes).length === 0) return job;
    await job.update(changes);
    const after = editable(job);
    const changed = Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (changed.length > 0) {
      await recordAudit(this.models, actor, {
        action: 'job.edit',
        targetType: 'job',
        targetId: jobId,
        before: Object.fromEntries(changed.map((k) => [k, before[k]])),
        after: Object.fromEntries(changed.map((k) => [k, after[k]])),
      });
    }
    return job;
  }
}
