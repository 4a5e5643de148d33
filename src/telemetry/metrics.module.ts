import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Registry } from 'prom-client';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type { Client, Connection } from '@temporalio/client';
import { APP_DB, LEGACY_DB } from '../database/database.module.js';
import { STORAGE } from '../storage/storage.module.js';
import type { DocumentStorage } from '../../core/storage/storage.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { MalwareScanner } from '../malware/malware-scanner.js';
import { IN_FLIGHT_STATUSES, JOB_STATUSES } from '../../core/lifecycle.js';
import {
  createRegistry,
  observeHttpRequests,
  registerDependencyGauge,
  registerDiskGauges,
  registerDocumentGauges,
  type WatchedFolder,
} from './metrics.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';

/** Injection token of the API process's metrics registry. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * The API's metrics: HTTP requests by route template and status, documents by status (read at scrape
 * time), whether each service it depends on answers, free disk space, default process metrics. Served on METRICS_PORT, apart from the public port.
 */
@Injectable()
export class ApiMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: MetricsServer;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(APP_DB) private readonly db: Sequelize,
    @Inject(LEGACY_DB) private readonly legacy: Sequelize,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(STORAGE) private readonly storage: DocumentStorage,
    private readonly adapterHost: HttpAdapterHost,
    private readonly scanner: MalwareScanner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    observeHttpRequests(this.adapterHost.httpAdapter.getHttpServer() as Server, this.registry);
    registerDocumentGauges(
      this.registry,
      {
        byStatus: async () => {
          const rows = await this.db.query<{ status: string; n: number }>(
            'SELECT status, count(*)::int AS n FROM jobs GROUP BY status',
            { type: QueryTypes.SELECT },
          );
          return Object.fromEntries(rows.map((r) => [r.status, r.n]));
        },
        inFlight: async () => {
          const [row] = await this.db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM jobs WHERE status IN (:statuses)',
            { type: QueryTypes.SELECT, replacements: { statuses: [...IN_FLIGHT_STATUSES] } },
          );
          return row?.n ?? 0;
        },
      },
      JOB_STATUSES,
      (err) => this.logger.warn(`documents gauge: ${err instanceof Error ? err.message : String(err)}`),
    );
    // The same checks as /health/ready, so an alert can say which service is down.
    const clamd = this.scanner.check();
    registerDependencyGauge(this.registry, {
      app_db: () => this.db.query('SELECT 1'),
      legacy_db: () => this.legacy.query('SELECT 1'),
      temporal: () => (this.temporal.connection as Connection).healthService.check({}),
      storage: () => this.storage.check(),
      ...(clamd ? { clamd } : {}),
    });
    this.scanner.registerMetrics(this.registry);
    registerDiskGauges(this.registry, apiFolders(this.config));
    const { host, apiPort } = this.config.metrics;
    if (apiPort === undefined) return;
    this.server = await startMetricsServer({ host, port: apiPort, registry: this.registry });
    this.logger.log(`Metrics on http://${host}:${this.server.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}

/** The folders the API writes: the document store and unfinished resumable uploads, each when it is a folder. */
function apiFolders(config: Config): WatchedFolder[] {
  return [
    ...(config.storage.kind === 'local' ? [{ folder: 'storage', dir: config.storage.dir }] : []),
    ...(config.uploads.kind === 'local' ? [{ folder: 'uploads', dir: config.uploads.dir }] : []),
  ];
}

@Module({
  providers: [{ provide: METRICS_REGISTRY, useFactory: createRegistry }, ApiMetrics],
  exports: [METRICS_REGISTRY],
})
export class MetricsModule {}
