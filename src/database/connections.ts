import { Sequelize } from 'sequelize';

/** Opens a Sequelize connection that never syncs: the app DB's schema belongs to migrations/. */
export function createSequelize(url: string, poolMax: number, name: 'app' | 'legacy'): Sequelize {
  return new Sequelize(url, {
    dialect: 'postgres',
    logging: false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 30_000 },
    dialectOptions: { application_name: `folio-${name}` },
  });
}
