import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * API keys, job ownership, idempotency and dedupe keys, and the indexes behind GET /v1/jobs.
 * Every list sort has an index ending in id, so keyset pages ("after this row") are index range scans.
 */
export async function up({ context: qi }: Params): Promise<void> {
  const q = (sql: string) => qi.sequelize.query(sql);
  await qi.createTable('api_keys', {
    id: { type: DataTypes.UUID, primaryKey: true },
    name: { type: DataTypes.TEXT, allowNull: false },
    role: { type: DataTypes.STRING(16), allowNull: false },
    prefix: { type: DataTypes.STRING(16), allowNull: false, unique: true },
    key_hash: { type: DataTypes.CHAR(64), allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
    revoked_at: { type: DataTypes.DATE, allowNull: true },
    last_used_at: { type: DataTypes.DATE, allowNull: true },
  });
  await q(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('client','admin'))`);

  await qi.addColumn('jobs', 'api_key_id', {
    type: DataTypes.UUID,
    allowNull: true,
    references: { model: 'api_keys', key: 'id' },
    onDelete: 'RESTRICT',
  });
  await qi.addColumn('jobs', 'idempotency_key', { type: DataTypes.TEXT, allowNull: true });
  // The options that change a document's result, canonicalised: the dedupe key beside sha256.
  await qi.addColumn('jobs', 'options_key', { type: DataTypes.TEXT, allowNull: true });
  await qi.addColumn('jobs', 'retry_count', { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });

  // One job per (client, Idempotency-Key); NULLS NOT DISTINCT so jobs without an owner (auth disabled) count too.
  await q(`CREATE UNIQUE INDEX jobs_idempotency_uq ON jobs (api_key_id, idempotency_key) NULLS NOT DISTINCT
             WHERE idempotency_key IS NOT NULL`);
  // At most one live job per (client, content, options): a concurrent duplicate loses the insert and joins it.
  await q(`CREATE UNIQUE INDEX jobs_dedupe_uq ON jobs (api_key_id, sha256, options_key) NULLS NOT DISTINCT
             WHERE options_key IS NOT NULL AND status NOT IN ('failed','cancelled')`);

  // Sorts (each ends in id for keyset pagination; scanned backwards for desc).
  await q(`CREATE INDEX jobs_created_id_idx ON jobs (created_at, id)`);
  await q(`CREATE INDEX jobs_updated_id_idx ON jobs (updated_at, id)`);
  await q(`CREATE INDEX jobs_status_id_idx ON jobs (status, id)`);
  await q(`CREATE INDEX jobs_duration_id_idx ON jobs ((COALESCE(finished_at - started_at, interval '-1 second')), id)`);
  await q(`CREATE INDEX jobs_page_count_id_idx ON jobs ((COALESCE(page_count, -1)), id)`);
  // A client lists its own jobs newest first.
  await q(`CREATE INDEX jobs_owner_created_id_idx ON jobs (api_key_id, created_at, id)`);
  // Filename search is a substring match (ILIKE '%text%'): only a trigram index serves it.
  await q(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
  await q(`CREATE INDEX jobs_filename_trgm_idx ON jobs USING gin (filename gin_trgm_ops)`);
}

export async function down({ context: qi }: Params): Promise<void> {
  const q = (sql: string) => qi.sequelize.query(sql);
  for (const index of [
    'jobs_filename_trgm_idx',
    'jobs_owner_created_id_idx',
    'jobs_page_count_id_idx',
    'jobs_duration_id_idx',
    'jobs_status_id_idx',
    'jobs_updated_id_idx',
    'jobs_created_id_idx',
    'jobs_dedupe_uq',
    'jobs_idempotency_uq',
  ]) {
    await q(`DROP INDEX IF EXISTS ${index}`);
  }
  await q(`DROP EXTENSION IF EXISTS pg_trgm`);
  await qi.removeColumn('jobs', 'retry_count');
  await qi.removeColumn('jobs', 'options_key');
  await qi.removeColumn('jobs', 'idempotency_key');
  await qi.removeColumn('jobs', 'api_key_id');
  await qi.dropTable('api_keys');
}
