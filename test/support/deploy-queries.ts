import fs from 'node:fs';
import path from 'node:path';

/** A PromQL expression the deployment ships, and where it is. */
export interface DeployedQuery {
  where: string;
  expr: string;
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

/** Every query of the Grafana dashboard (deploy/grafana/folio.json), by panel. */
export function dashboardQueries(root = '.'): DeployedQuery[] {
  const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana/folio.json'), 'utf8')) as {
    panels: Panel[];
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `dashboard panel "${p.title}"`, expr: t.expr })));
}

/** Every alert expression of deploy/prometheus/alerts.yml (single-line or folded `>-` blocks). */
export function alertQueries(root = '.'): DeployedQuery[] {
  const text = fs.readFileSync(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8');
  const queries: DeployedQuery[] = [];
  for (const block of text.split(/^\s+- alert: /m).slice(1)) {
    const name = block.split('\n')[0]!.trim();
    const folded = /^\s+expr: >-\n((?:\s{10,}.*\n)+)/m.exec(block);
    const inline = /^\s+expr: (?!>-)(.+)$/m.exec(block);
    const expr = folded ? folded[1]!.replace(/\s+/g, ' ').trim() : inline?.[1]?.trim();
    if (!expr) throw new Error(`alert ${name} has no expr`);
    queries.push({ where: `alert ${name}`, expr });
  }
  return queries;
}

/** The metric names a query reads (Folio's, the Temporal SDK's and Node's process metrics). */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b((?:folio|temporal|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!))];
}
