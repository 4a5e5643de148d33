import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * The languages each OCR page was read in: `{ used, auto, script?, scriptConfidence?, fallback? }` (core's
 * PageLanguages). Null for text-layer pages and for pages read before this column existed.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('job_pages', 'languages', { type: DataTypes.JSONB, allowNull: true });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.removeColumn('job_pages', 'languages');
}
