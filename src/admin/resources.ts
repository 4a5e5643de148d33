import type * as Adminjs from 'adminjs';
import type {
  Action,
  ActionContext,
  ActionRequest,
  ActionResponse,
  RecordActionResponse,
  ResourceWithOptions,
} from 'adminjs';
import { ApiError } from '../common/errors.js';
import type { AppModels } from '../../core/db/models.js';
import type { LegacyModels } from '../legacy/models.js';
import type { JobControlService } from '../jobs/job-control.service.js';
import type { JobsService } from '../jobs/jobs.service.js';
import { randomUUID } from 'node:crypto';
import { generateApiKey, type ApiKeysService } from '../auth/api-keys.service.js';
import { hashPassword } from './operators.service.js';
import { PANEL_ROOT, panelResultPath } from './panel-results.controller.js';
import { passwordProblem } from '../config/operator-password.js';
import { ACTIVE_STATUSES, JOB_STATUSES, RETRYABLE_STATUSES } from '../../core/lifecycle.js';
import { auditSnapshot, operatorActor, recordAudit } from '../../core/audit.js';
import {
  addJobFigures,
  jobEditHandler,
  jobResource,
  jobTimelineHandler,
  jobUploadHandler,
  type JobPanelDeps,
} from './job-panel.js';

/** What the resource definitions need from the rest of the app. */
export interface ResourceDeps {
  adminjs: typeof Adminjs;
  models: AppModels;
  legacy: LegacyModels;
  control: JobControlService;
  jobs: JobsService;
  /** Revokes through the API's own key service, so this process stops accepting the key at once. */
  keys: ApiKeysService;
  components: {
    workflowLink: string;
    resultLinks: string;
    jobStatus: string;
    jobTags: string;
    jobProgress: string;
    jobPages: string;
    jobOptions: string;
    jobTimeline: string;
    jobUpload: string;
    auditChange: string;
  };
  /** Upload, edit and timeline of jobs. */
  jobPanel: JobPanelDeps;
  /** The Sequelize adapter's resource class, which the jobs resource extends with its tag filter. */
  SequelizeResource: typeof Adminjs.BaseResource;
}

/** Nothing is ever deleted from the panel: both actions are hidden and refused by the server. */
const noDelete = {
  delete: { isAccessible: false, isVisible: false },
  bulkDelete: { isAccessible: false, isVisible: false },
} as const;
const readOnly = { new: { isAccessible: false }, edit: { isAccessible: false } } as const;

const newJobs = { name: 'Folio jobs', icon: 'Activity' };
const oldJobs = { name: 'Legacy service', icon: 'Archive' };
const access = { name: 'Access', icon: 'Users' };

/** What an operator should read for a failed action: the API's code and message where there is one. */
function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const body = err.getResponse() as { error: { code: string; message: string } };
    return `${body.error.code}: ${body.error.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A record action that calls the job control service and reports its outcome as a notice. */
function jobAction(
  run: (jobId: string, ctx: ActionContext) => Promise<void>,
  question: string,
  success: string,
  visibleFor: readonly string[],
): Partial<Action<ActionResponse>> {
  return {
    actionType: 'record',
    component: false,
    guard: question,
    isVisible: ({ record }: ActionContext) => visibleFor.includes(String(record?.param('status'))),
    handler: async (_req: ActionRequest, _res: unknown, ctx: ActionContext): Promise<RecordActionResponse> => {
      const record = ctx.record!;
      try {
        await run(String(record.id()), ctx);
        return { record: record.toJSON(ctx.currentAdmin), notice: { message: success, type: 'success' } };
      } catch (err) {
        return { record: record.toJSON(ctx.currentAdmin), notice: { message: errorText(err), type: 'error' } };
      }
    },
  };
}

/** The panel's resources: app jobs, pages and operators, and the legacy service's jobs. */
export function buildResources(d: ResourceDeps): ResourceWithOptions[] {
  const { Job, JobPage, Operator, ApiKey, WebhookDelivery, AuditEvent } = d.models;
  const db = Job.sequelize!;
  const actorOf = (ctx: ActionContext) => operatorActor(ctx.currentAdmin);
  const operatorFields = ['email', 'name', 'disabled'];
  const { ValidationError } = d.adminjs;

  // Adds the Temporal UI link to every record the list and show actions return.
  const withWorkflowLink = (response: ActionResponse): ActionResponse => {
    const records = (response.records ?? (response.record ? [response.record] : [])) as {
      params: Record<string, unknown>;
    }[];
    for (const r of records) {
      const job = Job.build({ workflowId: String(r.params.workflowId) } as never);
      r.params.workflowUrl = d.jobs.links(job).workflow;
      r.params.results = panelResultPath(PANEL_ROOT, String(r.params.id));
    }
    return response;
  };

  // The hash is hidden in the UI; this keeps it out of the panel's JSON responses as well.
  const withoutPasswordHash = (response: ActionResponse): ActionResponse => {
    const records = (response.records ?? (response.record ? [response.record] : [])) as {
      params: Record<string, unknown>;
    }[];
    for (const r of records) delete r.params.passwordHash;
    return response;
  };

  // Operators' passwords are set through a virtual field and stored only as a bcrypt hash.
  const hashPasswordField = async (request: ActionRequest): Promise<ActionRequest> => {
    if (request.method !== 'post' || !request.payload) return request;
    const { password, ...rest } = request.payload as Record<string, unknown>;
    if (typeof password === 'string' && password !== '') {
      const problem = passwordProblem(password);
      if (problem) throw new ValidationError({ password: { message: `Too weak: ${problem}.` } });
      return { ...request, payload: { ...rest, passwordHash: await hashPassword(password) } };
    }
    return { ...request, payload: rest };
  };
  const requirePassword = async (request: ActionRequest): Promise<ActionRequest> => {
    if (request.method === 'post' && !request.payload?.password) {
      throw new ValidationError({ password: { message: 'A new operator needs a password.' } });
    }
    return hashPasswordField(request);
  };

  // Not even the hash of a key leaves the server.
  const withoutKeyHash = (response: ActionResponse): ActionResponse => {
    const records = (response.records ?? (response.record ? [response.record] : [])) as {
      params: Record<string, unknown>;
    }[];
    for (const r of records) delete r.params.keyHash;
    return response;
  };

  // Operators created or changed in the panel go to the audit log (a new password as a flag, never a hash).
  type AuditContext = ActionContext & { auditBefore?: Record<string, unknown>; passwordChanged?: boolean };
  const notePassword = (request: ActionRequest, ctx: ActionContext) => {
    const password = (request.payload as Record<string, unknown> | undefined)?.password;
    (ctx as AuditContext).passwordChanged = typeof password === 'string' && password !== '';
  };
  const beforeOperatorNew = (request: ActionRequest, ctx: ActionContext): Promise<ActionRequest> => {
    notePassword(request, ctx);
    return requirePassword(request);
  };
  const beforeOperatorEdit = (request: ActionRequest, ctx: ActionContext): Promise<ActionRequest> => {
    if (request.method === 'post' && ctx.record) {
      (ctx as AuditContext).auditBefore = auditSnapshot(ctx.record.params, operatorFields);
    }
    notePassword(request, ctx);
    return hashPasswordField(request);
  };
  const auditOperator =
    (action: 'operator.create' | 'operator.edit') =>
    async (response: ActionResponse, request: ActionRequest, ctx: ActionContext): Promise<ActionResponse> => {
      const record = response.record as { params?: Record<string, unknown>; errors?: Record<string, unknown> };
      if (request.method === 'post' && record?.params && Object.keys(record.errors ?? {}).length === 0) {
        const before = (ctx as AuditContext).auditBefore ?? null;
        const after = auditSnapshot(record.params, operatorFields);
        if ((ctx as AuditContext).passwordChanged) after.passwordChanged = true;
        await recordAudit(d.models, actorOf(ctx), {
          action,
          targetType: 'operator',
          targetId: String(record.params.id),
          before,
          after,
        });
      }
      return withoutPasswordHash(response);
    };

  // The before and after JSON as one text for the list and the page (flattened params are hard to read).
  const withAuditChange = async (response: ActionResponse): Promise<ActionResponse> => {
    const records = (response.records ?? (response.record ? [response.record] : [])) as {
      id: string;
      params: Record<string, unknown>;
    }[];
    const rows = await AuditEvent.findAll({ where: { id: records.map((r) => r.params.id as number) } });
    const byId = new Map(rows.map((r) => [String(r.id), r]));
    for (const r of records) {
      const row = byId.get(String(r.params.id));
      if (!row) continue;
      for (const key of Object.keys(r.params)) if (/^(before|after)\./.test(key)) delete r.params[key];
      r.params.change = JSON.stringify({ before: row.before, after: row.after });
    }
    return response;
  };

  // The merged list's marker (GET /api/v1/jobs' `source`): a legacy row whose job id is a Folio job is the mirror's.
  const withSource = async (response: ActionResponse): Promise<ActionResponse> => {
    const records = (response.records ?? (response.record ? [response.record] : [])) as {
      params: Record<string, unknown>;
    }[];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const ids = records.map((r) => String(r.params.jobId)).filter((id) => uuid.test(id));
    const folio = new Set(
      ids.length ? (await Job.findAll({ attributes: ['id'], where: { id: ids } })).map((j) => j.id) : [],
    );
    for (const r of records) r.params.source = folio.has(String(r.params.jobId)) ? 'folio' : 'legacy';
    return response;
  };

  return [
    {
      resource: jobResource(d.SequelizeResource, Job),
      options: {
        id: 'jobs',
        navigation: newJobs,
        sort: { sortBy: 'createdAt', direction: 'desc' },
        listProperties: [
          'id',
          'filename',
          'status',
          'priority',
          'progress',
          'failedPages',
          'duration',
          'tags',
          'errorCode',
          'createdAt',
        ],
        filterProperties: ['status', 'filename', 'tags', 'priority', 'errorCode', 'sha256', 'createdBy', 'createdAt'],
        showProperties: [
          'id',
          'filename',
          'status',
          'priority',
          'progress',
          'duration',
          'tags',
          'note',
          'retainUntil',
          'createdBy',
          'apiKeyId',
          'workflowUrl',
          'results',
          'optionsText',
          'pageTable',
          'pageCount',
          'pagesSelected',
          'sizeBytes',
          'sha256',
          'errorCode',
          'errorMessage',
          'errorPage',
          'createdAt',
          'startedAt',
          'finishedAt',
          'archivedAt',
        ],
        editProperties: ['tagList', 'note', 'retainUntil', 'priority'],
        properties: {
          priority: {
            availableValues: [1, 2, 3, 4, 5].map((n) => ({
              value: String(n),
              label: n === 1 ? '1 (most urgent)' : n === 5 ? '5 (least urgent)' : String(n),
            })),
          },
          status: {
            availableValues: JOB_STATUSES.map((s) => ({ value: s, label: s })),
            components: { list: d.components.jobStatus, show: d.components.jobStatus },
          },
          progress: {
            type: 'string',
            isVisible: { list: true, filter: false, show: true, edit: false },
            components: { list: d.components.jobProgress, show: d.components.jobProgress },
          },
          failedPages: { type: 'number', isVisible: { list: true, filter: false, show: false, edit: false } },
          duration: { type: 'string', isVisible: { list: true, filter: false, show: true, edit: false } },
          tags: {
            // One text box in the filter drawer (AdminJS draws none for arrays); list and page use the chips.
            isArray: false,
            type: 'string',
            description: 'Filter: one tag, or several separated by commas (every one must match)',
            components: { list: d.components.jobTags, show: d.components.jobTags },
          },
          tagList: {
            type: 'string',
            description: 'Separated by commas; letters, digits and - _ . : /',
            isVisible: { list: false, filter: false, show: false, edit: true },
          },
          note: { type: 'textarea' },
          retainUntil: {
            type: 'datetime',
            description:
              "Keep the job's file until then instead of the cleanup schedule's retention (empty: the default)",
          },
          createdBy: { isVisible: { list: false, filter: true, show: true, edit: false } },
          optionsText: {
            type: 'string',
            isVisible: { list: false, filter: false, show: true, edit: false },
            components: { show: d.components.jobOptions },
          },
          pageTable: {
            type: 'string',
            isVisible: { list: false, filter: false, show: true, edit: false },
            components: { show: d.components.jobPages },
          },
          workflowUrl: {
            type: 'string',
            isVisible: { list: false, filter: false, show: true, edit: false },
            components: { show: d.components.workflowLink },
          },
          results: {
            type: 'string',
            isVisible: { list: false, filter: false, show: true, edit: false },
            components: { show: d.components.resultLinks },
          },
          storageKey: { isVisible: false },
          // Sealed, but still nothing an operator needs to see.
          passwordSealed: { isVisible: false },
        },
        actions: {
          ...noDelete,
          // Create: the upload form, through the API's own submission path.
          new: { component: d.components.jobUpload, handler: jobUploadHandler(d.jobPanel) },
          edit: { handler: jobEditHandler(d.jobPanel) },
          list: { after: (response: ActionResponse) => addJobFigures(db, response) },
          show: {
            after: async (response: ActionResponse) => withWorkflowLink(await addJobFigures(db, response, true)),
          },
          timeline: {
            actionType: 'record',
            icon: 'Clock',
            component: d.components.jobTimeline,
            handler: jobTimelineHandler(d.jobPanel),
          },
          cancel: jobAction(
            (id, ctx) => d.control.cancel(id, actorOf(ctx)),
            'Cancel this job? Pages already done are kept.',
            'Cancellation requested.',
            ACTIVE_STATUSES,
          ),
          retryFailedPages: jobAction(
            async (id, ctx) => {
              await d.control.retry(id, {}, actorOf(ctx));
            },
            "Re-run this job's failed pages?",
            'Retry of the failed pages started.',
            RETRYABLE_STATUSES,
          ),
        },
      },
    },
    {
      resource: JobPage,
      options: {
        id: 'job_pages',
        navigation: newJobs,
        listProperties: ['jobId', 'pageNumber', 'status', 'method', 'confidence', 'attempts', 'errorCode'],
        filterProperties: ['jobId', 'status', 'method', 'errorCode'],
        properties: {
          words: { isVisible: false },
          text: { isVisible: { list: false, show: true, edit: false, filter: false } },
        },
        actions: { ...noDelete, ...readOnly },
      },
    },
    {
      resource: Operator,
      options: {
        id: 'operators',
        navigation: access,
        listProperties: ['email', 'name', 'disabled', 'lastLoginAt', 'createdAt'],
        properties: {
          passwordHash: { isVisible: false },
          id: { isVisible: { list: false, show: true, edit: false, filter: false } },
          lastLoginAt: { isVisible: { list: true, show: true, edit: false, filter: true } },
          password: { type: 'password', isVisible: { list: false, show: false, edit: true, filter: false } },
        },
        actions: {
          ...noDelete,
          new: { before: beforeOperatorNew, after: auditOperator('operator.create') },
          edit: { before: beforeOperatorEdit, after: auditOperator('operator.edit') },
          list: { after: withoutPasswordHash },
          show: { after: withoutPasswordHash },
          search: { after: withoutPasswordHash },
        },
      },
    },
    {
      resource: ApiKey,
      options: {
        id: 'api_keys',
        navigation: access,
        sort: { sortBy: 'createdAt', direction: 'desc' },
        listProperties: ['name', 'role', 'prefix', 'createdAt', 'lastUsedAt', 'revokedAt'],
        showProperties: [
          'name',
          'role',
          'prefix',
          'webhookUrl',
          'webhookSecretRotatedAt',
          'createdAt',
          'lastUsedAt',
          'revokedAt',
        ],
        editProperties: ['name', 'role'],
        properties: {
          keyHash: { isVisible: false },
          webhookSecretSealed: { isVisible: false },
          webhookSecretPreviousSealed: { isVisible: false },
          role: {
            availableValues: [
              { value: 'client', label: 'client (its own jobs)' },
              { value: 'admin', label: 'admin (all jobs)' },
            ],
          },
        },
        actions: {
          ...noDelete,
          // Keys are immutable once issued: revoke and issue a new one instead.
          edit: { isAccessible: false, isVisible: false },
          new: {
            // The key is made here; only its SHA-256 and prefix are stored, the key is shown once.
            before: (request: ActionRequest, context: ActionContext): ActionRequest => {
              if (request.method !== 'post') return request;
              const payload = (request.payload ?? {}) as Record<string, unknown>;
              const role = payload.role === 'admin' ? 'admin' : 'client';
              const { key, prefix, keyHash } = generateApiKey();
              (context as ActionContext & { issuedKey?: string }).issuedKey = key;
              return { ...request, payload: { ...payload, role, id: randomUUID(), prefix, keyHash } };
            },
            after: async (response: ActionResponse, _req: ActionRequest, context: ActionContext) => {
              const key = (context as ActionContext & { issuedKey?: string }).issuedKey;
              const record = response.record as { params?: Record<string, unknown>; errors?: Record<string, unknown> };
              if (record?.params) delete record.params.keyHash;
              if (key && record && Object.keys(record.errors ?? {}).length === 0) {
                await recordAudit(d.models, actorOf(context), {
                  action: 'api_key.issue',
                  targetType: 'api_key',
                  targetId: String(record.params?.id),
                  after: auditSnapshot(record.params ?? {}, ['name', 'role', 'prefix']),
                });
                response.notice = {
                  message: `API key created. Copy it now, it is not shown again: ${key}`,
                  type: 'success',
                };
              }
              return response;
            },
          },
          list: { after: withoutKeyHash },
          show: { after: withoutKeyHash },
          search: { after: withoutKeyHash },
          revoke: {
            ...jobAction(
              async (id, ctx) => {
                await d.keys.revoke(id, actorOf(ctx));
              },
              'Revoke this key? Clients using it get 401 from now on; the record stays.',
              'Key revoked.',
              [],
            ),
            isVisible: ({ record }: ActionContext) => !record?.param('revokedAt'),
            icon: 'Slash',
          },
          rotateWebhookSecret: {
            actionType: 'record',
            component: false,
            icon: 'RefreshCw',
            guard:
              'Issue a new webhook signing secret? It is shown once; the old one keeps signing beside it for WEBHOOK_SECRET_OVERLAP_SECONDS.',
            isVisible: ({ record }: ActionContext) => !record?.param('revokedAt'),
            handler: async (_req: ActionRequest, _res: unknown, ctx: ActionContext): Promise<RecordActionResponse> => {
              const record = ctx.record!;
              try {
                const rotated = await d.keys.rotateWebhookSecret(String(record.id()), actorOf(ctx));
                const message = rotated
                  ? `New webhook signing secret. Copy it now, it is not shown again: ${rotated.webhookSecret}`
                  : 'No such key.';
                return { record: record.toJSON(ctx.currentAdmin), notice: { message, type: 'success' } };
              } catch (err) {
                return { record: record.toJSON(ctx.currentAdmin), notice: { message: errorText(err), type: 'error' } };
              }
            },
          },
        },
      },
    },
    {
      // Every webhook attempt, as the worker recorded it: read-only, like the history it mirrors.
      resource: WebhookDelivery,
      options: {
        id: 'webhook_deliveries',
        navigation: newJobs,
        sort: { sortBy: 'attemptedAt', direction: 'desc' },
        listProperties: ['jobId', 'event', 'attempt', 'outcome', 'statusCode', 'durationMs', 'attemptedAt'],
        showProperties: [
          'jobId',
          'event',
          'webhookId',
          'attempt',
          'url',
          'outcome',
          'statusCode',
          'error',
          'durationMs',
          'attemptedAt',
        ],
        filterProperties: ['jobId', 'event', 'webhookId', 'outcome', 'attemptedAt'],
        actions: { ...noDelete, ...readOnly },
      },
    },
    {
      // Who did what, when, before and after: listed, never edited or deleted (the table refuses it too).
      resource: AuditEvent,
      options: {
        id: 'audit_events',
        navigation: access,
        sort: { sortBy: 'createdAt', direction: 'desc' },
        listProperties: ['createdAt', 'actor', 'action', 'targetType', 'targetId', 'change'],
        showProperties: ['createdAt', 'actorType', 'actorId', 'actor', 'action', 'targetType', 'targetId', 'change'],
        filterProperties: ['actor', 'actorType', 'action', 'targetType', 'targetId', 'createdAt'],
        properties: {
          before: { isVisible: false },
          after: { isVisible: false },
          change: {
            type: 'string',
            isVisible: { list: true, filter: false, show: true, edit: false },
            components: { list: d.components.auditChange, show: d.components.auditChange },
          },
        },
        actions: {
          ...noDelete,
          ...readOnly,
          bulkDelete: { isAccessible: false, isVisible: false },
          list: { after: withAuditChange },
          show: { after: withAuditChange },
        },
      },
    },
    {
      resource: d.legacy.LegacyJob,
      options: {
        id: 'legacy_jobs',
        navigation: oldJobs,
        sort: { sortBy: 'createdAt', direction: 'desc' },
        listProperties: ['jobId', 'source', 'filename', 'status', 'currentStep', 'progressPercentage', 'createdAt'],
        properties: {
          source: {
            type: 'string',
            description: 'folio: a Folio job the legacy mirror wrote; legacy: a job of the previous service',
            isVisible: { list: true, filter: false, show: true, edit: false },
          },
        },
        actions: { ...noDelete, list: { after: withSource }, show: { after: withSource } },
      },
    },
  ];
}
