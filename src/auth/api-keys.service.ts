import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AppModels, ApiKey } from '../../core/db/models.js';
import { auditSnapshot, recordAudit, type AuditActor } from '../../core/audit.js';
import { callbackUrlProblem, generateWebhookSecret, sealWebhookSecret } from '../../core/webhooks.js';

/** Who may do what: a client sees and controls its own jobs, an admin sees all. */
export type ApiKeyRole = 'client' | 'admin';

/** A caller authenticated by its key, as the guard attaches it to the request. */
export interface Principal {
  /** null when API_AUTH is disabled (development only): acts as an admin without an owner. */
  apiKeyId: string | null;
  role: ApiKeyRole;
  name: string;
}

/** A key as listed: never the key itself, never its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** The callback URL of the key's jobs submitted without one. */
  webhookUrl: string | null;
  /** Whether the key has a webhook signing secret (never the secret itself). */
  hasWebhookSecret: boolean;
}

const KEY_PATTERN = /^folio_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function info(k: ApiKey): ApiKeyInfo {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    prefix: k.prefix,
    createdAt: k.createdAt,
    revokedAt: k.revokedAt,
    lastUsedAt: k.lastUsedAt,
    webhookUrl: k.webhookUrl ?? null,
    hasWebhookSecret: Boolean(k.webhookSecretSealed),
  };
}

/** A fresh key with the parts stored for it (prefix and hash); the key itself is never stored. */
export function generateApiKey(): { key: string; prefix: string; keyHash: string } {
  const prefix = randomBytes(6).toString('hex');
  const key = `folio_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, keyHash: sha256(key).toString('hex') };
}

/** A default callback URL as given, or null when none; throws saying what is wrong with a bad one. */
function checkedWebhookUrl(url: string | undefined): string | null {
  if (url === undefined || url.trim() === '') return null;
  const problem = callbackUrlProblem(url.trim());
  if (problem) throw new Error(problem.replace(/^callbackUrl/, 'The webhook URL'));
  return url.trim();
}

/** Verified keys kept at most this many; past it the oldest entry goes. */
const MAX_CACHED_KEYS = 10_000;

/**
 * Creates, lists, revokes and verifies API keys. A key is `folio_<prefix>_<secret>`: the prefix finds the
 * row, the SHA-256 of the whole key is compared in constant time. The secret is 32 random bytes, so a fast
 * hash is enough (nothing to brute-force). Plain class: Nest provides it, and the CLI script and the admin
 * panel can build it from the models.
 *
 * With `cacheMs` > 0 (the API: API_KEY_CACHE_SECONDS) a verified key is remembered for that long, keyed by
 * its SHA-256, so a request does not pay a database lookup. The API drops a revoked key from the cache as soon
 * as PostgreSQL announces the revocation (KeyRevocations) and uses no cache while it cannot hear those
 * announcements; `cacheMs` bounds the trust in a cached key in any case. Unknown and revoked keys are never
 * cached, so a new key works at once.
 */
export class ApiKeysService {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private caching: boolean;
  /** Bumped by every forget: a lookup that overlapped a revocation does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly models: Pick<AppModels, 'ApiKey' | 'AuditEvent'>,
    private readonly cacheMs = 0,
    /** DOCUMENT_SECRET_KEY: seals webhook signing secrets; without it keys are issued without one. */
    private readonly secretKey?: Buffer,
  ) {
    this.caching = cacheMs > 0;
  }

  /** Turns the cache on or off; off also empties it (e.g. while revocations cannot be heard). */
  setCaching(on: boolean): void {
    this.caching = on && this.cacheMs > 0;
    this.generation++;
    if (!this.caching) this.verified.clear();
  }

  /** Drops a key from the cache: it was revoked. */
  forget(id: string): void {
    this.generation++;
    for (const [hash, entry] of this.verified) if (entry.principal.apiKeyId === id) this.verified.delete(hash);
  }

  /**
   * Creates a key with its webhook signing secret (when DOCUMENT_SECRET_KEY is there to seal it) and,
   * optionally, its default callback URL. The returned `key` and `webhookSecret` are shown once: the key is
   * never stored, the secret only sealed.
   */
  async create(
    input: {
      name: string;
      role: ApiKeyRole;
      webhookUrl?: string;
    },
    actor?: AuditActor,
  ): Promise<{ key: string; webhookSecret: string | null; apiKey: ApiKeyInfo }> {
    const name = input.name.trim();
    if (!name) throw new Error('An API key needs a name.');
    if (input.role !== 'client' && input.role !== 'admin') throw new Error('role must be "client" or "admin".');
    const webhookUrl = checkedWebhookUrl(input.webhookUrl);
    const { key, prefix, keyHash } = generateApiKey();
    const id = randomUUID();
    const webhookSecret = this.secretKey ? generateWebhookSecret() : null;
    const row = await this.models.ApiKey.create({
      id,
      name,
      role: input.role,
      prefix,
      keyHash,
      webhookUrl,
      webhookSecretSealed:
        webhookSecret && this.secretKey ? sealWebhookSecret(this.secretKey, id, webhookSecret) : null,
    });
    if (actor) await this.audit(actor, 'api_key.issue', id, null, row);
    return { key, webhookSecret, apiKey: info(row) };
  }

  /** Records a key action in audit_events: the key's fields before and after, never its hash or secrets. */
  private async audit(actor: AuditActor, action: string, id: string, before: ApiKey | null, after: ApiKey | null) {
    const fields = ['name', 'role', 'prefix', 'webhookUrl', 'revokedAt', 'webhookSecretRotatedAt'];
    const snap = (k: ApiKey | null) => (k ? auditSnapshot(k.get({ plain: true }), fields) : null);
    await recordAudit(this.models, actor, {
      action,
      targetType: 'api_key',
      targetId: id,
      before: snap(before),
      after: snap(after),
    });
  }

  /**
   * Gives a key a new webhook signing secret, shown once. The previous one keeps signing beside it (two
   * signatures, as Standard Webhooks allows) for WEBHOOK_SECRET_OVERLAP_SECONDS, so receivers can switch.
   */
  async rotateWebhookSecret(
    id: string,
    actor?: AuditActor,
  ): Promise<{ webhookSecret: string; apiKey: ApiKeyInfo } | null> {
    if (!this.secretKey) {
      throw new Error(
        'DOCUMENT_SECRET_KEY is not set: webhook secrets are sealed with it; set the one the workers use.',
      );
    }
    const row = await this.models.ApiKey.findByPk(id);
    if (!row) return null;
    const webhookSecret = generateWebhookSecret();
    const before = actor ? await this.models.ApiKey.findByPk(id) : null;
    await row.update({
      webhookSecretPreviousSealed: row.webhookSecretSealed ?? null,
      webhookSecretSealed: sealWebhookSecret(this.secretKey, id, webhookSecret),
      webhookSecretRotatedAt: new Date(),
    });
    if (actor) await this.audit(actor, 'api_key.rotate_webhook_secret', id, before, row);
    return { webhookSecret, apiKey: info(row) };
  }

  /** Sets (or, with null, clears) the callback URL of a key's jobs submitted without one. */
  async setWebhookUrl(id: string, url: string | null, actor?: AuditActor): Promise<ApiKeyInfo | null> {
    const webhookUrl = url === null ? null : checkedWebhookUrl(url);
    const row = await this.models.ApiKey.findByPk(id);
    if (!row) return null;
    const before = actor ? await this.models.ApiKey.findByPk(id) : null;
    await row.update({ webhookUrl });
    if (actor) await this.audit(actor, 'api_key.set_webhook_url', id, before, row);
    return info(row);
  }

  /** Revokes a key (kept for the record; it no longer authenticates). Idempotent. */
  async revoke(id: string, actor?: AuditActor): Promise<ApiKeyInfo | null> {
    const row = await this.models.ApiKey.findByPk(id);
    if (!row) return null;
    if (!row.revokedAt) {
      const before = actor ? await this.models.ApiKey.findByPk(id) : null;
      await row.update({ revokedAt: new Date() });
      if (actor) await this.audit(actor, 'api_key.revoke', id, before, row);
    }
    this.forget(id);
    return info(row);
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.models.ApiKey.findAll({ order: [['createdAt', 'ASC']] });
    return rows.map(info);
  }

  /** The principal for a presented key, or null when it is malformed, unknown or revoked. */
  async verify(presented: string): Promise<Principal | null> {
    const match = KEY_PATTERN.exec(presented);
    if (!match) return null;
    const hash = sha256(presented);
    const cacheKey = this.caching ? hash.toString('hex') : undefined;
    const cached = cacheKey === undefined ? undefined : this.verified.get(cacheKey);
    if (cached && cached.until > Date.now()) return { ...cached.principal };
    if (cached) this.verified.delete(cacheKey!);
    const generation = this.generation;
    const row = await this.models.ApiKey.findOne({ where: { prefix: match[1]! } });
    if (!row || row.revokedAt) return null;
    if (!timingSafeEqual(hash, Buffer.from(row.keyHash, 'hex'))) return null;
    // Coarse on purpose: one write per key per minute at most, not one per request.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await row.update({ lastUsedAt: new Date() });
    }
    const principal: Principal = { apiKeyId: row.id, role: row.role, name: row.name };
    if (cacheKey !== undefined && this.caching && generation === this.generation) {
      if (this.verified.size >= MAX_CACHED_KEYS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(cacheKey, { principal, until: Date.now() + this.cacheMs });
    }
    return { ...principal };
  }
}
