import type { Sequelize } from 'sequelize';

/** Raised for any write the legacy DB must never see from Folio: deletes and schema changes. */
export class LegacyWriteRefused extends Error {
  override name = 'LegacyWriteRefused';
  constructor(operation: string) {
    super(`The legacy database is read, insert and update only: ${operation} is refused.`);
  }
}

/** Every QueryInterface method that deletes rows or changes the schema. */
const schemaChanges = [
  'createSchema',
  'dropSchema',
  'dropAllSchemas',
  'createTable',
  'dropTable',
  'dropAllTables',
  'renameTable',
  'addColumn',
  'removeColumn',
  'changeColumn',
  'renameColumn',
  'addIndex',
  'removeIndex',
  'addConstraint',
  'removeConstraint',
  'createFunction',
  'dropFunction',
  'renameFunction',
  'createTrigger',
  'dropTrigger',
  'renameTrigger',
  'dropEnum',
  'dropAllEnums',
  'changeColumn',
  'bulkDelete',
  'delete',
  'truncate',
] as const;

/**
 * Makes a legacy connection refuse sync, drop, truncate and every QueryInterface schema change or delete.
 * The database role is the second guard (scripts/legacy-role.ts); this one catches mistakes in code.
 */
export function guardLegacyConnection(sequelize: Sequelize): Sequelize {
  const qi = sequelize.getQueryInterface() as unknown as Record<string, unknown>;
  for (const name of schemaChanges) {
    qi[name] = () => Promise.reject(new LegacyWriteRefused(`queryInterface.${name}`));
  }
  const db = sequelize as unknown as Record<string, unknown>;
  for (const name of ['sync', 'drop', 'truncate']) {
    db[name] = () => Promise.reject(new LegacyWriteRefused(`sequelize.${name}`));
  }
  return sequelize;
}
