/**
 * The whole-system test fixture: `startStack` starts Folio as the tests need it — API processes, worker
 * processes, a worker inside the test process with engines the test chooses — on a task queue of its own,
 * against the harness's PostgreSQL and Temporal (or services the test passes in `env`), and stops all of it
 * in `stop()`. The helpers below it (submit, waitForJob, getResult, authHeaders, createApiKey) speak to any
 * of its API processes by URL.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../scripts/lib/services.js';
import pg from 'pg';
import { generateApiKey, type ApiKeyRole } from '../../src/auth/api-keys.service.js';
import { apiProcessEnv } from '../../src/common/api-env.js';
import { WORKER_PROCESS_ENV } from '../../src/common/worker-env.js';
import { startInProcessWorker, type InProcessWorker, type InProcessWorkerOptions } from './in-process-worker.js';

import { harnessEnv, repoRoot } from './harness.js';

/** Re-exported: most tests take them from here with the fixture. */
export { corpusDir, harnessEnv, repoRoot } from './harness.js';

/**
 * Writes a workflow's history as a replay fixture: the CLI's JSON export (the format the Temporal UI
 * downloads and Worker.runReplayHistory reads), with this machine's paths in stack traces replaced by /app.
 */
export function recordHistoryFixture(workflowId: string, file: string): void {
  const env = harnessEnv();
  const json = execFileSync(env.TEMPORAL_CLI_PATH!, [
    'workflow',
    'show',
    '--address',
    env.TEMPORAL_ADDRESS!,
    '-w',
    workflowId,
    '--output',
    'json',
  ]).toString();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, json.split(repoRoot).join('/app'));
}

/** A task queue of a test's own, so its workers never take another test's work. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A Folio process (API or worker) started for a test, with its output kept for failure messages. */
export class FolioProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer) => {
      this.output.push(d.toString());
      if (this.output.length > 400) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output.join(''))) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited early:\n${this.output.join('')}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not print ${pattern} in time:\n${this.output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: no shutdown hooks, in-flight work abandoned. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

function spawnFolio(name: string, entry: string, env: NodeJS.ProcessEnv, root = repoRoot): FolioProcess {
  const child = spawn(process.execPath, [path.join(root, entry)], {
    env: { ...harnessEnv(), ...env },
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new FolioProcess(name, child);
}

/** A fresh cache folder for one worker, beside the harness's (STORAGE_CACHE_DIR). */
export function ownCacheDir(): string {
  return path.join(
    harnessEnv().STORAGE_CACHE_DIR ?? path.join(process.env.FOLIO_TEST_TMP ?? '/tmp', 'storage-cache'),
    randomUUID(),
  );
}

/**
 * What pins a stack to the folder store (the harness's STORAGE_DIR) instead of the harness's bucket, its
 * default: for the tests that look at the stored files themselves.
 */
export function folderStore(): NodeJS.ProcessEnv {
  return { STORAGE_URL: harnessEnv().STORAGE_DIR };
}

/** API keys of the API processes a test started, by base URL: the helpers below send them. */
const keysByUrl = new Map<string, string>();

/** Headers that authenticate as the key startApi created for this API (none with API_AUTH=disabled). */
export function authHeaders(apiUrl: string): Record<string, string> {
  const key = keysByUrl.get(apiUrl);
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * Creates an API key in the harness's app DB (or `databaseUrl`), as `npm run api-key` would. Plain pg on
 * purpose: binding the Sequelize models to a connection of its own would rebind the test's models too
 * (they are global).
 */
export async function createApiKey(
  name: string,
  role: ApiKeyRole,
  databaseUrl = harnessEnv().APP_DATABASE_URL,
): Promise<{ key: string; id: string }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { key, prefix, keyHash } = generateApiKey();
    const id = randomUUID();
    await client.query(
      `INSERT INTO api_keys (id, name, role, prefix, key_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, now(), now())`,
      [id, name, role, prefix, keyHash],
    );
    return { key, id };
  } finally {
    await client.end();
  }
}

/** An API process of a stack: its base URL, and the admin key made for it (none with API_AUTH=disabled). */
export type ApiProcess = FolioProcess & { url: string; key?: string };

/**
 * Starts the API process (of `root`'s build) and waits until it answers (tests start theirs through startStack; the bench
 * starts its own). Unless the test turns auth off, it gets an admin
 * key of its own (`key`), which submit/waitForJob/getResult and authHeaders(url) send; each API process
 * having its own owner also keeps dedupe from joining another test's job.
 */
export async function startApi(env: NodeJS.ProcessEnv = {}, root = repoRoot): Promise<ApiProcess> {
  const port = await freePort();
  const proc = spawnFolio(
    'api',
    'dist/src/main.js',
    { HOST: '127.0.0.1', PORT: String(port), ...env, ...apiProcessEnv(env.NODE_OPTIONS ?? process.env.NODE_OPTIONS) },
    root,
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (proc.child.exitCode !== null) throw new Error(`api exited early:\n${proc.output.join('')}`);
    if (Date.now() > deadline) throw new Error(`api did not answer in time:\n${proc.output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (env.API_AUTH === 'disabled') return Object.assign(proc, { url });
  const { key } = await createApiKey(`test ${port}`, 'admin', env.APP_DATABASE_URL ?? harnessEnv().APP_DATABASE_URL);
  keysByUrl.set(url, key);
  return Object.assign(proc, { url, key });
}

/**
 * Starts a worker process and waits until it polls its task queue. `root`: another checkout's build (the
 * bench's `--compare`), run against the same services.
 */
export async function startWorker(env: NodeJS.ProcessEnv = {}, root = repoRoot): Promise<FolioProcess> {
  // Test workers run on task queues of their own; only a test about schedules lets one claim them. Each has
  // a cache folder of its own, as workers on separate machines do (it empties the folder at start).
  const proc = spawnFolio(
    'worker',
    'dist/src/worker.js',
    { ...WORKER_PROCESS_ENV, SCHEDULES_UPSERT: 'false', STORAGE_CACHE_DIR: ownCacheDir(), ...env },
    root,
  );
  await proc.waitForOutput(/Worker polling/, 90_000);
  return proc;
}

/** Variables for a process; `true` for the stack's own alone. */
type ProcessEnv = true | NodeJS.ProcessEnv;

export interface StackOptions {
  /** Names the stack's task queue, `<name>-<random>`: every process of the stack runs on it. */
  name?: string;
  /** Variables for every process of the stack, e.g. a PostgreSQL and Temporal of the test's own (own-services.ts). */
  env?: NodeJS.ProcessEnv;
  /** API processes: one (true, or its own variables), several (a list), or none (false). Default: one. */
  api?: false | ProcessEnv | ProcessEnv[];
  /** Worker processes, likewise. Default: none. */
  worker?: false | ProcessEnv | ProcessEnv[];
  /** A worker inside the test process, with the engines the test chooses (deliberate faults). */
  inProcessWorker?: Omit<InProcessWorkerOptions, 'taskQueue' | 'env'>;
}

/** Folio as a test runs it; everything it starts is stopped by stop(). */
export interface Stack {
  readonly taskQueue: string;
  /** What every process of the stack runs with: the options' env and the task queue. */
  readonly env: NodeJS.ProcessEnv;
  /** The API processes, in the order asked for; later ones are added by startApi. */
  readonly apis: ApiProcess[];
  /** The first API process, and its URL and key. */
  readonly api: ApiProcess;
  readonly url: string;
  readonly key: string | undefined;
  /** The worker processes, in the order started (a killed or stopped one stays listed). */
  readonly workers: FolioProcess[];
  /** The in-process worker, if one was started. */
  readonly inProcessWorker: InProcessWorker | undefined;
  /** Another API process on the stack's queue, with variables of its own on top of the stack's. */
  startApi(env?: NodeJS.ProcessEnv): Promise<ApiProcess>;
  /** Another worker process on the stack's queue (e.g. in place of a killed one). */
  startWorker(env?: NodeJS.ProcessEnv): Promise<FolioProcess>;
  /** A worker in the test process on the stack's queue; stop the previous one first to replace it. */
  startInProcessWorker(options: Omit<InProcessWorkerOptions, 'taskQueue' | 'env'>): Promise<InProcessWorker>;
  /** submit, waitForJob and getResult on the first API process, with its key. */
  submit(
    file: string | { name: string; bytes: Uint8Array },
    fields?: SubmitFields,
    route?: string,
    headers?: Record<string, string>,
  ): Promise<Response>;
  waitForJob(
    jobId: string,
    timeoutMs: number,
    onPoll?: (s: JobStatusBody) => void | Promise<void>,
  ): Promise<JobStatusBody>;
  getResult(jobId: string): Promise<JobResultBody>;
  /** Stops every process and in-process worker the stack started (those still running), at once. */
  stop(): Promise<void>;
}

function listOf(spec: false | ProcessEnv | ProcessEnv[] | undefined, byDefault: boolean): NodeJS.ProcessEnv[] {
  const list = spec === undefined ? (byDefault ? [true as const] : []) : spec === false ? [] : [spec].flat();
  return list.map((env) => (env === true ? {} : env));
}

/**
 * Starts a stack: its API processes, worker processes and in-process worker at once, each waited for until it
 * answers (API) or polls (workers). If one fails to start, the others are stopped before the error is thrown.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const taskQueue = uniqueTaskQueue(options.name ?? 'stack');
  const env: NodeJS.ProcessEnv = { ...options.env, TEMPORAL_TASK_QUEUE: taskQueue };
  const apis: ApiProcess[] = [];
  const workers: FolioProcess[] = [];
  const inProcess: InProcessWorker[] = [];

  const stack: Stack = {
    taskQueue,
    env,
    apis,
    get api() {
      const first = apis[0];
      if (!first) throw new Error('this stack has no API process');
      return first;
    },
    get url() {
      return stack.api.url;
    },
    get key() {
      return stack.api.key;
    },
    workers,
    get inProcessWorker() {
      return inProcess.at(-1);
    },
    async startApi(extra = {}) {
      const api = await startApi({ ...env, ...extra });
      apis.push(api);
      return api;
    },
    async startWorker(extra = {}) {
      const worker = await startWorker({ ...env, ...extra });
      workers.push(worker);
      return worker;
    },
    async startInProcessWorker(worker) {
      const started = await startInProcessWorker({ ...worker, taskQueue, env });
      inProcess.push(started);
      return started;
    },
    submit: (file, fields, route, headers) => submit(stack.url, file, fields, route, headers),
    waitForJob: (jobId, timeoutMs, onPoll) => waitForJob(stack.url, jobId, timeoutMs, onPoll),
    getResult: (jobId) => getResult(stack.url, jobId),
    async stop() {
      await Promise.all([
        ...inProcess.map((w) => w.stop()),
        ...apis.map((a) => a.stop()),
        ...workers.map((w) => w.stop()),
      ]);
    },
  };

  // All at once; each kept in the order asked for, so `apis[1]` is the second API of the options.
  const [apiStarts, workerStarts, inProcessStarts] = await Promise.all([
    Promise.allSettled(listOf(options.api, true).map((extra) => startApi({ ...env, ...extra }))),
    Promise.allSettled(listOf(options.worker, false).map((extra) => startWorker({ ...env, ...extra }))),
    Promise.allSettled(
      options.inProcessWorker ? [startInProcessWorker({ ...options.inProcessWorker, taskQueue, env })] : [],
    ),
  ]);
  const fulfilled = <T>(results: PromiseSettledResult<T>[]): T[] =>
    results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  apis.push(...fulfilled(apiStarts));
  workers.push(...fulfilled(workerStarts));
  inProcess.push(...fulfilled(inProcessStarts));
  const failed = [...apiStarts, ...workerStarts, ...inProcessStarts].find((r) => r.status === 'rejected');
  if (failed) {
    await stack.stop();
    throw failed.reason;
  }
  return stack;
}

export interface SubmitFields {
  ocrMode?: string;
  languages?: string;
  pages?: string;
  /** The user password of an encrypted PDF. */
  password?: string;
  /** 1 (most urgent) … 5. */
  priority?: string;
}

/** Uploads a file as a client would: multipart, the PDF in the part named "file". */
export async function submit(
  apiUrl: string,
  file: string | { name: string; bytes: Uint8Array },
  fields: SubmitFields = {},
  route = '/v1/documents',
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  if (typeof file === 'string') {
    form.append('file', new Blob([fs.readFileSync(file)], { type: 'application/pdf' }), path.basename(file));
  } else {
    form.append('file', new Blob([file.bytes], { type: 'application/pdf' }), file.name);
  }
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, v);
  return fetch(`${apiUrl}${route}`, { method: 'POST', body: form, headers: { ...authHeaders(apiUrl), ...headers } });
}

export interface JobStatusBody {
  jobId: string;
  status: string;
  step: string;
  progress: { percent: number; pagesTotal: number; pagesDone: number; pagesFailed: number };
  error: { code: string; message: string; page?: number } | null;
  pages: { number: number; status: string; method: string | null; attempts: number; error: { code: string } | null }[];
  links: { self: string; result: string; workflow: string };
}

export interface JobResultBody {
  jobId: string;
  status: string;
  pages: { number: number; method: string; text: string; confidence: number; words: unknown[] }[];
  failedPages: { number: number; error: { code: string; message: string } }[];
}

const FINISHED = new Set(['completed', 'partial', 'failed', 'cancelled']);

/** Polls the job until it is finished, calling `onPoll` with each status seen. */
export async function waitForJob(
  apiUrl: string,
  jobId: string,
  timeoutMs: number,
  onPoll?: (s: JobStatusBody) => void | Promise<void>,
): Promise<JobStatusBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${apiUrl}/v1/jobs/${jobId}`, { headers: authHeaders(apiUrl) });
    if (res.status !== 200) throw new Error(`GET job ${jobId}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as JobStatusBody;
    await onPoll?.(body);
    if (FINISHED.has(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} not finished in ${timeoutMs} ms: ${JSON.stringify(body).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function getResult(apiUrl: string, jobId: string): Promise<JobResultBody> {
  const res = await fetch(`${apiUrl}/v1/jobs/${jobId}/result`, { headers: authHeaders(apiUrl) });
  if (res.status !== 200) throw new Error(`GET result ${jobId}: ${res.status}`);
  return (await res.json()) as JobResultBody;
}
