import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/** Jobs and their pages: the tables the API lists and the activities write. */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('jobs', {
    id: { type: DataTypes.UUID, primaryKey: true },
    status: { type: DataTypes.STRING(16), allowNull: false },
    step: { type: DataTypes.STRING(24), allowNull: false },
    filename: { type: DataTypes.TEXT, allowNull: true },
    content_type: { type: DataTypes.TEXT, allowNull: true },
    size_bytes: { type: DataTypes.BIGINT, allowNull: false },
    sha256: { type: DataTypes.CHAR(64), allowNull: false },
    storage_key: { type: DataTypes.TEXT, allowNull: false },
    options: { type: DataTypes.JSONB, allowNull: false },
    workflow_id: { type: DataTypes.TEXT, allowNull: false },
    page_count: { type: DataTypes.INTEGER, allowNull: true },
    pages_selected: { type: DataTypes.INTEGER, allowNull: true },
    encrypted: { type: DataTypes.BOOLEAN, allowNull: true },
    error_code: { type: DataTypes.STRING(48), allowNull: true },
    error_message: { type: DataTypes.TEXT, allowNull: true },
    error_page: { type: DataTypes.INTEGER, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
    started_at: { type: DataTypes.DATE, allowNull: true },
    finished_at: { type: DataTypes.DATE, allowNull: true },
  });
  await qi.sequelize.query(
    `ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
       CHECK (status IN ('queued','processing','completed','partial','failed','cancelled'))`,
  );
  await qi.addIndex('jobs', ['created_at'], { name: 'jobs_created_at_idx' });
  await qi.addIndex('jobs', ['status', 'created_at'], { name: 'jobs_status_created_at_idx' });
  await qi.addIndex('jobs', ['sha256'], { name: 'jobs_sha256_idx' });

  await qi.createTable('job_pages', {
    job_id: {
      type: DataTypes.UUID,
      allowNull: false,
      primaryKey: true,
      references: { model: 'jobs', key: 'id' },
      onDelete: 'RESTRICT',
    },
    page_number: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
    status: { type: DataTypes.STRING(16), allowNull: false },
    method: { type: DataTypes.STRING(16), allowNull: true },
    width: { type: DataTypes.REAL, allowNull: true },
    height: { type: DataTypes.REAL, allowNull: true },
    has_text_layer: { type: DataTypes.BOOLEAN, allowNull: true },
    text: { type: DataTypes.TEXT, allowNull: true },
    confidence: { type: DataTypes.REAL, allowNull: true },
    words: { type: DataTypes.JSONB, allowNull: true },
    render_dpi: { type: DataTypes.INTEGER, allowNull: true },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    duration_ms: { type: DataTypes.INTEGER, allowNull: true },
    error_code: { type: DataTypes.STRING(48), allowNull: true },
    error_message: { type: DataTypes.TEXT, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.sequelize.query(
    `ALTER TABLE job_pages ADD CONSTRAINT job_pages_status_check
       CHECK (status IN ('pending','processing','done','failed','skipped'))`,
  );
  // Status counts per job ("pages done / failed") are the hottest query of the status endpoint.
  await qi.addIndex('job_pages', ['job_id', 'status'], { name: 'job_pages_job_status_idx' });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('job_pages');
  await qi.dropTable('jobs');
}
