/**
 * The legacy database's second guard, in the database itself: creates (or updates) the role Folio connects
 * to the legacy DB as, with SELECT, INSERT and UPDATE on the legacy tables and nothing else — no DELETE,
 * no TRUNCATE, no schema changes (the role owns nothing, so DROP and ALTER are refused too).
 * Run once as the legacy DB's owner:
 *   node dist/scripts/legacy-role.js <owner URL> <role> <password>
 * then set LEGACY_DATABASE_URL to connect as <role>.
 */
import { pathToFileURL } from 'node:url';
import { Sequelize } from 'sequelize';

/** Creates the role if missing and gives it exactly SELECT, INSERT and UPDATE on the public schema's tables. */
export async function grantLegacyRole(ownerUrl: string, role: string, password: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`role name ${role} is not a plain identifier`);
  const db = new Sequelize(ownerUrl, { dialect: 'postgres', logging: false });
  try {
    const quotedPassword = db.escape(password);
    const [found] = await db.query('SELECT 1 FROM pg_roles WHERE rolname = ?', { replacements: [role] });
    const verb = found.length ? 'ALTER' : 'CREATE';
    await db.query(`${verb} ROLE ${role} LOGIN PASSWORD ${quotedPassword} NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await db.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
    await db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await db.query(`GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await db.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  } finally {
    await db.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [ownerUrl, role, password] = process.argv.slice(2);
  if (!ownerUrl || !role || !password) {
    console.error('usage: legacy-role.js <owner URL> <role> <password>');
    process.exit(2);
  }
  await grantLegacyRole(ownerUrl, role, password);
  console.log(`role ${role}: SELECT, INSERT, UPDATE on the legacy tables; no DELETE, TRUNCATE or DDL`);
}
