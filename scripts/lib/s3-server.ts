import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { canConnect } from './temporal-dev-server.js';

/** The command that installs the S3-compatible server the tests run on (versitygw, built with go install). */
export const S3_SERVER_INSTALL = 'bash scripts/install-s3-server.sh';

/** versitygw: VERSITYGW_PATH when set (and only it), else where scripts/install-s3-server.sh puts it. */
export function findS3Server(projectRoot: string): string | undefined {
  const binary = process.env.VERSITYGW_PATH || path.join(projectRoot, '.tools', 'versitygw', 'bin', 'versitygw');
  return fs.existsSync(binary) ? binary : undefined;
}

/** What to do when findS3Server finds nothing. */
export function s3ServerMissing(): string {
  const where = process.env.VERSITYGW_PATH
    ? `VERSITYGW_PATH is ${process.env.VERSITYGW_PATH}, which does not exist`
    : 'it is not installed in .tools/versitygw/';
  return `The tests keep their documents in a real S3-compatible server, versitygw, and ${where}. Install it (built from the Go module proxy, no root needed) with:\n  ${S3_SERVER_INSTALL}`;
}

/**
 * A real S3-compatible server for tests and benchmarks: versitygw's posix backend on a loopback port, each
 * bucket a folder under `dir`. It can be stopped and started again on the same port and data (fault tests).
 */
export interface S3Server {
  endpoint: string;
  bucket: string;
  /** What a Folio process needs to keep its documents in the bucket (under `prefix`, if given). */
  env(prefix?: string): NodeJS.ProcessEnv;
  /** Whether it is running now. */
  readonly running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface S3ServerOptions {
  projectRoot: string;
  dir: string;
  port: number;
  bucket: string;
  log?: (line: string) => void;
}

/** Starts versitygw and creates the bucket. Throws with the install command when it is not installed. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const binary = findS3Server(options.projectRoot);
  if (!binary) {
    throw new Error(
      `The S3-compatible test server (versitygw) is not installed. Install it with:\n  ${S3_SERVER_INSTALL}`,
    );
  }
  const log = options.log ?? (() => undefined);
  const accessKey = `folio${randomBytes(6).toString('hex')}`;
  const secretKey = randomBytes(24).toString('base64url');
  const endpoint = `http://127.0.0.1:${options.port}`;
  fs.mkdirSync(options.dir, { recursive: true });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const orphanGuard = () => child?.kill('SIGKILL');

  const start = async () => {
    if (await canConnect(options.port)) throw new Error(`Port ${options.port} is already in use`);
    const proc = spawn(
      binary,
      ['--access', accessKey, '--secret', secretKey, '--port', `127.0.0.1:${options.port}`, 'posix', options.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => log(`versitygw: ${d.toString().trimEnd()}`));
    proc.stderr?.on('data', (d: Buffer) => log(`versitygw: ${d.toString().trimEnd()}`));
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    process.once('exit', orphanGuard);
    const deadline = Date.now() + 30_000;
    while (!(await canConnect(options.port))) {
      if (proc.exitCode !== null) throw new Error(`versitygw exited with code ${proc.exitCode}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error('versitygw did not listen within 30 s');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    process.off('exit', orphanGuard);
  };

  await start();
  try {
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    });
    await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
    client.destroy();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    endpoint,
    bucket: options.bucket,
    env: (prefix = '') => ({
      STORAGE_URL: `s3://${options.bucket}${prefix ? `/${prefix}` : ''}`,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: accessKey,
      AWS_SECRET_ACCESS_KEY: secretKey,
    }),
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop,
    start,
  };
}
