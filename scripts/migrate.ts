import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { createSequelize } from '../core/db/connections.js';
import { createMigrator } from '../src/database/migrator.js';

/** Applies pending app-DB migrations (`down` reverts the last one, `down-all` every one). The legacy DB is never touched. */
export async function migrate(appUrl: string, direction: 'up' | 'down' | 'down-all' = 'up'): Promise<string[]> {
  const db = createSequelize(appUrl, 2, 'app');
  try {
    const migrator = createMigrator(db);
    const done =
      direction === 'up' ? await migrator.up() : await migrator.down(direction === 'down-all' ? { to: 0 } : undefined);
    return done.map((m) => m.name);
  } finally {
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const direction = process.argv[2] === 'down' ? 'down' : 'up';
  const applied = await migrate(loadConfig().database.appUrl, direction);
  console.log(applied.length ? `${direction}: ${applied.join(', ')}` : 'migrations: nothing to do');
}
