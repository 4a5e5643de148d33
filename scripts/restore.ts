/**
 * `npm run restore -- --from <folder> [--force]`: restores a backup made by `npm run backup` into the
 * configured app database and store (or `npm start`'s embedded stack when it runs). The backup's checksums
 * are verified before anything is written; a database that holds data is refused unless --force; the
 * migrations are applied afterwards. Jobs that were running at backup time are closed by the reconcile
 * schedule (their workflows are not in this Temporal). See docs/operations.md.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createStorage } from '../core/storage/create-storage.js';
import { restore } from './lib/backup.js';
import { appDatabaseUrl, appStorageConfig } from './lib/local-stack.js';
import { migrate } from './migrate.js';

const { values } = parseArgs({ options: { from: { type: 'string' }, force: { type: 'boolean', default: false } } });
let code = 0;
try {
  if (!values.from) throw new Error('usage: npm run restore -- --from <backup folder> [--force]');
  const { url, embedded } = appDatabaseUrl();
  if (embedded) console.error(`app DB: ${embedded}`);
  const storage = createStorage(appStorageConfig(embedded !== undefined));
  const result = await restore({
    from: path.resolve(values.from),
    databaseUrl: url,
    storage,
    force: values.force,
    migrate: (databaseUrl) => migrate(databaseUrl),
    log: (line) => console.error(line),
  });
  console.log(
    `restored the backup of ${result.manifest.createdAt}: database, ${result.objects} objects` +
      (result.migrated.length ? `, then ${result.migrated.length} migrations` : ''),
  );
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  code = 1;
}
// Exit explicitly: an open handle (a storage client's sockets) must not keep the command alive.
process.exit(code);
