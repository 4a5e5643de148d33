import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A running /metrics server. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics on a port of its own (not the API's public one): the registry's metrics, then
 * `extra` exposition text (the Temporal SDK's own metrics in the worker), so each process is one target.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  extra?: () => Promise<string>;
}): Promise<MetricsServer> {
  const { registry, extra } = options;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here.\n');
      return;
    }
    Promise.all([registry.metrics(), extra?.() ?? ''])
      .then(([own, more]) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(more ? `${own}\n${more}` : own);
      })
      .catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${String(err)}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
