/**
 * `npm run api-key -- --name X --role client|admin [--webhook-url URL] [--json]`: creates an API key in the
 * app DB and prints it once with its webhook signing secret (only the key's SHA-256 and the sealed secret are
 * stored). `--revoke <id>` revokes one, `--list` lists them without secrets, `--rotate-webhook-secret <id>`
 * gives one a new signing secret (printed once), `--set-webhook-url <id> --webhook-url URL` changes its default
 * callback URL (an empty URL clears it).
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiKeysService, type ApiKeyRole } from '../src/auth/api-keys.service.js';
import { createSequelize } from '../core/db/connections.js';
import { initAppModels } from '../core/db/models.js';
import { scriptActor } from '../core/audit.js';
import { parseSecretKey } from '../core/sealed-secret.js';
import { appDatabaseUrl, localDataDir } from './lib/local-stack.js';
import { localDocumentSecretKey } from './lib/document-secret-key.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    role: { type: 'string', default: 'client' },
    revoke: { type: 'string' },
    list: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'webhook-url': { type: 'string' },
    'rotate-webhook-secret': { type: 'string' },
    'set-webhook-url': { type: 'string' },
  },
});

/** Prints `value` as JSON with --json, else `text`. */
function print(value: unknown, text: string): void {
  console.log(values.json ? JSON.stringify(value, null, 2) : text);
}

let db: ReturnType<typeof createSequelize> | undefined;
let code = 0;
try {
  const { url, embedded } = appDatabaseUrl();
  if (embedded) console.error(`app DB: ${embedded}`);
  // Webhook secrets are sealed with the key the workers open them with: DOCUMENT_SECRET_KEY, or npm start's.
  const secretText =
    process.env.DOCUMENT_SECRET_KEY ??
    (embedded ? localDocumentSecretKey(path.join(localDataDir(), 'document-secret.key')) : undefined);
  const secretKey = secretText === undefined ? undefined : parseSecretKey(secretText);
  if (secretText !== undefined && !secretKey) throw new Error('DOCUMENT_SECRET_KEY is not a valid key.');
  db = createSequelize(url, 1, 'app');
  const keys = new ApiKeysService(initAppModels(db), 0, secretKey);
  // Who ran the script is not known to the app: the audit names the script and the OS user.
  const actor = scriptActor(`npm run api-key (${os.userInfo().username})`);
  if (values.list) {
    const list = await keys.list();
    if (values.json) print(list, '');
    else
      for (const k of list) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        console.log(`${k.id}  ${k.role.padEnd(6)}  folio_${k.prefix}_…  ${state}  ${k.name}`);
      }
  } else if (values.revoke) {
    const revoked = await keys.revoke(values.revoke, actor);
    if (!revoked) throw new Error(`No API key has the id ${values.revoke}.`);
    print(revoked, `revoked ${revoked.id} (${revoked.name})`);
  } else if (values['rotate-webhook-secret']) {
    const id = values['rotate-webhook-secret'];
    const rotated = await keys.rotateWebhookSecret(id, actor);
    if (!rotated) throw new Error(`No API key has the id ${id}.`);
    print(
      { id, webhookSecret: rotated.webhookSecret },
      `New webhook signing secret of ${id} (${rotated.apiKey.name}). Shown once; the previous one still signs ` +
        `beside it for WEBHOOK_SECRET_OVERLAP_SECONDS:\n${rotated.webhookSecret}`,
    );
  } else if (values['set-webhook-url']) {
    const id = values['set-webhook-url'];
    const updated = await keys.setWebhookUrl(id, values['webhook-url'] || null, actor);
    if (!updated) throw new Error(`No API key has the id ${id}.`);
    print(updated, `webhook URL of ${id}: ${updated.webhookUrl ?? '(none)'}`);
  } else {
    if (!values.name) {
      throw new Error('usage: npm run api-key -- --name <name> [--role client|admin] [--webhook-url <url>] [--json]');
    }
    const { key, webhookSecret, apiKey } = await keys.create(
      {
        name: values.name,
        role: values.role as ApiKeyRole,
        ...(values['webhook-url'] ? { webhookUrl: values['webhook-url'] } : {}),
      },
      actor,
    );
    // The key stays the last line of the text form: scripts take it from there.
    print(
      { id: apiKey.id, name: apiKey.name, role: apiKey.role, key, webhookSecret, webhookUrl: apiKey.webhookUrl },
      (webhookSecret
        ? `Webhook signing secret (verify deliveries with it; shown once):\n${webhookSecret}\n`
        : "No webhook signing secret: set DOCUMENT_SECRET_KEY (the workers' one) and run --rotate-webhook-secret.\n") +
        `API key ${apiKey.id} (${apiKey.role}, "${apiKey.name}"). Shown once; store it now:\n${key}`,
    );
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  code = 1;
} finally {
  await db?.close();
}
process.exit(code);
