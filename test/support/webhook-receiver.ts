/**
 * A webhook receiver for end-to-end tests: a real HTTP server in the test process that verifies every request's
 * signature with the standardwebhooks library (401 when it does not verify) and records what it got. A path can
 * be told to answer 503 a number of times first, to exercise the sender's retries.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { BatchWebhookPayload, WebhookPayload } from '../../core/contracts.js';

/** One request the receiver got, with whether its signature verified and what it answered. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  verified: boolean;
  answered: number;
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly failures = new Map<string, number>();
  url = '';

  constructor(private readonly secret: string) {}

  async start(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The next `n` requests to `path` are answered 503. */
  failFirst(path: string, n: number): void {
    this.failures.set(path, n);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let verified = true;
      try {
        new Webhook(this.secret).verify(body, headers);
      } catch {
        verified = false;
      }
      const path = req.url ?? '/';
      const failing = this.failures.get(path) ?? 0;
      const answered = !verified ? 401 : failing > 0 ? 503 : 200;
      if (failing > 0) this.failures.set(path, failing - 1);
      this.received.push({ path, headers, body, verified, answered });
      res.writeHead(answered).end();
    });
  }

  /** Accepted (200) deliveries of `event` (any event when left out) for `jobId`. */
  accepted(jobId: string, event?: string): (Received & { payload: WebhookPayload })[] {
    return this.received
      .filter((r) => r.answered === 200)
      .map((r) => ({ ...r, payload: JSON.parse(r.body) as WebhookPayload }))
      .filter((r) => r.payload.data.jobId === jobId && (event === undefined || r.payload.type === event));
  }

  /** The first accepted delivery of `event` for `jobId`, waiting up to `timeoutMs` for it. */
  async waitFor(jobId: string, event: string, timeoutMs = 60_000): Promise<Received & { payload: WebhookPayload }> {
    const found = await until(() => this.accepted(jobId, event)[0], timeoutMs);
    if (found) return found;
    throw new Error(`no ${event} for ${jobId}; got ${JSON.stringify(this.received.map((r) => r.body))}`);
  }

  /** Every batch.completed request received for the batch, verified or not. */
  batchCompleted(batchId: string): (Received & { payload: BatchWebhookPayload })[] {
    return this.received
      .map((r) => ({ ...r, payload: JSON.parse(r.body) as BatchWebhookPayload }))
      .filter((r) => r.payload.type === 'batch.completed' && r.payload.data.batchId === batchId);
  }

  /** The batch's batch.completed requests once there are at least `count`, waiting up to `timeoutMs`. */
  async waitForBatch(batchId: string, count = 1, timeoutMs = 60_000) {
    const found = await until(() => {
      const got = this.batchCompleted(batchId);
      return got.length >= count ? got : undefined;
    }, timeoutMs);
    if (found) return found;
    throw new Error(`no batch.completed for ${batchId}`);
  }
}

/** `probe()`'s first defined answer, polled every 100 ms; undefined once `timeoutMs` has passed. */
async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}
