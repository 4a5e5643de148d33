/**
 * `npm run backup [-- --out <folder>]`: backs up the app database (pg_dump, custom format) and every stored
 * document and searchable PDF, with a manifest of checksums, into a new folder (default:
 * backups/folio-<timestamp>). Works on the configured database and store, or on `npm start`'s embedded stack
 * when it runs. The legacy database is not Folio's and is not backed up. See docs/operations.md.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createStorage } from '../core/storage/create-storage.js';
import { backup } from './lib/backup.js';
import { appDatabaseUrl, appStorageConfig } from './lib/local-stack.js';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
let code = 0;
try {
  const { url, embedded } = appDatabaseUrl();
  if (embedded) console.error(`app DB: ${embedded}`);
  const storage = createStorage(appStorageConfig(embedded !== undefined));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.resolve(values.out ?? path.join('backups', `folio-${stamp}`));
  const manifest = await backup({ databaseUrl: url, storage, outDir, log: (line) => console.error(line) });
  console.log(
    `backup written to ${outDir}: database (migration ${manifest.migrationLevel ?? 'none'}), ` +
      `${manifest.objects.count} objects, ${manifest.objects.bytes} bytes`,
  );
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  code = 1;
}
// Exit explicitly: an open handle (a storage client's sockets) must not keep the command alive.
process.exit(code);
