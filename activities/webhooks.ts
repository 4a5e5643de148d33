/**
 * deliverWebhook: one attempt at one webhook, signed by Standard Webhooks with the job's API key's secret,
 * sent only to an address that passed the SSRF rules (core/webhooks.ts) and connected to exactly that
 * address (the resolver is pinned, so a second DNS answer cannot swap in another), no redirects followed,
 * bounded in time and in what is read back. Every attempt is recorded in webhook_deliveries.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Webhook } from 'standardwebhooks';
import type { DeliverWebhookInput, DeliverWebhookOutput } from '../core/contracts.js';
import type { AppModels, WebhookDelivery } from '../core/db/models.js';
import { callbackUrlProblem, openWebhookSecret, refusedAddressReason } from '../core/webhooks.js';

/** How deliveries behave (WEBHOOK_* of the worker). */
export interface WebhookDeliverySettings {
  /** Deliver to loopback and private addresses too (development, tests). */
  allowPrivate: boolean;
  /** Connect + response timeout of one attempt. */
  timeoutMs: number;
  /** How long a rotated-out secret still signs. */
  secretOverlapSeconds: number;
}

/** Response bytes read at most (and then dropped): a receiver cannot make the worker hold more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A refused URL or address: recorded, never retried. */
class Refused extends Error {}

/** The address to connect to: the host's first resolved address, after every address passed the rules. */
export async function checkedAddress(url: URL, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  const addresses = literal
    ? [{ address: host, family: literal as 4 | 6 }]
    : (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({
        address: a.address,
        family: a.family as 4 | 6,
      }));
  const first = addresses[0];
  if (!first) throw new Error(`${host} resolved to no address`);
  if (!allowPrivate) {
    // Every answer is judged: a name that resolves to one public and one private address is refused.
    for (const a of addresses) {
      const reason = refusedAddressReason(a.address);
      if (reason) {
        const what = literal ? `${host} is` : `${host} resolves to ${a.address},`;
        throw new Refused(
          `${what} a ${reason} address; webhooks go only to public addresses (WEBHOOK_ALLOW_PRIVATE=true allows others, for development).`,
        );
      }
    }
  }
  return first;
}

/** A resolver that answers every lookup with the address already checked. */
function pinned(address: string, family: 4 | 6): LookupFunction {
  return (_host, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** POSTs `body` to `url` at `address`; the status, with at most MAX_RESPONSE_BYTES of the answer read. */
function post(
  url: URL,
  target: { address: string; family: 4 | 6 },
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<number> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        lookup: pinned(target.address, target.family),
        signal,
        agent: false,
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('close', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The deliverWebhook activity, built with the app models, DOCUMENT_SECRET_KEY and the delivery settings. */
export function createWebhookActivities(deps: {
  models: Pick<AppModels, 'Job' | 'ApiKey' | 'WebhookDelivery'>;
  secretKey: Buffer | undefined;
  settings: WebhookDeliverySettings;
}) {
  const { models, secretKey, settings } = deps;

  /** The secrets that sign for the job's key: the current one, and the previous one within the overlap. */
  async function signingSecrets(jobId: string): Promise<string[]> {
    const job = await models.Job.findByPk(jobId, { attributes: ['apiKeyId'] });
    const key = job?.apiKeyId ? await models.ApiKey.findByPk(job.apiKeyId) : null;
    if (!key?.webhookSecretSealed || !secretKey) return [];
    const secrets = [openWebhookSecret(secretKey, key.id, key.webhookSecretSealed)];
    const rotatedAt = key.webhookSecretRotatedAt?.getTime();
    if (
      key.webhookSecretPreviousSealed &&
      rotatedAt !== undefined &&
      Date.now() - rotatedAt < settings.secretOverlapSeconds * 1000
    ) {
      secrets.push(openWebhookSecret(secretKey, key.id, key.webhookSecretPreviousSealed));
    }
    return secrets;
  }

  return {
    /**
     * One attempt at delivering a webhook. 2xx: delivered; 410: gone (the receiver wants no more; not
     * retried); any other answer or a network error: thrown, for the retry policy; a refused URL or address,
     * or a key without a signing secret: a non-retryable failure. Each attempt is recorded first.
     */
    async deliverWebhook(input: DeliverWebhookInput): Promise<DeliverWebhookOutput> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const started = Date.now();
      const record = async (row: Pick<WebhookDelivery, 'outcome' | 'statusCode' | 'error'>) => {
        try {
          await models.WebhookDelivery.create({
            jobId: input.jobId,
            event: input.payload.type,
            webhookId: input.webhookId,
            attempt,
            url: input.url,
            durationMs: Date.now() - started,
            attemptedAt: new Date(started),
            ...row,
          });
        } catch (err) {
          // The record must not turn a delivered webhook into a retry (a duplicate for the receiver).
          ctx.log.warn('Could not record a webhook attempt', { error: String(err) });
        }
      };

      const problem = callbackUrlProblem(input.url);
      const url = new URL(input.url);
      let target: { address: string; family: 4 | 6 };
      try {
        if (problem) throw new Refused(problem);
        target = await checkedAddress(url, settings.allowPrivate);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        await record({ outcome: err instanceof Refused ? 'refused' : 'failed', statusCode: null, error: message });
        if (err instanceof Refused) throw ApplicationFailure.nonRetryable(message, 'WEBHOOK_REFUSED');
        throw ApplicationFailure.retryable(`The callback URL's host did not resolve: ${message}`, 'WEBHOOK_FAILED');
      }

      const secrets = await signingSecrets(input.jobId);
      if (secrets.length === 0) {
        const message =
          "The job's API key has no webhook signing secret (or the worker has no DOCUMENT_SECRET_KEY); rotate one with `npm run api-key -- --rotate-webhook-secret <key id>`.";
        await record({ outcome: 'refused', statusCode: null, error: message });
        throw ApplicationFailure.nonRetryable(message, 'WEBHOOK_NO_SECRET');
      }
      const body = JSON.stringify(input.payload);
      const now = new Date();
      const signature = secrets.map((s) => new Webhook(s).sign(input.webhookId, now, body)).join(' ');
      const headers = {
        'webhook-id': input.webhookId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
        'user-agent': 'Folio-Webhooks/1',
      };
      let statusCode: number;
      try {
        const signal = AbortSignal.any([ctx.cancellationSignal, AbortSignal.timeout(settings.timeoutMs)]);
        statusCode = await post(url, target, headers, body, signal);
      } catch (err) {
        const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        await record({ outcome: 'failed', statusCode: null, error: message });
        throw ApplicationFailure.retryable(`Delivery to ${url.host} failed: ${message}`, 'WEBHOOK_FAILED');
      }
      if (statusCode >= 200 && statusCode < 300) {
        await record({ outcome: 'delivered', statusCode, error: null });
        return { outcome: 'delivered', statusCode, attempt };
      }
      if (statusCode === 410) {
        await record({ outcome: 'gone', statusCode, error: 'The receiver answered 410 Gone: no more attempts.' });
        return { outcome: 'gone', statusCode, attempt };
      }
      const error = `The receiver answered ${statusCode}${statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : ''}.`;
      await record({ outcome: 'failed', statusCode, error });
      throw ApplicationFailure.retryable(error, 'WEBHOOK_FAILED');
    },
  };
}
