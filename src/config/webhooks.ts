import type { WebhookSettings } from '../../core/contracts.js';
import type { Config } from './config.js';

/** The webhook part of a document workflow's input that comes from configuration (all but the URL). */
export function webhookRunSettings(config: Config): Omit<WebhookSettings, 'url'> {
  return {
    retryInitialMs: config.webhooks.retryInitialMs,
    retryMaxMs: config.webhooks.retryMaxMs,
    ...(config.http.publicBaseUrl ? { baseUrl: config.http.publicBaseUrl } : {}),
  };
}
