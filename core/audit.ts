import type { Transaction } from 'sequelize';
import type { AppModels, AuditActorType } from './db/models.js';

/** Who did something: an operator (id and email), an API key (id and name) or the system (a script's name). */
export interface AuditActor {
  type: AuditActorType;
  id: string | null;
  name: string;
}

/** One audited action: what was done, to what, and the target's state before and after. */
export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** The actor of a command-line script (scripts/create-api-key.ts): the system, named by the script. */
export function scriptActor(name: string): AuditActor {
  return { type: 'system', id: null, name };
}

/** Fields never written to the audit, whatever the target (hashes, sealed secrets). */
const SECRET_FIELDS = new Set([
  'passwordHash',
  'password',
  'keyHash',
  'passwordSealed',
  'webhookSecretSealed',
  'webhookSecretPreviousSealed',
]);

/** A record's plain fields for the audit, without secrets; dates as ISO strings. */
export function auditSnapshot(values: Record<string, unknown>, fields?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of fields ?? Object.keys(values)) {
    if (SECRET_FIELDS.has(key)) continue;
    const v = values[key];
    out[key] = v instanceof Date ? v.toISOString() : v === undefined ? null : v;
  }
  return out;
}

/** Appends one row to audit_events (the table refuses updates and deletes). */
export async function recordAudit(
  models: Pick<AppModels, 'AuditEvent'>,
  actor: AuditActor,
  entry: AuditEntry,
  transaction?: Transaction,
): Promise<void> {
  await models.AuditEvent.create(
    {
      actorType: actor.type,
      actorId: actor.id,
      actor: actor.name,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      before: entry.before ?? null,
      after: entry.after ?? null,
    },
    { transaction },
  );
}

/** A panel operator as AdminJS's currentAdmin carries it (id and email). */
export function operatorActor(admin: { id?: unknown; email?: unknown } | undefined | null): AuditActor {
  return {
    type: 'operator',
    id: typeof admin?.id === 'string' || typeof admin?.id === 'number' ? String(admin.id) : null,
    name: typeof admin?.email === 'string' ? admin.email : 'unknown operator',
  };
}

/** An API caller: its key's id and name (null id when API_AUTH is disabled). */
export function keyActor(principal: { apiKeyId: string | null; name: string }): AuditActor {
  return { type: 'api_key', id: principal.apiKeyId, name: principal.name };
}
