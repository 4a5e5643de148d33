import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
} from 'sequelize';
import { LegacyWriteRefused } from './guard.js';

/**
 * A job of the previous document service, from its `legacy_jobs` table. Folio reads, inserts and updates
 * these rows; it never deletes them and never changes the table: every such call is refused here.
 */
export class LegacyJob extends Model<InferAttributes<LegacyJob>, InferCreationAttributes<LegacyJob>> {
  declare jobId: string;
  declare filename: string | null;
  declare status: string;
  declare currentStep: string | null;
  declare progressPercentage: number;
  declare errorMessage: string | null;
  declare contentId: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  override destroy(): Promise<void> {
    return Promise.reject(new LegacyWriteRefused('destroy'));
  }
  override restore(): Promise<void> {
    return Promise.reject(new LegacyWriteRefused('restore'));
  }
  static override destroy(_options?: unknown): Promise<number> {
    return Promise.reject(new LegacyWriteRefused('bulk destroy'));
  }
  static override truncate(_options?: unknown): Promise<void> {
    return Promise.reject(new LegacyWriteRefused('truncate'));
  }
  static override drop(_options?: unknown): Promise<void> {
    return Promise.reject(new LegacyWriteRefused('drop'));
  }
  static override sync(_options?: unknown): Promise<never> {
    return Promise.reject(new LegacyWriteRefused('sync'));
  }
}

/** Binds the legacy models to the 'legacy' connection. The table is theirs: never synced, never migrated. */
export function initLegacyModels(sequelize: Sequelize): { LegacyJob: typeof LegacyJob } {
  LegacyJob.init(
    {
      jobId: { type: DataTypes.STRING(64), primaryKey: true },
      filename: DataTypes.TEXT,
      status: { type: DataTypes.STRING(32), allowNull: false },
      currentStep: DataTypes.STRING(64),
      progressPercentage: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      errorMessage: DataTypes.TEXT,
      contentId: DataTypes.STRING(128),
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    {
      sequelize,
      tableName: 'legacy_jobs',
      underscored: true,
      // Bulk hooks catch Model.destroy/truncate paths that bypass the overrides (e.g. via an association).
      hooks: {
        beforeBulkDestroy: () => {
          throw new LegacyWriteRefused('bulk destroy');
        },
        beforeDestroy: () => {
          throw new LegacyWriteRefused('destroy');
        },
      },
    },
  );
  return { LegacyJob };
}

export type LegacyModels = ReturnType<typeof initLegacyModels>;
