import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { alertQueries, dashboardQueries } from '../support/deploy-queries.js';

const promtool = path.resolve(process.env.PROMTOOL_DIR ?? '.tools/prometheus', 'bin', 'promtool');

/**
 * The Grafana dashboard and its provisioning. That each metric its queries name is one the API or a worker
 * exports is checked against a real scrape in test/src/telemetry/telemetry.test.ts.
 */
describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(fs.readFileSync('deploy/grafana/folio.json', 'utf8')) as {
    uid: string;
    panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
  };

  it('has the panels operations need, each on the provisioned Prometheus data source', () => {
    const datasources = fs.readFileSync('deploy/grafana/provisioning/datasources/prometheus.yml', 'utf8');
    const uid = /^\s+uid: (\S+)$/m.exec(datasources)?.[1];
    assert.ok(uid, 'the provisioned data source has no uid');
    assert.match(datasources, /url: http:\/\/prometheus:9090/);
    assert.match(
      fs.readFileSync('deploy/grafana/provisioning/dashboards/folio.yml', 'utf8'),
      /path: \/var\/lib\/grafana\/dashboards/,
    );
    const titles = dashboard.panels.map((p) => p.title);
    for (const title of [
      'Documents by status',
      'Pages per minute by method',
      'Page latency percentiles',
      'Failures by code',
      'Queue depth',
      'Workers polling',
      'Temporal task slots',
      'API latency',
      'API errors',
    ]) {
      assert.ok(titles.includes(title), `no "${title}" panel`);
    }
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.equal(p.datasource?.uid, uid, `panel "${p.title}" is not on the provisioned data source`);
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has no query`);
    }
    assert.equal(
      new Set(dashboard.panels.map((p) => p.title)).size,
      dashboard.panels.length,
      'two panels share a title',
    );
  });

  it('every dashboard and alert query is valid PromQL (promtool check rules)', () => {
    assert.ok(fs.existsSync(promtool), `promtool is missing: run \`bash scripts/install-promtool.sh\``);
    const queries = [...dashboardQueries(), ...alertQueries()];
    const tmp = fs.mkdtempSync(path.join(process.env.FOLIO_TEST_TMP ?? '/tmp', 'dashboard-'));
    try {
      // Each query as a recording rule: promtool parses every expression.
      const file = path.join(tmp, 'queries.yml');
      const rules = queries.map((q, i) => `      - record: folio:query_${i}\n        expr: ${JSON.stringify(q.expr)}`);
      fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const result = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`));
      // A broken query is caught the same way.
      fs.writeFileSync(
        file,
        'groups:\n  - name: broken\n    rules:\n      - record: x\n        expr: "sum(rate(x[5m])"\n',
      );
      assert.notEqual(spawnSync(promtool, ['check', 'rules', file]).status, 0);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
