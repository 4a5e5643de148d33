/** `npm run api-key` and ApiKeysService on the real app DB: shown once, stored as a hash, revoked not deleted. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { QueryTypes } from 'sequelize';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { createSequelize } from '../../core/db/connections.js';
import { initAppModels } from '../../core/db/models.js';
import { createApiKey, harnessEnv, repoRoot, startStack } from '../support/stack.js';

const run = promisify(execFile);

describe('API keys', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const keys = new ApiKeysService(initAppModels(db));
  const script = (...args: string[]) =>
    run(process.execPath, [path.join(repoRoot, 'dist/scripts/create-api-key.js'), ...args], { env, cwd: repoRoot });
  after(() => db.close());

  it('creates a key with the script, prints it once, stores only its SHA-256, lists and revokes it', async () => {
    const { stdout } = await script('--name', 'script client', '--role', 'client');
    const key = stdout.trim().split('\n').pop()!;
    assert.match(key, /^folio_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const principal = await keys.verify(key);
    assert.equal(principal?.role, 'client');
    assert.equal(principal?.name, 'script client');
    const [row] = await db.query<{ key_hash: string; last_used_at: Date | null }>(
      `SELECT key_hash, last_used_at FROM api_keys WHERE id = :id`,
      { replacements: { id: principal.apiKeyId }, type: QueryTypes.SELECT },
    );
    assert.equal(row?.key_hash, createHash('sha256').update(key).digest('hex'));
    assert.ok(row?.last_used_at, 'last use recorded');
    const [dump] = await db.query<{ t: string }>(`SELECT api_keys::text AS t FROM api_keys WHERE id = :id`, {
      replacements: { id: principal.apiKeyId },
      type: QueryTypes.SELECT,
    });
    assert.ok(!dump!.t.includes(key.split('_').pop()!), 'the secret is nowhere in the row');

    const listed = (await script('--list')).stdout;
    assert.match(listed, new RegExp(principal.apiKeyId!));
    assert.ok(!listed.includes(key), 'the list never shows a key');

    await script('--revoke', principal.apiKeyId!);
    assert.equal(await keys.verify(key), null);
    assert.ok(
      (await keys.list()).some((k) => k.id === principal.apiKeyId && k.revokedAt),
      'kept, revoked',
    );
  });

  it('refuses a bad role and a key with a right prefix but wrong secret', async () => {
    await assert.rejects(script('--name', 'x', '--role', 'root'));
    const { key } = await keys.create({ name: 'admin via service', role: 'admin' });
    assert.equal((await keys.verify(key))?.role, 'admin');
    const forged = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(await keys.verify(forged), null);
  });

  it('with a cache, reads a verified key once per cacheMs; a revocation elsewhere takes effect within it', async () => {
    const { key, apiKey } = await keys.create({ name: 'cached client', role: 'client' });
    const models = initAppModels(db);
    const cached = new ApiKeysService(models, 400);
    let lookups = 0;
    const findOne = models.ApiKey.findOne.bind(models.ApiKey);
    models.ApiKey.findOne = ((...args: Parameters<typeof findOne>) => {
      lookups++;
      return findOne(...args);
    }) as typeof models.ApiKey.findOne;
    try {
      assert.equal((await cached.verify(key))?.apiKeyId, apiKey.id);
      assert.equal((await cached.verify(key))?.apiKeyId, apiKey.id);
      assert.equal(lookups, 1, 'the second request is answered from the cache');
      // A wrong secret with the same prefix is never answered from the cache.
      assert.equal(await cached.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`), null);

      await script('--revoke', apiKey.id);
      assert.equal(await keys.verify(key), null, 'an uncached instance sees the revocation at once');
      const deadline = Date.now() + 5_000;
      while ((await cached.verify(key)) !== null) {
        assert.ok(Date.now() < deadline, 'the revoked key still authenticates past the cache time');
        await new Promise((r) => setTimeout(r, 50));
      }
      // Revoked keys are not cached: every later request reads the row again.
      const before = lookups;
      assert.equal(await cached.verify(key), null);
      assert.equal(lookups, before + 1);
    } finally {
      models.ApiKey.findOne = findOne;
    }
  });

  it('with a cache, a key revoked through the same instance stops at once', async () => {
    const { key, apiKey } = await keys.create({ name: 'revoked here', role: 'client' });
    const cached = new ApiKeysService(initAppModels(db), 60_000);
    assert.equal((await cached.verify(key))?.apiKeyId, apiKey.id);
    await cached.revoke(apiKey.id);
    assert.equal(await cached.verify(key), null);
  });
});

describe('API key cache in the API process (API_KEY_CACHE_SECONDS)', () => {
  it('drops a key revoked by SQL long before the cache time: the trigger notifies the API', async () => {
    const stack = await startStack({ name: 'key-cache', api: { API_KEY_CACHE_SECONDS: '300' } });
    const db = createSequelize(harnessEnv().APP_DATABASE_URL!, 1, 'app');
    try {
      const { key, id } = await createApiKey('cached in the API', 'client');
      const get = () => fetch(`${stack.url}/v1/jobs?limit=1`, { headers: { authorization: `Bearer ${key}` } });
      for (let i = 0; i < 2; i++) assert.equal((await get()).status, 200);
      await db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = :id`, { replacements: { id } });
      // Delivery is asynchronous (milliseconds); the cache alone would keep the key for 300 s.
      const deadline = Date.now() + 10_000;
      let status = 200;
      while ((status = (await get()).status) === 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(status, 401);
    } finally {
      await db.close();
      await stack.stop();
    }
  });
});
