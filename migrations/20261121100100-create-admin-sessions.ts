import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/** Admin panel sessions (connect-session-sequelize's columns), so a restart keeps operators signed in. */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('admin_sessions', {
    sid: { type: DataTypes.STRING(36), primaryKey: true },
    expires: { type: DataTypes.DATE, allowNull: true },
    data: { type: DataTypes.TEXT, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
  // The store's expiry sweep deletes by this column.
  await qi.addIndex('admin_sessions', ['expires'], { name: 'admin_sessions_expires_idx' });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('admin_sessions');
}
