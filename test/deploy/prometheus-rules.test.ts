import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/** promtool from Debian's prometheus package, unpacked by scripts/install-promtool.sh (npm test's pretest, CI). */
const promtool = path.resolve(process.env.PROMTOOL_DIR ?? '.tools/prometheus', 'bin', 'promtool');
const dir = path.resolve('deploy', 'prometheus');

function run(...args: string[]): string {
  assert.ok(
    fs.existsSync(promtool),
    `promtool is not installed at ${promtool}: run \`bash scripts/install-promtool.sh\` (npm test's pretest does)`,
  );
  const result = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

describe('Prometheus configuration and alert rules', () => {
  it('the configuration and its rule files are valid (promtool check config)', () => {
    const out = run('check', 'config', 'prometheus.yml');
    assert.match(out, /1 rule files found/);
    assert.match(out, /SUCCESS: \d+ rules found/);
  });

  it('every alert is unit-tested, firing and quiet (promtool test rules)', () => {
    const rules = fs.readFileSync(path.join(dir, 'alerts.yml'), 'utf8');
    const tests = fs.readFileSync(path.join(dir, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
    assert.ok(alerts.length >= 8, `only ${alerts.length} alerts found`);
    for (const alert of alerts) {
      // Each alert has a test where it fires (exp_alerts with labels) and one where it does not (exp_alerts: []).
      const cases = [...tests.matchAll(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:( \\[\\])?`, 'g'))];
      assert.ok(
        cases.some((c) => c[1] === undefined),
        `${alert} is never tested firing`,
      );
      assert.ok(
        cases.some((c) => c[1] !== undefined),
        `${alert} is never tested quiet`,
      );
      // Each names its runbook entry (checked below to exist).
      const block = rules.split(/^\s+- alert: /m).find((b) => b.startsWith(`${alert}\n`));
      assert.match(block ?? '', /runbook: 'docs\/operations\.md#[a-z]+'/, `${alert} names no runbook entry`);
    }
    const runbook = fs.readFileSync(path.resolve('docs', 'operations.md'), 'utf8');
    for (const [, anchor] of rules.matchAll(/runbook: 'docs\/operations\.md#([a-z]+)'/g)) {
      assert.ok(
        runbook.split('\n').some(
          (l) =>
            l.startsWith('### ') &&
            l
              .slice(4)
              .toLowerCase()
              .replace(/[^a-z]/g, '') === anchor,
        ),
        `docs/operations.md has no section for #${anchor}`,
      );
    }
    assert.match(run('test', 'rules', 'alerts.test.yml'), /SUCCESS/);
  });

  it('a rule that breaks its test fails promtool (the tests can fail)', () => {
    const tmp = fs.mkdtempSync(path.join(process.env.FOLIO_TEST_TMP ?? '/tmp', 'rules-'));
    try {
      // FolioApiDown made to wait an hour: its test expects it firing after 6 minutes.
      const rules = fs.readFileSync(path.join(dir, 'alerts.yml'), 'utf8');
      const broken = rules.replace(/(alert: FolioApiDown\n\s+expr: .*\n\s+for: )2m/, '$11h');
      assert.notEqual(broken, rules);
      fs.writeFileSync(path.join(tmp, 'alerts.yml'), broken);
      fs.copyFileSync(path.join(dir, 'alerts.test.yml'), path.join(tmp, 'alerts.test.yml'));
      const result = spawnSync(promtool, ['test', 'rules', 'alerts.test.yml'], { cwd: tmp, encoding: 'utf8' });
      assert.notEqual(result.status, 0);
      assert.match(`${result.stdout}${result.stderr}`, /FolioApiDown/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
