import { Sequelize } from 'sequelize';
import type { Config } from '../config/config.js';

/** Opens a Sequelize connection that never syncs: the app DB's schema belongs to migrations/. */
export function createSequelize(url: string, poolMax: number, name: 'app' | 'legacy'): Sequelize {
  return new Sequelize(url, {
    dialect: 'postgres',
    logging: false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 30_000 },
    dialectOptions: { application_name: `folio-${name}` },
  });
}

/** The two named connections every Folio process holds. */
export function createConnections(config: Config): { app: Sequelize; legacy: Sequelize } {
  return {
    app: createSequelize(config.database.appUrl, config.database.poolMax, 'app'),
    legacy: createSequelize(config.database.legacyUrl, config.database.poolMax, 'legacy'),
  };
}
