import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * Rate-limit counters shared by every API process (rate-limiter-flexible's RateLimiterPostgres layout:
 * key, points, expire in epoch milliseconds). The limiter is told the table exists and never creates it.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('rate_limits', {
    key: { type: DataTypes.STRING(255), primaryKey: true },
    points: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    expire: { type: DataTypes.BIGINT, allowNull: true },
  });
  // The limiter's periodic sweep deletes by this column.
  await qi.addIndex('rate_limits', ['expire'], { name: 'rate_limits_expire_idx' });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('rate_limits');
}
