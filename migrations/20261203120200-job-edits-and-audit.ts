import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * What operators may change on a job (tags, a note, its own retention date) and who made a job from the
 * panel; and `audit_events`, one row per operator or key action (who, what, on what, when, before and
 * after). Audit rows are append-only: a trigger refuses UPDATE and DELETE whatever role asks, so the
 * record cannot be edited away from the app, the panel or psql. The schedule changes already recorded in
 * schedule_audit are copied in, so the one audit list starts complete.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('jobs', 'tags', {
    type: DataTypes.ARRAY(DataTypes.TEXT),
    allowNull: false,
    defaultValue: [],
  });
  await qi.addColumn('jobs', 'note', { type: DataTypes.TEXT, allowNull: true });
  // Kept at least until then (the cleanup schedule skips it), or archived then if earlier than the default.
  await qi.addColumn('jobs', 'retain_until', { type: DataTypes.DATE, allowNull: true });
  // The operator who uploaded the document from the panel (such jobs have no API key).
  await qi.addColumn('jobs', 'created_by', { type: DataTypes.TEXT, allowNull: true });
  // `tags @> ARRAY[...]` (every tag must match) uses this index.
  await qi.sequelize.query('CREATE INDEX jobs_tags_gin_idx ON jobs USING GIN (tags)');
  await qi.addIndex('jobs', ['retain_until'], {
    name: 'jobs_unarchived_retain_until_idx',
    where: { archived_at: null },
  });

  await qi.createTable('audit_events', {
    id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
    /** operator, api_key or system. */
    actor_type: { type: DataTypes.STRING(16), allowNull: false },
    /** The operator's id or the key's id; null for the system or a script. */
    actor_id: { type: DataTypes.TEXT, allowNull: true },
    /** The operator's email, the key's name or the script's name: readable without a join. */
    actor: { type: DataTypes.TEXT, allowNull: false },
    action: { type: DataTypes.STRING(48), allowNull: false },
    target_type: { type: DataTypes.STRING(32), allowNull: false },
    target_id: { type: DataTypes.TEXT, allowNull: true },
    before: { type: DataTypes.JSONB, allowNull: true },
    after: { type: DataTypes.JSONB, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: qi.sequelize.fn('now') },
  });
  await qi.addIndex('audit_events', ['target_type', 'target_id', 'created_at'], { name: 'audit_events_target_idx' });
  await qi.addIndex('audit_events', ['created_at'], { name: 'audit_events_created_at_idx' });
  await qi.sequelize.query(
    `ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check
       CHECK (actor_type IN ('operator','api_key','system'))`,
  );
  await qi.sequelize.query(`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`);
  await qi.sequelize.query(`
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
  await qi.sequelize.query(`
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  await qi.sequelize.query(`
    INSERT INTO audit_events (actor_type, actor, action, target_type, target_id, after, created_at)
    SELECT 'operator', actor, 'schedule.' || action, 'schedule', schedule_id, details, created_at
      FROM schedule_audit ORDER BY id`);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('audit_events');
  await qi.sequelize.query('DROP FUNCTION audit_events_append_only()');
  await qi.removeIndex('jobs', 'jobs_unarchived_retain_until_idx');
  await qi.sequelize.query('DROP INDEX jobs_tags_gin_idx');
  await qi.removeColumn('jobs', 'created_by');
  await qi.removeColumn('jobs', 'retain_until');
  await qi.removeColumn('jobs', 'note');
  await qi.removeColumn('jobs', 'tags');
}
