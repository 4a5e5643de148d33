import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry with the process's default metrics (CPU, memory, event loop, GC). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

const catchAll = /^\{?\/?\*\w*\}?$/;

/**
 * The route label of a request: Express's route template (`/v1/jobs/:id`), never the raw path, so job
 * ids do not become series; requests that matched no route share one label.
 */
export function routeLabel(req: IncomingMessage): string {
  const { route, baseUrl } = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  // Nest answers unknown paths from a catch-all route (`{/*splat}`): those matched nothing of ours.
  if (!route || typeof route.path !== 'string' || catchAll.test(route.path)) return 'unmatched';
  return `${baseUrl ?? ''}${route.path}` || '/';
}

/**
 * Counts and times every HTTP request the server answers. Listens on the server itself rather than as
 * middleware, so the admin panel (mounted ahead of all middleware) is counted too.
 */
export function observeHttpRequests(server: Server, registry: Registry): void {
  const registers = [registry];
  const requests = new Counter({
    name: 'folio_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'folio_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const end = duration.startTimer();
    res.once('close', () => {
      const labels = { method: req.method ?? 'UNKNOWN', route: routeLabel(req) };
      requests.inc({ ...labels, status: String(res.statusCode) });
      end(labels);
    });
  });
}

/** What the document gauges read from the app DB at scrape time. */
export interface DocumentCounts {
  byStatus(): Promise<Record<string, number>>;
  inFlight(): Promise<number>;
}

/**
 * Documents (jobs) by status and those in flight (queued + processing), read from the app DB when
 * Prometheus scrapes, by indexed counts. A scrape while the DB is away keeps the last values (readiness
 * reports the outage).
 */
export function registerDocumentGauges(
  registry: Registry,
  counts: DocumentCounts,
  statuses: readonly string[],
  onError: (err: unknown) => void,
): void {
  new Gauge({
    name: 'folio_documents',
    help: 'Documents (jobs) by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      try {
        const c = await counts.byStatus();
        for (const status of statuses) this.set({ status }, c[status] ?? 0);
      } catch (err) {
        onError(err);
      }
    },
  });
  new Gauge({
    name: 'folio_documents_in_flight',
    help: 'Documents queued or processing',
    registers: [registry],
    async collect() {
      try {
        this.set(await counts.inFlight());
      } catch (err) {
        onError(err);
      }
    },
  });
}

/** A folder whose filesystem is watched: `folder` is the label (what it holds), `dir` its path. */
export interface WatchedFolder {
  folder: string;
  dir: string;
}

/** The folder itself, or its nearest ancestor that exists (a folder made on first use is not there yet). */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  while (!fs.existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/**
 * Free and total bytes of the filesystem holding each folder this process writes (the document store when it
 * is a folder, unfinished uploads, a worker's cache of bucket objects), read at scrape time, so an alert can
 * fire before a disk fills. Databases and object stores are watched where they run (node_exporter).
 */
export function registerDiskGauges(registry: Registry, folders: readonly WatchedFolder[]): void {
  const read = (pick: (s: fs.StatsFs) => number) =>
    async function collect(this: Gauge<'folder'>) {
      for (const { folder, dir } of folders) {
        try {
          this.set({ folder }, pick(await fs.promises.statfs(existingAncestor(dir))));
        } catch {
          // An unreadable folder is left out of this scrape rather than reported as empty.
        }
      }
    };
  new Gauge({
    name: 'folio_disk_free_bytes',
    help: 'Bytes available to this process on the filesystem holding a folder it writes, by folder',
    labelNames: ['folder'] as const,
    registers: [registry],
    collect: read((s) => s.bavail * s.bsize),
  });
  new Gauge({
    name: 'folio_disk_size_bytes',
    help: 'Size in bytes of the filesystem holding a folder this process writes, by folder',
    labelNames: ['folder'] as const,
    registers: [registry],
    collect: read((s) => s.blocks * s.bsize),
  });
}

/**
 * Whether each service this process depends on answers (1) or not (0), checked at scrape time with a time
 * cap, the same checks as /health/ready: so Prometheus can tell "the database is down" from "the API is down".
 */
export function registerDependencyGauge(
  registry: Registry,
  checks: Record<string, () => Promise<unknown>>,
  timeoutMs = 3000,
): void {
  new Gauge({
    name: 'folio_dependency_up',
    help: 'Whether a service the API depends on answers its check (1) or not (0): app_db, legacy_db, temporal, storage, clamd (with MALWARE_SCAN=clamav)',
    labelNames: ['dependency'] as const,
    registers: [registry],
    async collect() {
      const results = await Promise.all(
        Object.entries(checks).map(async ([dependency, check]) => {
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              check(),
              new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
              }),
            ]);
            return [dependency, 1] as const;
          } catch {
            return [dependency, 0] as const;
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      for (const [dependency, up] of results) this.set({ dependency }, up);
    },
  });
}
