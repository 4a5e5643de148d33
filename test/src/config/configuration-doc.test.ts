import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, envSchema, loadConfig } from '../../../src/config/config.js';

const doc = path.resolve('docs', 'configuration.md');

/** The rows of the table under `## Variables`: name, default cell, production cell, meaning. */
function documentedVariables(markdown: string): { name: string; def: string; production: string }[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Variables'));
  assert.ok(section, 'docs/configuration.md has no "## Variables" section');
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  return rows.map((cells) => {
    const name = /^`([A-Z0-9_]+)`$/.exec(cells[0] ?? '')?.[1];
    assert.ok(name, `not a variable cell: ${cells[0]}`);
    return { name, def: cells[1] ?? '', production: cells[2] ?? '' };
  });
}

describe('docs/configuration.md against the config schema', () => {
  const rows = documentedVariables(fs.readFileSync(doc, 'utf8'));
  const defaults = envSchema.parse({}) as Record<string, string | number | undefined>;
  const schemaNames = Object.keys(envSchema.shape).sort();

  it('documents every variable the schema reads, once, and no other', () => {
    const names = rows.map((r) => r.name);
    assert.equal(new Set(names).size, names.length, 'a variable is documented twice');
    const missing = schemaNames.filter((n) => !names.includes(n));
    const extra = names.filter((n) => !schemaNames.includes(n));
    assert.deepEqual(missing, [], `in src/config/config.ts but not in docs/configuration.md: ${missing.join(', ')}`);
    assert.deepEqual(extra, [], `in docs/configuration.md but not in src/config/config.ts: ${extra.join(', ')}`);
  });

  it("gives each default exactly as the schema has it ('–' where it has none)", () => {
    const wrong: string[] = [];
    for (const { name, def } of rows) {
      const expected = defaults[name];
      if (expected === undefined) {
        if (!def.startsWith('–')) wrong.push(`${name}: the schema has no default, the doc says ${def}`);
        continue;
      }
      // An empty string is written `empty`.
      const documented = def.startsWith('empty') ? '' : /^`([^`]*)`/.exec(def)?.[1];
      if (documented !== String(expected)) wrong.push(`${name}: the schema says ${String(expected)}, the doc ${def}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('marks as enforced exactly the variables production refuses at start, and they are refused', () => {
    // A production API environment that starts, and for each enforced variable a change that must stop it.
    const good: NodeJS.ProcessEnv = {
      NODE_ENV: 'production',
      OCR_MODEL: 'best_int',
      DOCUMENT_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
      SESSION_SECRET: 'x'.repeat(40),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'correct horse battery staple 42',
    };
    const breaks: Record<string, NodeJS.ProcessEnv> = {
      ADMIN_PASSWORD: { ADMIN_PASSWORD: 'folio-development' },
      API_AUTH: { API_AUTH: 'disabled' },
      DOCUMENT_SECRET_KEY: { DOCUMENT_SECRET_KEY: undefined },
      FAULT_PAUSE_AT: { FAULT_PAUSE_AT: 'upload-stored' },
      SESSION_SECRET: { SESSION_SECRET: undefined },
    };
    assert.doesNotThrow(() => loadConfig(good, 'api'));
    const enforced = rows.filter((r) => r.production.includes('**enforced**')).map((r) => r.name);
    assert.deepEqual(enforced.sort(), Object.keys(breaks).sort());
    for (const [name, change] of Object.entries(breaks)) {
      assert.throws(
        () => loadConfig({ ...good, ...change }, 'api'),
        (err: unknown) => err instanceof ConfigError && err.message.includes(name),
        `${name} is marked enforced but production accepted ${JSON.stringify(change)}`,
      );
      assert.doesNotThrow(() => loadConfig({ ...good, ...change, NODE_ENV: 'development' }, 'api'));
    }
  });
});
