import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSecretKey, open, parseSecretKey, seal, SealedSecretError } from '../../core/sealed-secret.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('sealed document passwords', () => {
  const key = parseSecretKey(generateSecretKey())!;
  const jobId = '4f7c1c3e-6d0a-4a57-9d7e-2b1f0b7e9a10';

  it('opens for the same key and job, and never shows the password', () => {
    const sealed = seal(key, jobId, 'SªSL\u00ADprep');
    assert.match(sealed, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(!sealed.includes('prep'));
    assert.equal(open(key, jobId, sealed), 'SªSL\u00ADprep');
    assert.notEqual(seal(key, jobId, 'same'), seal(key, jobId, 'same'), 'a fresh IV every time');
  });

  it('refuses another job, another key and altered bytes', () => {
    const sealed = seal(key, jobId, 'asdfasdf');
    const otherKey = parseSecretKey(generateSecretKey())!;
    assert.throws(() => open(key, '00000000-0000-4000-8000-000000000000', sealed), SealedSecretError);
    assert.throws(() => open(otherKey, jobId, sealed), SealedSecretError);
    const [v, iv, body, tag] = sealed.split('.') as [string, string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    assert.throws(() => open(key, jobId, [v, iv, flipped.toString('base64url'), tag].join('.')), SealedSecretError);
    assert.throws(() => open(key, jobId, 'asdfasdf'), SealedSecretError);
  });

  it('reads keys as base64 or hex, 32 bytes only', () => {
    assert.equal(parseSecretKey('ab'.repeat(32))?.length, 32);
    assert.equal(parseSecretKey(Buffer.alloc(32, 7).toString('base64'))?.length, 32);
    assert.equal(parseSecretKey(Buffer.alloc(16, 7).toString('base64')), undefined);
    assert.equal(parseSecretKey('not a key'), undefined);
  });

  it('is configured by DOCUMENT_SECRET_KEY (required in production) and PASSWORD_WAIT_SECONDS', () => {
    const hex = 'cd'.repeat(32);
    const c = loadConfig({ DOCUMENT_SECRET_KEY: hex, PASSWORD_WAIT_SECONDS: '60' });
    assert.deepEqual(c.documentPasswords.secretKey, Buffer.from(hex, 'hex'));
    assert.equal(c.documentPasswords.waitSeconds, 60);
    assert.equal(loadConfig({}).documentPasswords.waitSeconds, 24 * 3600);
    assert.throws(
      () => loadConfig({ DOCUMENT_SECRET_KEY: 'short' }),
      (e: unknown) => e instanceof ConfigError && /DOCUMENT_SECRET_KEY/.test(e.message),
    );
    assert.throws(() => loadConfig({ PASSWORD_WAIT_SECONDS: '0' }), ConfigError);
    for (const role of ['api', 'worker'] as const) {
      assert.throws(() => loadConfig({}, role), /DOCUMENT_SECRET_KEY is required in production/);
      assert.doesNotThrow(() => loadConfig({ NODE_ENV: 'development' }, role));
    }
    assert.doesNotThrow(() => loadConfig({ DOCUMENT_SECRET_KEY: hex }, 'worker'));
    assert.doesNotThrow(() => loadConfig({}, 'tool'));
  });
});
