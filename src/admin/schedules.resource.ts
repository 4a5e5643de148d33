import type * as Adminjs from 'adminjs';
import type {
  ActionContext,
  ActionRequest,
  BaseRecord,
  Filter,
  RecordActionResponse,
  ResourceWithOptions,
} from 'adminjs';
import { scheduleRegistry, type ScheduleView, type SchedulesService } from '../schedules/schedules.service.js';

/** Who made a change, for the schedule audit. */
function actorOf(context?: ActionContext): string {
  return String(context?.currentAdmin?.email ?? 'unknown operator');
}

/** A schedule as a flat AdminJS record. */
function toParams(v: ScheduleView): Record<string, unknown> {
  return {
    scheduleId: v.scheduleId,
    workflowType: v.workflowType,
    cron: v.cron ?? '',
    args: JSON.stringify(v.args ?? {}),
    paused: v.paused,
    note: v.note ?? '',
    nextRuns: v.nextRunTimes.join('\n'),
    lastRun: v.lastRun ? `${v.lastRun.scheduledAt} ${v.lastRun.status} (${v.lastRun.workflowId})` : '',
  };
}

/** A form value as text (AdminJS sends strings; anything else is shown as JSON). */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}

function parseArgs(raw: unknown): unknown {
  if (raw === undefined || raw === '') return undefined;
  try {
    return JSON.parse(text(raw)) as unknown;
  } catch {
    return Symbol.for('invalid');
  }
}

/**
 * The Schedules resource: backed by Temporal's schedule API through SchedulesService, not by a table.
 * Built from the adminjs module the panel loaded (it must be imported after ADMIN_JS_TMP_DIR is set).
 */
export function schedulesResource(adminjs: typeof Adminjs, service: SchedulesService): ResourceWithOptions {
  const { BaseProperty, BaseRecord: Record, BaseResource: Base, ValidationError } = adminjs;
  const fields: [string, Adminjs.PropertyType, boolean][] = [
    ['scheduleId', 'string', true],
    ['workflowType', 'string', false],
    ['cron', 'string', false],
    ['args', 'textarea', false],
    ['paused', 'boolean', false],
    ['note', 'string', false],
    ['nextRuns', 'textarea', false],
    ['lastRun', 'string', false],
  ];
  const properties = fields.map(
    ([path, type, isId], position) =>
      new BaseProperty({ path, type, isId, isSortable: path === 'scheduleId', position }),
  );

  const invalid = (field: string, message: string) => new ValidationError({ [field]: { message } });

  class SchedulesResource extends Base {
    override databaseName() {
      return 'temporal';
    }
    override databaseType() {
      return 'Temporal';
    }
    override id() {
      return 'Schedules';
    }
    override properties() {
      return properties;
    }
    override property(path: string) {
      return properties.find((p) => p.path() === path) ?? null;
    }
    private async all(filter?: Filter): Promise<ScheduleView[]> {
      const wanted = Object.values(filter?.filters ?? {}).map((f) => [f.path, text(f.value).toLowerCase()] as const);
      return (await service.list()).filter((v) => {
        const params = toParams(v);
        return wanted.every(([path, value]) => text(params[path]).toLowerCase().includes(value));
      });
    }
    override async count(filter: Filter) {
      return (await this.all(filter)).length;
    }
    override async find(filter: Filter, options: { limit?: number; offset?: number }) {
      const views = await this.all(filter);
      const offset = options.offset ?? 0;
      return views.slice(offset, offset + (options.limit ?? views.length)).map((v) => new Record(toParams(v), this));
    }
    override async findOne(id: string): Promise<BaseRecord | null> {
      try {
        return new Record(toParams(await service.get(id)), this);
      } catch {
        return null;
      }
    }
    override async findMany(ids: (string | number)[]): Promise<BaseRecord[]> {
      const found = await Promise.all(ids.map((id) => this.findOne(String(id))));
      return found.filter((r): r is BaseRecord => r !== null);
    }
    override build(params: Record<string, unknown>) {
      return new Record(params, this);
    }
    override async create(params: Record<string, unknown>, context?: ActionContext) {
      const args = parseArgs(params.args);
      if (typeof args === 'symbol') throw invalid('args', 'Arguments must be JSON, e.g. {"retentionDays": 30}.');
      try {
        const view = await service.create(actorOf(context), {
          scheduleId: text(params.scheduleId),
          workflowType: text(params.workflowType),
          cron: text(params.cron),
          args: args ?? {},
        });
        return toParams(view);
      } catch (err) {
        throw invalid('scheduleId', err instanceof Error ? err.message : String(err));
      }
    }
    override async update(id: string, params: Record<string, unknown>, context?: ActionContext) {
      const args = parseArgs(params.args);
      if (typeof args === 'symbol') throw invalid('args', 'Arguments must be JSON.');
      try {
        const view = await service.update(actorOf(context), id, {
          cron: text(params.cron) || undefined,
          args,
        });
        return toParams(view);
      } catch (err) {
        throw invalid('args', err instanceof Error ? err.message : String(err));
      }
    }
    override delete(): Promise<void> {
      return Promise.reject(
        new adminjs.ForbiddenError('Schedules are retired by pausing them with a note, never deleted.'),
      );
    }
  }

  /** A record action on one schedule, reported as a notice. */
  const scheduleAction = (
    run: (id: string, actor: string, request: ActionRequest) => Promise<unknown>,
    success: string,
    isVisible: (params: Record<string, unknown>) => boolean = () => true,
  ) => ({
    actionType: 'record' as const,
    component: false as const,
    isVisible: ({ record }: ActionContext) => isVisible(record?.params ?? {}),
    handler: async (request: ActionRequest, _res: unknown, ctx: ActionContext): Promise<RecordActionResponse> => {
      const id = String(ctx.record!.id());
      try {
        await run(id, actorOf(ctx), request);
        const fresh = (await ctx.resource.findOne(id)) ?? ctx.record!;
        return { record: fresh.toJSON(ctx.currentAdmin), notice: { message: success, type: 'success' } };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return { record: ctx.record!.toJSON(ctx.currentAdmin), notice: { message, type: 'error' } };
      }
    },
  });

  const note = (request: ActionRequest) => text((request.query as Record<string, unknown> | undefined)?.note);

  return {
    resource: new SchedulesResource(),
    options: {
      navigation: { name: 'Operations', icon: 'Clock' },
      listProperties: ['scheduleId', 'workflowType', 'cron', 'paused', 'nextRuns', 'lastRun'],
      showProperties: ['scheduleId', 'workflowType', 'cron', 'args', 'paused', 'note', 'nextRuns', 'lastRun'],
      // The id and workflow type are fixed once created; edits change the cron spec and arguments only.
      editProperties: ['scheduleId', 'workflowType', 'cron', 'args'],
      properties: {
        scheduleId: { description: 'Fixed once created' },
        workflowType: {
          availableValues: Object.keys(scheduleRegistry).map((t) => ({ value: t, label: t })),
          description: 'Only registered workflows; fixed once created',
        },
        args: { description: 'JSON arguments of the workflow, e.g. {"retentionDays": 30}' },
        nextRuns: { isDisabled: true },
        lastRun: { isDisabled: true },
      },
      actions: {
        delete: { isAccessible: false, isVisible: false },
        bulkDelete: { isAccessible: false, isVisible: false },
        pause: {
          ...scheduleAction(
            (id, actor, req) => service.pause(actor, id, note(req)),
            'Paused.',
            (p) => !p.paused,
          ),
          guard: 'Pause this schedule? It takes no actions until unpaused.',
          icon: 'Pause',
        },
        unpause: {
          ...scheduleAction(
            (id, actor, req) => service.unpause(actor, id, note(req)),
            'Unpaused.',
            (p) => !!p.paused,
          ),
          icon: 'Play',
        },
        trigger: {
          ...scheduleAction((id, actor) => service.trigger(actor, id), 'Triggered: a run has started.'),
          guard: 'Run this schedule now?',
          icon: 'Zap',
        },
        backfillLastDay: {
          ...scheduleAction(
            (id, actor) => service.backfill(actor, id, new Date(Date.now() - 24 * 3_600_000), new Date()),
            'Backfilled the last 24 hours.',
          ),
          guard: 'Take every action this schedule would have taken in the last 24 hours?',
          icon: 'RotateCcw',
        },
      },
    },
  };
}
