import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * A job's priority: 1 (most urgent) to 5, default 3 — Temporal's task priority keys with the server's default
 * range. Existing jobs take the default. Indexed with the status so "what is queued, most urgent first" and
 * `GET /v1/jobs?priority=` stay index scans.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('jobs', 'priority', { type: DataTypes.SMALLINT, allowNull: false, defaultValue: 3 });
  await qi.sequelize.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_priority_check CHECK (priority BETWEEN 1 AND 5)`);
  await qi.addIndex('jobs', ['status', 'priority', 'created_at'], { name: 'jobs_status_priority_created_at_idx' });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.removeIndex('jobs', 'jobs_status_priority_created_at_idx');
  await qi.removeColumn('jobs', 'priority');
}
