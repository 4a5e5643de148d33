import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * Revoking an API key (by the API, the panel, the CLI or plain SQL) notifies the channel
 * `folio_api_key_revoked` with the key's id, so every API process drops the key from its cache at once.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.sequelize.query(`
    CREATE FUNCTION folio_notify_api_key_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('folio_api_key_revoked', NEW.id::text);
      RETURN NEW;
    END $$`);
  await qi.sequelize.query(`
    CREATE TRIGGER api_keys_revoked AFTER UPDATE OF revoked_at ON api_keys
      FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL)
      EXECUTE FUNCTION folio_notify_api_key_revoked()`);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.sequelize.query('DROP TRIGGER IF EXISTS api_keys_revoked ON api_keys');
  await qi.sequelize.query('DROP FUNCTION IF EXISTS folio_notify_api_key_revoked()');
}
