import { Inject, Injectable, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { JobsService } from './jobs.service.js';
import { jobError } from './jobs.views.js';

/**
 * A job's progress as Server-Sent Events. The stream polls the app DB (SSE_POLL_MS) rather than
 * LISTEN/NOTIFY: the page activity runs in other processes and writes the DB anyway, polling needs no
 * dedicated connection per stream or extra writes in the activity, and one indexed query per interval per
 * open stream is cheap. Events: `page` (each page as it finishes or fails; already finished pages first),
 * `progress` (when counts or step change), `needs_password` (each time the job starts waiting for a password,
 * with the reason and where to POST it), and a last `end` with the final status, after which it closes.
 */
@Injectable()
export class JobEventsService {
  constructor(
    private readonly jobs: JobsService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  stream(jobId: string): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      let open = true;
      const seen = new Map<number, string>();
      let lastProgress = '';
      let lastStatus = '';
      const tick = async (): Promise<void> => {
        const job = await this.jobs.get(jobId);
        const pages = await this.jobs.pageStates(jobId);
        for (const p of pages) {
          if ((p.status !== 'done' && p.status !== 'failed') || seen.get(p.pageNumber) === p.status) continue;
          seen.set(p.pageNumber, p.status);
          subscriber.next({
            type: 'page',
            data: {
              number: p.pageNumber,
              status: p.status,
              method: p.method,
              error: p.errorCode ? { code: p.errorCode, message: p.errorMessage ?? '' } : null,
            },
          });
        }
        const counts = this.jobs.counts(job, pages);
        const progress = {
          status: job.status,
          step: job.step,
          percent: this.jobs.percent(job, counts),
          pagesTotal: counts.total,
          pagesDone: counts.done,
          pagesFailed: counts.failed,
        };
        if (job.status === 'needs_password' && lastStatus !== job.status) {
          subscriber.next({
            type: 'needs_password',
            data: { error: jobError(job), passwordUrl: `/v1/jobs/${jobId}/password` },
          });
        }
        lastStatus = job.status;
        const key = JSON.stringify(progress);
        if (key !== lastProgress) {
          lastProgress = key;
          subscriber.next({ type: 'progress', data: progress });
        }
        if (this.jobs.isFinished(job)) {
          subscriber.next({ type: 'end', data: { ...progress, error: jobError(job) } });
          subscriber.complete();
          open = false;
        }
      };
      const loop = async (): Promise<void> => {
        while (open) {
          await tick();
          if (open) await new Promise((r) => setTimeout(r, this.config.ssePollMs));
        }
      };
      loop().catch((err: unknown) => subscriber.error(err));
      return () => {
        open = false;
      };
    });
  }
}
