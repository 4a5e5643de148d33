import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { ApiKeysService } from './api-keys.service.js';

/** The channel the api_keys trigger (migrations/) notifies with a revoked key's id. */
export const REVOKED_CHANNEL = 'folio_api_key_revoked';
const RECONNECT_MS = 1_000;

/**
 * Listens for API key revocations on one PostgreSQL connection of its own and drops each revoked key from
 * this process's key cache at once. The cache is used only while the connection listens: when it breaks, the
 * cache is emptied and every request reads its key again until the listener is back.
 */
@Injectable()
export class KeyRevocations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('KeyRevocations');
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly keys: ApiKeysService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.keys.setCaching(false);
    if (this.config.auth.mode !== 'required' || this.config.auth.keyCacheSeconds === 0) return;
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.database.appUrl });
    this.client = client;
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.keys.setCaching(false);
      client.removeAllListeners();
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn(`revocations not heard (${err?.message ?? 'connection ended'}): API keys uncached until back`);
      this.retry = setTimeout(() => void this.listen(), RECONNECT_MS);
    };
    client.on('notification', (n) => {
      if (n.channel === REVOKED_CHANNEL && n.payload) this.keys.forget(n.payload);
    });
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOKED_CHANNEL}`);
      if (this.client === client) this.keys.setCaching(true);
    } catch (err) {
      lost(err as Error);
    }
  }
}
