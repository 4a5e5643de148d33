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
import { APP_DB } from '../database/database.module.js';
import { IN_FLIGHT_STATUSES, JOB_STATUSES } from '../../core/lifecycle.js';
import { createRegistry, observeHttpRequests, registerDocumentGauges } from './metrics.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';

/** Injection token of the API process's metrics registry. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * The API's metrics: HTTP requests by route template and status, documents by status (read at scrape
 * time), default process metrics. Served on METRICS_PORT, apart from the public port.
 */
@Injectable()
export class ApiMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: MetricsServer;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(APP_DB) private readonly db: Sequelize,
    private readonly adapterHost: HttpAdapterHost,
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
    const { host, apiPort } = this.config.metrics;
    if (apiPort === undefined) return;
    this.server = await startMetricsServer({ host, port: apiPort, registry: this.registry });
    this.logger.log(`Metrics on http://${host}:${this.server.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}

@Module({
  providers: [{ provide: METRICS_REGISTRY, useFactory: createRegistry }, ApiMetrics],
  exports: [METRICS_REGISTRY],
})
export class MetricsModule {}
