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

/** What the resource definitions need from the rest of the app. */
export interface ResourceDeps {
  adminjs: typeof Adminjs;
  models: AppModels;
  legacy: LegacyModels;
  control: JobControlService;
  jobs: JobsService;
  /** Revokes through the API's own key service, so this process stops accepting the key at once. */
  keys: ApiKeysService;
  components: { workflowLink: string; resultLinks: string };
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
  run: (jobId: string) => Promise<void>,
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
        await run(String(record.id()));
        return { record: record.toJSON(ctx.currentAdmin), notice: { message: success, type: 'success' } };
      } catch (err) {
        return { record: record.toJSON(ctx.currentAdmin), notice: { message: errorText(err), type: 'error' } };
      }
    },
  };
}

/** The panel's resources: app jobs, pages and operators, and the legacy service's jobs. */
export function buildResources(d: ResourceDeps): ResourceWithOptions[] {
  const { Job, JobPage, Operator, ApiKey, WebhookDelivery } = d.models;
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

  return [
    {
      resource: Job,
      options: {
        id: 'jobs',
        navigation: newJobs,
        sort: { sortBy: 'createdAt', direction: 'desc' },
        listProperties: ['id', 'filename', 'status', 'step', 'pageCount', 'errorCode', 'createdAt'],
        filterProperties: ['status', 'filename', 'errorCode', 'sha256', 'createdAt'],
        showProperties: [
          'id',
          'filename',
          'status',
          'step',
          'workflowUrl',
          'results',
          'pageCount',
          'pagesSelected',
          'sizeBytes',
          'sha256',
          'options',
          'errorCode',
          'errorMessage',
          'errorPage',
          'createdAt',
          'startedAt',
          'finishedAt',
        ],
        properties: {
          status: { availableValues: JOB_STATUSES.map((s) => ({ value: s, label: s })) },
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
          ...readOnly,
          show: { after: withWorkflowLink },
          cancel: jobAction(
            (id) => d.control.cancel(id),
            'Cancel this job? Pages already done are kept.',
            'Cancellation requested.',
            ACTIVE_STATUSES,
          ),
          retryFailedPages: jobAction(
            async (id) => {
              await d.control.retry(id);
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
          new: { before: requirePassword, after: withoutPasswordHash },
          edit: { before: hashPasswordField, after: withoutPasswordHash },
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
            after: (response: ActionResponse, _req: ActionRequest, context: ActionContext) => {
              const key = (context as ActionContext & { issuedKey?: string }).issuedKey;
              const record = response.record as { params?: Record<string, unknown>; errors?: Record<string, unknown> };
              if (record?.params) delete record.params.keyHash;
              if (key && record && Object.keys(record.errors ?? {}).length === 0) {
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
              async (id) => {
                await d.keys.revoke(id);
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
                const rotated = await d.keys.rotateWebhookSecret(String(record.id()));
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
      resource: d.legacy.LegacyJob,
      options: {
        id: 'legacy_jobs',
        navigation: oldJobs,
        sort: { sortBy: 'createdAt', direction: 'desc' },
        listProperties: ['jobId', 'filename', 'status', 'currentStep', 'progressPercentage', 'createdAt'],
        actions: { ...noDelete },
      },
    },
  ];
}
