import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/** Archiving of expired jobs (their files removed, rows kept) and the audit of schedule changes. */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('jobs', 'archived_at', { type: DataTypes.DATE, allowNull: true });
  // The cleanup schedule looks for finished, unarchived jobs by finish time.
  await qi.addIndex('jobs', ['finished_at'], {
    name: 'jobs_unarchived_finished_at_idx',
    where: { archived_at: null },
  });
  // The reconcile schedule looks for jobs that still claim to be running.
  await qi.addIndex('jobs', ['updated_at'], {
    name: 'jobs_active_updated_at_idx',
    where: { status: ['queued', 'processing'] },
  });
  await qi.createTable('schedule_audit', {
    id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
    schedule_id: { type: DataTypes.TEXT, allowNull: false },
    action: { type: DataTypes.STRING(32), allowNull: false },
    actor: { type: DataTypes.TEXT, allowNull: false },
    details: { type: DataTypes.JSONB, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('schedule_audit', ['schedule_id', 'created_at'], { name: 'schedule_audit_schedule_idx' });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('schedule_audit');
  await qi.removeIndex('jobs', 'jobs_active_updated_at_idx');
  await qi.removeIndex('jobs', 'jobs_unarchived_finished_at_idx');
  await qi.removeColumn('jobs', 'archived_at');
}
