import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * docker-compose.yml as Compose reads it: Debian's docker-compose (1.29) validates and resolves a compose file
 * with `docker-compose config`, no Docker daemon needed (npm test apt-installs it when root, else names it).
 */
const root = path.resolve('.');
/** Every variable the file requires (`${VAR:?…}`), with a value. */
const required = {
  POSTGRES_PASSWORD: 'pg-secret',
  TEMPORAL_DB_PASSWORD: 'temporal-secret',
  LEGACY_DATABASE_URL: 'postgres://legacy@legacy-db:5432/folio_legacy',
  DOCUMENT_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
  MINIO_ROOT_PASSWORD: 'minio-secret',
  SESSION_SECRET: 's'.repeat(40),
  GRAFANA_ADMIN_PASSWORD: 'grafana-secret',
};

function compose(env: Record<string, string>, ...args: string[]) {
  // Only PATH from this process: a variable set in the test environment must not stand in for a missing one.
  const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
  assert.ok(!result.error, `docker-compose could not run (${String(result.error)}): apt-get install docker-compose`);
  return { status: result.status, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

describe('docker-compose.yml', () => {
  it('is valid, with Prometheus, its rules and Grafana provisioned from files that exist', () => {
    const services = compose(required, 'config', '--services');
    assert.equal(services.status, 0, services.output);
    const names = services.stdout.trim().split('\n');
    for (const s of ['postgres', 'temporal', 'migrate', 'api', 'worker', 'nginx', 'prometheus', 'grafana']) {
      assert.ok(names.includes(s), `no ${s} service in ${names.join(', ')}`);
    }
    const config = compose(required, 'config');
    assert.equal(config.status, 0, config.output);
    // Every file or folder mounted from the checkout exists.
    const mounts = [...config.stdout.matchAll(/^\s+- (\/[^:\s]+):([^:\s]+)(?::ro)?$/gm)].map((m) => ({
      source: m[1]!,
      target: m[2]!,
    }));
    const fromCheckout = mounts.filter((m) => m.source.startsWith(`${root}/`));
    for (const m of fromCheckout) assert.ok(fs.existsSync(m.source), `${m.source} (mounted at ${m.target}) is missing`);
    const targets = fromCheckout.map((m) => `${path.relative(root, m.source)} -> ${m.target}`);
    for (const expected of [
      'deploy/prometheus/prometheus.yml -> /etc/prometheus/prometheus.yml',
      'deploy/prometheus/alerts.yml -> /etc/prometheus/alerts.yml',
      'deploy/grafana/provisioning -> /etc/grafana/provisioning',
      'deploy/grafana/folio.json -> /var/lib/grafana/dashboards/folio.json',
    ]) {
      assert.ok(targets.includes(expected), `not mounted: ${expected}\n${targets.join('\n')}`);
    }
    // The rules file Prometheus is told to load sits beside its configuration in the container.
    assert.match(fs.readFileSync('deploy/prometheus/prometheus.yml', 'utf8'), /rule_files:\n\s+- alerts\.yml/);
  });

  it('refuses to start without each required secret, naming it', () => {
    for (const name of ['GRAFANA_ADMIN_PASSWORD', 'DOCUMENT_SECRET_KEY', 'SESSION_SECRET']) {
      const env = Object.fromEntries(Object.entries(required).filter(([k]) => k !== name));
      const result = compose(env, 'config', '-q');
      assert.notEqual(result.status, 0, `docker-compose config accepted a missing ${name}`);
      assert.match(result.output, new RegExp(name));
    }
  });
});
