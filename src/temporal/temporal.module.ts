import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { checkSearchAttributes } from '../../core/workflow-client.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';

/** Injection token of the process's one Temporal Client. */
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');

/** Injection token of the Folio search attributes the namespace has registered (checked once at boot). */
export const TEMPORAL_SEARCH_ATTRIBUTES = Symbol('TEMPORAL_SEARCH_ATTRIBUTES');

/**
 * Which of Folio's search attributes the namespace has: workflows are started with those only (a start
 * naming an unregistered one is refused). A missing one is logged with the command that registers it.
 */
export async function registeredSearchAttributes(
  client: Client,
  namespace: string,
  logger: Pick<Logger, 'warn'>,
): Promise<readonly string[]> {
  try {
    const { registered, missing, command } = await checkSearchAttributes(client, namespace);
    if (command) {
      logger.warn(
        `Temporal namespace ${namespace} lacks the search attributes ${missing.join(', ')}: documents run, but ` +
          `cannot be filtered by them in the Temporal UI. Register them with: ${command}`,
      );
    }
    return registered;
  } catch (err) {
    logger.warn(
      `Could not list the search attributes of namespace ${namespace} (${err instanceof Error ? err.message : String(err)}); workflows start without them.`,
    );
    return [];
  }
}

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
    {
      provide: TEMPORAL_SEARCH_ATTRIBUTES,
      inject: [TEMPORAL_CLIENT, CONFIG],
      useFactory: (client: Client, c: Config): Promise<readonly string[]> =>
        registeredSearchAttributes(client, c.temporal.namespace, new Logger('TemporalSearchAttributes')),
    },
  ],
  exports: [TEMPORAL_CLIENT, TEMPORAL_SEARCH_ATTRIBUTES],
})
export class TemporalModule implements OnApplicationShutdown {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
  }
}
