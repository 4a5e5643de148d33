import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * Batches: several documents submitted in one request with shared options. A batch row (its key, options,
 * callback URL and webhook settings, when it was sealed — every document recorded — cancelled and ended),
 * one batch_documents row per file part in the order sent (the job it became, or why it was refused; a
 * document that joined a live identical job points at that job), and jobs.batch_id for the jobs a batch
 * created. Nothing deletes any of them.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('batches', {
    id: { type: DataTypes.UUID, primaryKey: true },
    api_key_id: { type: DataTypes.UUID, allowNull: true, references: { model: 'api_keys', key: 'id' } },
    options: { type: DataTypes.JSONB, allowNull: false },
    callback_url: { type: DataTypes.TEXT, allowNull: true },
    /** The webhook target and backoff the batch.completed event is delivered with (null: no callback URL). */
    webhook: { type: DataTypes.JSONB, allowNull: true },
    file_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
    /** Set once every document is recorded (and again after a retry-failed reopened it): it may end only then. */
    sealed_at: { type: DataTypes.DATE, allowNull: true },
    cancelled_at: { type: DataTypes.DATE, allowNull: true },
    /** Set exactly once per run by whoever saw its last document end (batch.completed follows). */
    ended_at: { type: DataTypes.DATE, allowNull: true },
    /** Who ended it: the workflow run of its last document, or the API request that sealed it. */
    ended_by: { type: DataTypes.TEXT, allowNull: true },
  });
  await qi.addIndex('batches', ['api_key_id', 'created_at']);
  await qi.createTable('batch_documents', {
    batch_id: { type: DataTypes.UUID, allowNull: false, primaryKey: true, references: { model: 'batches', key: 'id' } },
    position: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
    file_name: { type: DataTypes.TEXT, allowNull: true },
    job_id: { type: DataTypes.UUID, allowNull: true, references: { model: 'jobs', key: 'id' } },
    error_code: { type: DataTypes.STRING(48), allowNull: true },
    error_message: { type: DataTypes.TEXT, allowNull: true },
  });
  await qi.addIndex('batch_documents', ['job_id']);
  await qi.addColumn('jobs', 'batch_id', {
    type: DataTypes.UUID,
    allowNull: true,
    references: { model: 'batches', key: 'id' },
  });
  await qi.addIndex('jobs', ['batch_id']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.removeColumn('jobs', 'batch_id');
  await qi.dropTable('batch_documents');
  await qi.dropTable('batches');
}
