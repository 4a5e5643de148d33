/**
 * `npm run api-key -- --name X --role client|admin`: creates an API key in the app DB and prints it once
 * (only its SHA-256 is stored). `--revoke <id>` revokes one, `--list` lists them without secrets.
 */
import { parseArgs } from 'node:util';
import { ApiKeysService, type ApiKeyRole } from '../src/auth/api-keys.service.js';
import { createSequelize } from '../core/db/connections.js';
import { initAppModels } from '../core/db/models.js';
import { appDatabaseUrl } from './lib/local-stack.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    role: { type: 'string', default: 'client' },
    revoke: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

let db: ReturnType<typeof createSequelize> | undefined;
let code = 0;
try {
  const { url, embedded } = appDatabaseUrl();
  if (embedded) console.error(`app DB: ${embedded}`);
  db = createSequelize(url, 1, 'app');
  const keys = new ApiKeysService(initAppModels(db));
  if (values.list) {
    for (const k of await keys.list()) {
      const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
      console.log(`${k.id}  ${k.role.padEnd(6)}  folio_${k.prefix}_…  ${state}  ${k.name}`);
    }
  } else if (values.revoke) {
    const revoked = await keys.revoke(values.revoke);
    if (!revoked) throw new Error(`No API key has the id ${values.revoke}.`);
    console.log(`revoked ${revoked.id} (${revoked.name})`);
  } else {
    if (!values.name) throw new Error('usage: npm run api-key -- --name <name> [--role client|admin]');
    const { key, apiKey } = await keys.create({ name: values.name, role: values.role as ApiKeyRole });
    console.log(`API key ${apiKey.id} (${apiKey.role}, "${apiKey.name}"). Shown once; store it now:\n${key}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  code = 1;
} finally {
  await db?.close();
}
process.exit(code);
