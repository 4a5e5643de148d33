import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/** Jobs may wait for the password of an encrypted PDF; the password is kept only sealed, for retries. */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.sequelize.transaction(async (transaction) => {
    await qi.sequelize.query(
      `ALTER TABLE jobs DROP CONSTRAINT jobs_status_check,
         ADD CONSTRAINT jobs_status_check
           CHECK (status IN ('queued','processing','needs_password','completed','partial','failed','cancelled'))`,
      { transaction },
    );
    await qi.addColumn('jobs', 'password_sealed', { type: DataTypes.TEXT, allowNull: true }, { transaction });
    // The reconcile schedule also looks at jobs waiting for a password (their workflow may be gone).
    await qi.removeIndex('jobs', 'jobs_active_updated_at_idx', { transaction });
    await qi.addIndex('jobs', ['updated_at'], {
      name: 'jobs_active_updated_at_idx',
      where: { status: ['queued', 'processing', 'needs_password'] },
      transaction,
    });
  });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.sequelize.transaction(async (transaction) => {
    // The old constraint has no place for a waiting job: it fails as it would have before.
    await qi.sequelize.query(
      `UPDATE jobs SET status = 'failed', step = 'done', finished_at = now(), updated_at = now()
         WHERE status = 'needs_password'`,
      { transaction },
    );
    await qi.sequelize.query(
      `ALTER TABLE jobs DROP CONSTRAINT jobs_status_check,
         ADD CONSTRAINT jobs_status_check
           CHECK (status IN ('queued','processing','completed','partial','failed','cancelled'))`,
      { transaction },
    );
    await qi.removeColumn('jobs', 'password_sealed', { transaction });
    await qi.removeIndex('jobs', 'jobs_active_updated_at_idx', { transaction });
    await qi.addIndex('jobs', ['updated_at'], {
      name: 'jobs_active_updated_at_idx',
      where: { status: ['queued', 'processing'] },
      transaction,
    });
  });
}
