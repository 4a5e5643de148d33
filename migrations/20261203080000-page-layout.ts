import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * A page's layout beside its words: blocks, paragraphs and lines with their boxes, and the image it was read
 * from (size in pixels, resolution), from which hOCR, ALTO and TSV are made. Nullable: pages read before it
 * keep their words, and the renderers group those into lines themselves.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('job_pages', 'layout', { type: DataTypes.JSONB, allowNull: true });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.removeColumn('job_pages', 'layout');
}
