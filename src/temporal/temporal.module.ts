import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';

/** Injection token of the process's one Temporal Client. */
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');

/** One Temporal Client per process, connected at boot and closed on shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: TEMPORAL_CLIENT,
      inject: [CONFIG],
      useFactory: async (c: Config): Promise<Client> => {
        const connection = await Connection.connect({ address: c.temporal.address });
        return new Client({ connection, namespace: c.temporal.namespace });
      },
    },
  ],
  exports: [TEMPORAL_CLIENT],
})
export class TemporalModule implements OnApplicationShutdown {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
  }
}
