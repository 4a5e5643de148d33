/**
 * API keys are managed in the panel: an operator issues one (shown once, stored only as a hash), the key
 * works against the API, revoking it makes it fail with 401, the record stays, and a forged delete is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSequelize } from '../../../core/db/connections.js';
import { initAppModels } from '../../../core/db/models.js';
import { ensureOperator } from '../../support/operators.js';
import { signIn } from '../../support/panel.js';
import { harnessEnv, startStack, type ApiProcess, type Stack } from '../../support/stack.js';

const ADMIN_EMAIL = 'keys@folio.test';
const ADMIN_PASSWORD = 'another long unguessable passphrase';

interface PanelBody {
  record?: { id?: string; params?: Record<string, unknown>; errors?: Record<string, unknown> };
  records?: { id: string; params: Record<string, unknown> }[];
  notice?: { type: string; message: string };
}

describe('admin panel: API keys', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const models = initAppModels(db);
  const { ApiKey } = models;
  let stack: Stack;
  let api: ApiProcess;
  let headers: Record<string, string> = {};

  before(async () => {
    stack = await startStack({
      name: 'panel-keys',
      api: { ADMIN_EMAIL, ADMIN_PASSWORD, SESSION_SECRET: 'api-keys-panel-test-secret-0123456789' },
    });
    api = stack.api;
    await ensureOperator(models, ADMIN_EMAIL, ADMIN_PASSWORD);
    const signedIn = await signIn(api.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    assert.equal(signedIn.status, 302);
    headers = signedIn.headers!;
  });
  after(async () => {
    await stack?.stop();
    await db.close();
  });

  async function panel(pathname: string, init: RequestInit = {}) {
    const res = await fetch(`${api.url}/admin/api/resources/api_keys${pathname}`, { ...init, headers });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text || '{}') as PanelBody };
  }

  it('issues a key shown once, which authenticates until it is revoked; nothing is deleted', async () => {
    const created = await panel('/actions/new', {
      method: 'POST',
      body: new URLSearchParams({ name: 'reporting client', role: 'client' }),
    });
    const key = /(folio_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(created.body.notice?.message ?? '')?.[1];
    assert.ok(key, `the key is shown in the notice: ${created.text.slice(0, 300)}`);
    assert.ok(!created.text.includes('keyHash'), 'the hash never leaves the server');
    const id = created.body.record?.id ?? '';
    assert.ok(id, 'the new record has an id');
    const row = await ApiKey.findByPk(id);
    assert.equal(row?.role, 'client');
    assert.notEqual(row?.keyHash, key, 'only the hash is stored');

    const asClient = () => fetch(`${api.url}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await asClient()).status, 200);

    const list = await panel('/actions/list');
    assert.ok(list.body.records?.some((r) => r.id === id));
    assert.ok(!list.text.includes('keyHash') && !list.text.includes(key), 'listed without its secret');

    const revoked = await panel(`/records/${id}/revoke`, { method: 'POST', body: new URLSearchParams({}) });
    assert.equal(revoked.body.notice?.type, 'success', revoked.text.slice(0, 300));
    assert.equal((await asClient()).status, 401);

    const forged = await panel(`/records/${id}/delete`, { method: 'POST' });
    assert.ok(forged.status >= 400 || forged.body.notice?.type === 'error', forged.text.slice(0, 200));
    assert.ok((await ApiKey.findByPk(id))?.revokedAt, 'the revoked key stays on record');
  });
});
