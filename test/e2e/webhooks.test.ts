/**
 * Signed webhooks on the real stack (API, worker, Temporal, PostgreSQL) with a real HTTP receiver in the test
 * process that verifies every delivery with the standardwebhooks library: job.completed, job.failed,
 * job.needs_password and job.cancelled; the key's default URL; a receiver answering 503 for a while gets
 * exactly one accepted delivery per event and the attempts show in GET /v1/jobs/{id}/deliveries; a private
 * address refused when WEBHOOK_ALLOW_PRIVATE is false; `npm run api-key -- --json` and secret rotation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { createWebhookActivities } from '../../activities/webhooks.js';
import { generateApiKey } from '../../src/auth/api-keys.service.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels } from '../../core/db/models.js';
import { parseSecretKey } from '../../core/sealed-secret.js';
import { generateWebhookSecret, sealWebhookSecret } from '../../core/webhooks.js';
import type { DeliverWebhookInput, WebhookPayload } from '../../core/contracts.js';
import { corpusPath } from '../support/corpus.js';
import { ensureOperator } from '../support/operators.js';
import { signIn } from '../support/panel.js';
import { documentWorkflowId } from '../../core/contracts.js';
import { harnessEnv, recordHistoryFixture, repoRoot, startStack, type Stack } from '../support/stack.js';
import { syntheticTextPdf } from '../support/synthetic.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const run = promisify(execFile);

describe('signed webhooks', () => {
  const env = harnessEnv();
  const secretKey = parseSecretKey(env.DOCUMENT_SECRET_KEY!)!;
  const secret = generateWebhookSecret();
  const receiver = new WebhookReceiver(secret);
  let stack: Stack;
  let key: string;
  let keyId: string;
  /** Jobs whose histories become replay fixtures (FOLIO_RECORD_HISTORIES=1 npm test -- webhooks). */
  const fixtures: Record<string, string> = {};

  /** A client key with a webhook secret and, optionally, a default URL, inserted as `npm run api-key` would. */
  async function clientKey(webhookUrl: string | null): Promise<{ key: string; id: string }> {
    const client = new pg.Client({ connectionString: env.APP_DATABASE_URL });
    await client.connect();
    try {
      const { key, prefix, keyHash } = generateApiKey();
      const id = randomUUID();
      await client.query(
        `INSERT INTO api_keys (id, name, role, prefix, key_hash, webhook_url, webhook_secret_sealed, created_at, updated_at)
           VALUES ($1, 'webhooks test', 'client', $2, $3, $4, $5, now(), now())`,
        [id, prefix, keyHash, webhookUrl, sealWebhookSecret(secretKey, id, secret)],
      );
      return { key, id };
    } finally {
      await client.end();
    }
  }

  async function submitWith(
    file: string | { name: string; bytes: Uint8Array },
    fields: Record<string, string> = {},
  ): Promise<string> {
    const res = await stack.submit(file, fields, undefined, { authorization: `Bearer ${key}` });
    const body = (await res.json()) as { jobId: string };
    assert.equal(res.status, 202, JSON.stringify(body));
    return body.jobId;
  }

  async function deliveries(jobId: string) {
    const res = await fetch(`${stack.url}/v1/jobs/${jobId}/deliveries`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as {
      callbackUrl: string | null;
      deliveries: { webhookId: string; event: string; attempt: number; outcome: string; statusCode: number | null }[];
    };
  }

  before(async () => {
    await receiver.start();
    const webhookEnv = { WEBHOOK_RETRY_INITIAL_MS: '200', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_TIMEOUT_MS: '5000' };
    stack = await startStack({
      name: 'webhooks',
      env: webhookEnv,
      worker: { WEBHOOK_ALLOW_PRIVATE: 'true', PASSWORD_WAIT_SECONDS: '600' },
    });
    ({ key, id: keyId } = await clientKey(`${receiver.url}/default`));
  });
  after(async () => {
    if (process.env.FOLIO_RECORD_HISTORIES) {
      for (const [name, jobId] of Object.entries(fixtures)) {
        recordHistoryFixture(documentWorkflowId(jobId), path.join(repoRoot, `test/fixtures/histories/${name}.json`));
      }
    }
    await stack?.stop();
    await receiver.stop();
  });

  it('delivers job.completed, signed, to the callbackUrl; the key default when none is sent', async () => {
    const bytes = await syntheticTextPdf(2);
    const withUrl = await submitWith({ name: 'a.pdf', bytes }, { callbackUrl: `${receiver.url}/hook` });
    const byDefault = await submitWith({ name: 'b.pdf', bytes: await syntheticTextPdf(1, { title: randomUUID() }) });
    const got = await receiver.waitFor(withUrl, 'job.completed');
    fixtures['document-webhooks-completed'] = withUrl;
    assert.equal(got.path, '/hook');
    assert.ok(got.verified);
    assert.match(got.headers['webhook-id']!, /^msg_[0-9a-f]{32}$/);
    assert.deepEqual(got.payload.data, {
      jobId: withUrl,
      status: 'completed',
      pageCount: 2,
      pagesDone: 2,
      pagesFailed: 0,
      error: null,
      links: {
        self: `/v1/jobs/${withUrl}`,
        result: `/v1/jobs/${withUrl}/result`,
        deliveries: `/v1/jobs/${withUrl}/deliveries`,
      },
    });
    const status = (await (
      await fetch(`${stack.url}/v1/jobs/${withUrl}`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { status: string };
    assert.equal(status.status, 'completed', 'the status is final before the webhook is sent');
    const other = await receiver.waitFor(byDefault, 'job.completed');
    assert.equal(other.path, '/default');
    const listed = await deliveries(withUrl);
    assert.equal(listed.callbackUrl, `${receiver.url}/hook`);
    assert.deepEqual(
      listed.deliveries.map((d) => [d.event, d.attempt, d.outcome, d.statusCode]),
      [['job.completed', 1, 'delivered', 200]],
    );
  });

  it('delivers job.failed for a broken document, and job.needs_password then job.cancelled', async () => {
    const broken = await submitWith(corpusPath('corrupt/pdfjs-bug1020226.pdf'), { callbackUrl: `${receiver.url}/h` });
    const locked = await submitWith(corpusPath('encrypted/pdfjs-issue6010_1.pdf'), {
      callbackUrl: `${receiver.url}/h`,
    });
    const failed = await receiver.waitFor(broken, 'job.failed');
    assert.ok(failed.verified);
    assert.equal(failed.payload.data.status, 'failed');
    assert.ok(failed.payload.data.error?.code, 'the failure code travels with the event');
    const waiting = await receiver.waitFor(locked, 'job.needs_password');
    assert.equal(waiting.payload.data.error?.code, 'PDF_PASSWORD_REQUIRED');
    const cancel = await fetch(`${stack.url}/v1/jobs/${locked}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(cancel.status, 202);
    const cancelled = await receiver.waitFor(locked, 'job.cancelled');
    fixtures['document-webhooks-cancelled'] = locked;
    assert.notEqual(cancelled.headers['webhook-id'], waiting.headers['webhook-id'], 'one id per event');
  });

  it("takes callbackUrl from a resumable (tus) upload's metadata", async () => {
    const bytes = await syntheticTextPdf(1, { title: randomUUID() });
    const headers = { 'tus-resumable': '1.0.0', authorization: `Bearer ${key}` };
    const meta = { filename: 'tus.pdf', callbackUrl: `${receiver.url}/tus` };
    const created = await fetch(`${stack.url}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...headers,
        'upload-length': String(bytes.length),
        'upload-metadata': Object.entries(meta)
          .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
          .join(','),
      },
    });
    assert.equal(created.status, 201, await created.text());
    const done = await fetch(new URL(created.headers.get('location')!, stack.url), {
      method: 'PATCH',
      headers: { ...headers, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: bytes,
    });
    assert.equal(done.status, 204, await done.text());
    const jobId = done.headers.get('folio-job-id')!;
    const got = await receiver.waitFor(jobId, 'job.completed');
    assert.equal(got.path, '/tus');
    assert.ok(got.verified);
  });

  it('announces the end of a retry of failed pages too, as a new event', async () => {
    const jobId = await submitWith(corpusPath('corrupt/qpdf-bad-xref-entry.pdf'), { callbackUrl: `${receiver.url}/r` });
    const first = await receiver.waitFor(jobId, 'job.failed');
    assert.equal(first.payload.data.pagesFailed, 1);
    const retry = await fetch(`${stack.url}/v1/jobs/${jobId}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(retry.status, 202, await retry.text());
    const deadline = Date.now() + 60_000;
    while (receiver.accepted(jobId, 'job.failed').length < 2) {
      assert.ok(Date.now() < deadline, 'the retry announced its end');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [a, b] = receiver.accepted(jobId, 'job.failed');
    assert.notEqual(a!.headers['webhook-id'], b!.headers['webhook-id']);
    assert.ok(b!.verified);
  });

  it('retries a receiver answering 503 until it accepts: one accepted delivery, every attempt listed', async () => {
    receiver.failFirst('/flaky', 3);
    const jobId = await submitWith(
      { name: 'c.pdf', bytes: await syntheticTextPdf(1, { title: randomUUID() }) },
      {
        callbackUrl: `${receiver.url}/flaky`,
      },
    );
    const got = await receiver.waitFor(jobId, 'job.completed');
    // Give a (wrong) extra attempt the time to arrive before counting.
    await new Promise((r) => setTimeout(r, 1500));
    const attempts = receiver.received.filter((r) => r.headers['webhook-id'] === got.headers['webhook-id']);
    assert.deepEqual(
      attempts.map((a) => a.answered),
      [503, 503, 503, 200],
    );
    assert.ok(
      attempts.every((a) => a.verified),
      'every attempt is signed, each with its own timestamp',
    );
    assert.equal(receiver.accepted(jobId).length, 1);
    const listed = await deliveries(jobId);
    assert.deepEqual(
      listed.deliveries.map((d) => [d.attempt, d.outcome, d.statusCode, d.webhookId]),
      [
        [1, 'failed', 503, got.headers['webhook-id']],
        [2, 'failed', 503, got.headers['webhook-id']],
        [3, 'failed', 503, got.headers['webhook-id']],
        [4, 'delivered', 200, got.headers['webhook-id']],
      ],
    );
  });

  it('keeps trying a receiver that is down until it is up: connection errors recorded, one delivery', async () => {
    // A port nothing listens on, until a receiver starts there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const late = new WebhookReceiver(secret);
    const jobId = await submitWith(
      { name: 'down.pdf', bytes: await syntheticTextPdf(1, { title: randomUUID() }) },
      { callbackUrl: `http://127.0.0.1:${port}/late` },
    );
    const deadline = Date.now() + 60_000;
    while (!(await deliveries(jobId)).deliveries.some((d) => d.outcome === 'failed')) {
      assert.ok(Date.now() < deadline, 'a failed attempt is recorded while the receiver is down');
      await new Promise((r) => setTimeout(r, 100));
    }
    await late.start(port);
    try {
      const got = await late.waitFor(jobId, 'job.completed');
      assert.ok(got.verified);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(late.accepted(jobId).length, 1);
      const listed = (await deliveries(jobId)).deliveries;
      assert.equal(listed.at(-1)?.outcome, 'delivered');
      assert.ok(listed.slice(0, -1).every((d) => d.outcome === 'failed' && d.statusCode === null));
      assert.deepEqual(
        listed.map((d) => d.attempt),
        listed.map((_, i) => i + 1),
      );
    } finally {
      await late.stop();
    }
  });

  it('refuses callback URLs that are not http(s) at submit', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob([await syntheticTextPdf(1, { title: randomUUID() })], { type: 'application/pdf' }),
      'e.pdf',
    );
    form.append('callbackUrl', 'file:///etc/passwd');
    const bad = await fetch(`${stack.url}/v1/documents`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'WEBHOOK_INVALID');
    assert.match(body.error.message, /must use https/);
  });

  it('records a delivery to a private address as refused when WEBHOOK_ALLOW_PRIVATE is false', async () => {
    const db = createSequelize(env.APP_DATABASE_URL!, 1, 'app');
    try {
      const models = initAppModels(db);
      const jobId = await submitWith({ name: 'f.pdf', bytes: await syntheticTextPdf(1, { title: randomUUID() }) });
      const activities = createWebhookActivities({
        models,
        secretKey,
        settings: { allowPrivate: false, timeoutMs: 2000, secretOverlapSeconds: 60 },
      });
      const webhookId = `msg_${randomUUID().replaceAll('-', '')}`;
      const payload = { type: 'job.completed', timestamp: new Date().toISOString(), data: {} } as WebhookPayload;
      await assert.rejects(
        new MockActivityEnvironment().run((input: DeliverWebhookInput) => activities.deliverWebhook(input), {
          webhookId,
          jobId,
          url: `${receiver.url}/private`,
          payload,
        }),
        (err: Error & { type?: string; nonRetryable?: boolean }) =>
          err.type === 'WEBHOOK_REFUSED' && err.nonRetryable === true && /loopback/.test(err.message),
      );
      const rows = await models.WebhookDelivery.findAll({ where: { webhookId } });
      assert.deepEqual(
        rows.map((r) => [r.outcome, r.statusCode, r.attempt]),
        [['refused', null, 1]],
      );
      assert.match(rows[0]!.error!, /127\.0\.0\.1 is a loopback address/);
      assert.ok(!receiver.received.some((r) => r.path === '/private'), 'nothing reached the receiver');
    } finally {
      await db.close();
    }
  });

  it('`npm run api-key -- --json` prints the key and its secret; a rotation signs with both for a while', async () => {
    const script = path.join(repoRoot, 'dist/scripts/create-api-key.js');
    const cliEnv = {
      ...process.env,
      APP_DATABASE_URL: env.APP_DATABASE_URL,
      DOCUMENT_SECRET_KEY: env.DOCUMENT_SECRET_KEY,
    };
    const created = JSON.parse(
      (
        await run(
          'node',
          [script, '--name', 'json', '--role', 'client', '--json', '--webhook-url', 'https://example.com/h'],
          { env: cliEnv },
        )
      ).stdout,
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(created).sort(), ['id', 'key', 'name', 'role', 'webhookSecret', 'webhookUrl']);
    assert.match(String(created.key), /^folio_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.match(String(created.webhookSecret), /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(created.webhookUrl, 'https://example.com/h');

    const text = (await run('node', [script, '--name', 'text', '--role', 'client'], { env: cliEnv })).stdout.trim();
    assert.match(text, /^Webhook signing secret .*\nwhsec_[A-Za-z0-9+/]{43}=\n/);
    assert.match(text.split('\n').pop()!, /^folio_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/, 'the key stays the last line');

    const rotated = JSON.parse(
      (await run('node', [script, '--rotate-webhook-secret', keyId, '--json'], { env: cliEnv })).stdout,
    ) as { webhookSecret: string };
    const jobId = await submitWith(
      { name: 'g.pdf', bytes: await syntheticTextPdf(1, { title: randomUUID() }) },
      {
        callbackUrl: `${receiver.url}/rotated`,
      },
    );
    const got = await receiver.waitFor(jobId, 'job.completed');
    assert.equal(got.headers['webhook-signature']!.split(' ').length, 2, 'signed with the new and the old secret');
    assert.doesNotThrow(() => new Webhook(rotated.webhookSecret).verify(got.body, got.headers));
    assert.doesNotThrow(() => new Webhook(secret).verify(got.body, got.headers));
  });

  it("lists deliveries read-only in the panel, and rotates a key's secret from it", async () => {
    const OPERATOR = 'hooks@folio.test';
    const db = createSequelize(env.APP_DATABASE_URL!, 1, 'app');
    let cleanup: (() => Promise<unknown>) | undefined;
    try {
      const models = initAppModels(db);
      // The app DB is shared by the whole run, and the panel's own tests seed the first operator from
      // ADMIN_EMAIL into an empty table: an operator made here only for this test goes when it ends.
      const madeHere = (await models.Operator.count({ where: { email: OPERATOR } })) === 0;
      cleanup = madeHere ? () => models.Operator.destroy({ where: { email: OPERATOR } }) : undefined;
      await ensureOperator(models, OPERATOR, 'webhooks panel password 1');
      const { headers } = await signIn(stack.url, OPERATOR, 'webhooks panel password 1');
      assert.ok(headers);
      const row = await models.WebhookDelivery.findOne({ where: { outcome: 'delivered' } });
      assert.ok(row);
      const list = await fetch(
        `${stack.url}/admin/api/resources/webhook_deliveries/actions/list?filters.webhookId=${row.webhookId}`,
        { headers },
      );
      const listed = (await list.json()) as { records: { params: Record<string, unknown> }[] };
      assert.deepEqual(
        listed.records.map((r) => [r.params.webhookId, r.params.outcome]),
        [[row.webhookId, 'delivered']],
      );
      for (const url of [
        `/admin/api/resources/webhook_deliveries/records/${row.id}/delete`,
        `/admin/api/resources/webhook_deliveries/records/${row.id}/edit`,
      ]) {
        const res = await fetch(`${stack.url}${url}`, { method: 'POST', headers });
        const body = (await res.json()) as { record?: { baseError?: { type?: string } } };
        assert.equal(body.record?.baseError?.type, 'ForbiddenError', url);
      }
      assert.ok(await models.WebhookDelivery.findByPk(row.id), 'the delivery record stays');

      const before = await models.ApiKey.findByPk(keyId);
      const rotate = await fetch(`${stack.url}/admin/api/resources/api_keys/records/${keyId}/rotateWebhookSecret`, {
        method: 'POST',
        headers,
      });
      const rotated = (await rotate.json()) as { notice?: { message: string; type: string } };
      assert.equal(rotated.notice?.type, 'success', JSON.stringify(rotated));
      assert.match(rotated.notice.message, /not shown again: whsec_[A-Za-z0-9+/]{43}=$/);
      const after = await models.ApiKey.findByPk(keyId);
      assert.notEqual(after?.webhookSecretSealed, before?.webhookSecretSealed);
      assert.equal(after?.webhookSecretPreviousSealed, before?.webhookSecretSealed);
    } finally {
      await cleanup?.();
      await db.close();
    }
  });
});
