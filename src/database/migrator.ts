import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { QueryInterface, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Umzug over the compiled migrations/ folder; applies to the app DB only, never the legacy one. */
export function createMigrator(app: Sequelize): Umzug<QueryInterface> {
  return new Umzug({
    migrations: {
      glob: ['*.js', { cwd: migrationsDir }],
      resolve: ({ name, path: file, context }) => {
        const load = () => import(pathToFileURL(file!).href) as Promise<{ up: Fn; down: Fn }>;
        return {
          name: name.replace(/\.js$/, ''),
          up: async () => (await load()).up({ name, path: file, context }),
          down: async () => (await load()).down({ name, path: file, context }),
        };
      },
    },
    context: app.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize: app, tableName: 'folio_migrations' }),
    logger: undefined,
  });
}

type Fn = (params: { name: string; path?: string; context: QueryInterface }) => Promise<void>;
