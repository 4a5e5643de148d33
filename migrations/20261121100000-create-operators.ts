import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/** Operators: the people who sign in to the admin panel. Disabled, never deleted. */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('operators', {
    id: { type: DataTypes.UUID, primaryKey: true },
    email: { type: DataTypes.TEXT, allowNull: false, unique: true },
    name: { type: DataTypes.TEXT, allowNull: true },
    password_hash: { type: DataTypes.TEXT, allowNull: false },
    disabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    last_login_at: { type: DataTypes.DATE, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('operators');
}
