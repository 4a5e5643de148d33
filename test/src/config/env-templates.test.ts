import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseEnv } from 'node:util';
import { ConfigError, envSchema, loadConfig } from '../../../src/config/config.js';

/** A template's text and the environment it sets (commented lines set nothing). */
function template(name: string): { text: string; env: NodeJS.ProcessEnv } {
  const text = fs.readFileSync(path.resolve(name), 'utf8');
  return { text, env: parseEnv(text) };
}

const names = Object.keys(envSchema.shape);

/** Each schema variable has a line of its own (`NAME=…`, or `# NAME=…` for the default), with a comment above it. */
function assertEveryVariableCommented(text: string, file: string): void {
  const lines = text.split('\n');
  for (const name of names) {
    const at = lines.findIndex((l) => new RegExp(`^(# )?${name}=`).test(l));
    assert.ok(at > 0, `${file} has no line for ${name}`);
    assert.match(lines[at - 1]!, /^# \S/, `${file}: ${name} has no comment above it`);
  }
  const unknown = lines
    .map((l) => /^(?:# )?([A-Z][A-Z0-9_]+)=/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && !names.includes(n));
  assert.deepEqual(unknown, [], `${file} names variables Folio does not read`);
}

describe('the environment templates', () => {
  it('.env.example: every variable commented, and it loads for the API, a worker and the tools', () => {
    const { text, env } = template('.env.example');
    assertEveryVariableCommented(text, '.env.example');
    for (const role of ['api', 'worker', 'tool'] as const) {
      const config = loadConfig(env, role);
      assert.equal(config.env, 'development');
      assert.equal(config.auth.mode, 'disabled');
    }
  });

  it('.env.production.example: every variable commented; refused until its secrets are set, naming them', () => {
    const { text, env } = template('.env.production.example');
    assertEveryVariableCommented(text, '.env.production.example');
    const refusal = (role: 'api' | 'worker') => {
      try {
        loadConfig(env, role);
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.message;
      }
      return assert.fail(`the production template loaded for the ${role} with its secrets empty`);
    };
    const api = refusal('api');
    for (const name of ['DOCUMENT_SECRET_KEY', 'SESSION_SECRET', 'ADMIN_EMAIL']) assert.match(api, new RegExp(name));
    assert.match(refusal('worker'), /DOCUMENT_SECRET_KEY/);

    const secrets = {
      ...env,
      DOCUMENT_SECRET_KEY: Buffer.alloc(32, 9).toString('base64'),
      SESSION_SECRET: 's'.repeat(48),
      ADMIN_EMAIL: 'ops@example.com',
    };
    // The first operator's password is still empty: production names it as too weak.
    assert.throws(
      () => loadConfig(secrets, 'api'),
      (err: unknown) => err instanceof ConfigError && err.message.includes('ADMIN_PASSWORD'),
    );
    const filled = { ...secrets, ADMIN_PASSWORD: 'a long and varied passphrase 7' };
    for (const role of ['api', 'worker', 'tool'] as const) {
      const config = loadConfig(filled, role);
      assert.equal(config.env, 'production');
      assert.equal(config.auth.mode, 'required');
      assert.equal(config.storage.kind, 's3');
      assert.equal(config.admin.cookieSecure, true);
    }
  });
});
