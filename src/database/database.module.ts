import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Sequelize } from 'sequelize';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels, type AppModels } from '../../core/db/models.js';
import { JobStore } from '../../core/job-store.js';
import { guardLegacyConnection } from '../legacy/guard.js';
import { initLegacyModels, type LegacyModels } from '../legacy/models.js';

/** The app DB connection (ours, migrated). */
export const APP_DB = Symbol('APP_DB');
/** The legacy DB connection (someone else's schema: never migrated, never synced). */
export const LEGACY_DB = Symbol('LEGACY_DB');
/** The app models bound to APP_DB. */
export const APP_MODELS = Symbol('APP_MODELS');
/** The legacy models bound to LEGACY_DB (guarded: no delete, no schema change). */
export const LEGACY_MODELS = Symbol('LEGACY_MODELS');

/** Two named Sequelize connections, closed on shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: APP_DB,
      inject: [CONFIG],
      useFactory: (c: Config) => createSequelize(c.database.appUrl, c.database.poolMax, 'app'),
    },
    {
      provide: LEGACY_DB,
      inject: [CONFIG],
      useFactory: (c: Config) =>
        guardLegacyConnection(createSequelize(c.database.legacyUrl, c.database.poolMax, 'legacy')),
    },
    { provide: APP_MODELS, inject: [APP_DB], useFactory: (db: Sequelize): AppModels => initAppModels(db) },
    { provide: LEGACY_MODELS, inject: [LEGACY_DB], useFactory: (db: Sequelize): LegacyModels => initLegacyModels(db) },
    { provide: JobStore, inject: [APP_MODELS], useFactory: (models: AppModels) => new JobStore(models) },
  ],
  exports: [APP_DB, LEGACY_DB, APP_MODELS, LEGACY_MODELS, JobStore],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(APP_DB) private readonly app: Sequelize,
    @Inject(LEGACY_DB) private readonly legacy: Sequelize,
  ) {}

  /** The worker's connections: app-DB queries wait out a database restart instead of failing the activity. */
  static forWorker(): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: APP_DB,
          inject: [CONFIG],
          useFactory: (c: Config) =>
            createSequelize(c.database.appUrl, c.database.poolMax, 'app', { waitForDatabase: true }),
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.app.close(), this.legacy.close()]);
  }
}
