import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * Signed webhooks. Per API key: a default callback URL and the Standard Webhooks signing secret, sealed with
 * DOCUMENT_SECRET_KEY (the worker needs the secret itself to sign, so a hash would not do), plus the
 * previous secret and when it was replaced (it keeps signing for WEBHOOK_SECRET_OVERLAP_SECONDS). Per job:
 * the callback URL it was submitted with (or its key's default). And one row per delivery attempt, kept for
 * the record like every other table here (nothing deletes them).
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('api_keys', 'webhook_url', { type: DataTypes.TEXT, allowNull: true });
  await qi.addColumn('api_keys', 'webhook_secret_sealed', { type: DataTypes.TEXT, allowNull: true });
  await qi.addColumn('api_keys', 'webhook_secret_previous_sealed', { type: DataTypes.TEXT, allowNull: true });
  await qi.addColumn('api_keys', 'webhook_secret_rotated_at', { type: DataTypes.DATE, allowNull: true });
  await qi.addColumn('jobs', 'callback_url', { type: DataTypes.TEXT, allowNull: true });
  await qi.createTable('webhook_deliveries', {
    id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
    job_id: {
      type: DataTypes.UUID,
      allowNull: false,
      references: { model: 'jobs', key: 'id' },
    },
    event: { type: DataTypes.STRING(32), allowNull: false },
    webhook_id: { type: DataTypes.TEXT, allowNull: false },
    attempt: { type: DataTypes.INTEGER, allowNull: false },
    url: { type: DataTypes.TEXT, allowNull: false },
    /** delivered (2xx), gone (410: no more attempts), failed (retried), refused (address or URL refused). */
    outcome: { type: DataTypes.STRING(16), allowNull: false },
    status_code: { type: DataTypes.INTEGER, allowNull: true },
    error: { type: DataTypes.TEXT, allowNull: true },
    duration_ms: { type: DataTypes.INTEGER, allowNull: false },
    attempted_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.sequelize.query(
    `ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_outcome_check
       CHECK (outcome IN ('delivered','gone','failed','refused'))`,
  );
  await qi.addIndex('webhook_deliveries', ['job_id', 'attempted_at']);
  await qi.addIndex('webhook_deliveries', ['webhook_id']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('webhook_deliveries');
  await qi.removeColumn('jobs', 'callback_url');
  await qi.removeColumn('api_keys', 'webhook_secret_rotated_at');
  await qi.removeColumn('api_keys', 'webhook_secret_previous_sealed');
  await qi.removeColumn('api_keys', 'webhook_secret_sealed');
  await qi.removeColumn('api_keys', 'webhook_url');
}
