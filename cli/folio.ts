#!/usr/bin/env node
/**
 * `folio`: the command-line client. Uploads a PDF or an image (streamed from disk), follows its job over the
 * API's Server-Sent Events with a progress bar, and prints or saves the text, or the result in another format
 * (JSON, hOCR, ALTO, TSV, the searchable PDF). Several files or a folder go as one batch, followed by one bar. FOLIO_URL and FOLIO_API_KEY say where and as whom. The exit
 * code says how it ended (see EXIT).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import * as tus from 'tus-js-client';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { RESULT_FORMATS } from '../core/outputs/formats.js';
import { isFinished as isFinishedStatus, isJobStatus, OCR_MODES, type FinishedStatus } from '../core/lifecycle.js';

/** Exit codes: one per way a run can end. */
export const EXIT = {
  completed: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  cancelled: 4,
  /** The API answered with an error (bad document, unknown job, bad key, …). */
  rejected: 5,
  /** The API could not be reached, or the connection broke. */
  network: 6,
} as const;

interface JobStatus {
  jobId: string;
  status: string;
  step: string;
  progress: { percent: number; pagesTotal: number; pagesDone: number; pagesFailed: number };
  error: { code: string; message: string; page?: number } | null;
}

/** An error that ends the command with a given exit code and message. */
class Exit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function isFinished(status: string): status is FinishedStatus {
  return isJobStatus(status) && isFinishedStatus(status);
}

function exitCodeOf(status: string): number {
  return isFinished(status) ? EXIT[status] : EXIT.completed;
}

/** The API: base URL and key from the environment (or --url), errors turned into exit codes. */
class Api {
  constructor(
    readonly baseUrl: string,
    private readonly key: string | undefined,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...extra };
  }

  async fetch(route: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(new URL(route, this.baseUrl), {
        ...init,
        headers: this.headers(init.headers as Record<string, string>),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new Exit(EXIT.network, `Cannot reach ${this.baseUrl} (set FOLIO_URL)${cause}`);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (body.error) message = `${body.error.code}: ${body.error.message}`;
      } catch {
        // Not JSON: the text as it came.
      }
      throw new Exit(EXIT.rejected, `${res.status} ${message}`.trim());
    }
    return res;
  }

  async json<T>(route: string, init?: RequestInit): Promise<T> {
    return (await this.fetch(route, init)).json() as Promise<T>;
  }
}

function api(options: { url?: string }): Api {
  const base = options.url ?? process.env.FOLIO_URL ?? 'http://localhost:3000';
  try {
    new URL(base);
  } catch {
    throw new Exit(EXIT.usage, `FOLIO_URL is not a URL: ${base}`);
  }
  return new Api(base, process.env.FOLIO_API_KEY || undefined);
}

/** Follows the job's events until it ends, moving a progress bar (on stderr, when it is a terminal). */
async function follow(client: Api, jobId: string, quiet: boolean): Promise<string> {
  const bar = new cliProgress.SingleBar(
    { format: 'pages {bar} {value}/{total} {status}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const show = (p: { pagesTotal: number; pagesDone: number; pagesFailed: number; status: string }) => {
    if (quiet) return;
    const value = p.pagesDone + p.pagesFailed;
    if (!started) bar.start(Math.max(p.pagesTotal, 1), value, { status: p.status });
    started = true;
    bar.setTotal(Math.max(p.pagesTotal, 1));
    bar.update(value, { status: p.status });
  };
  try {
    const res = await client.fetch(`/v1/jobs/${jobId}/events`, { headers: { accept: 'text/event-stream' } });
    if (res.body) {
      const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      for await (const event of events) {
        if (event.event !== 'progress' && event.event !== 'end') continue;
        const data = JSON.parse(event.data) as JobStatus['progress'] & { status: string };
        show(data);
        if (event.event === 'end') return data.status;
      }
    }
  } catch (err) {
    // A broken stream is not the job's end: fall back to asking for its status below.
    if (err instanceof Exit && err.code !== EXIT.network) throw err;
  } finally {
    if (started) bar.stop();
  }
  for (;;) {
    const job = await client.json<JobStatus>(`/v1/jobs/${jobId}`);
    if (isFinished(job.status)) return job.status;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Prints the job's result or saves it to `out`: the text (pages separated by form feeds) by default, else
 * the format asked for, streamed as it comes.
 */
async function writeResult(client: Api, jobId: string, out: string | undefined, format = 'txt'): Promise<void> {
  const res = await client.fetch(`/v1/jobs/${jobId}/result?format=${encodeURIComponent(format)}`);
  if (format === 'txt' && !out) {
    const text = await res.text();
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  if (!res.body) return;
  const body = Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>);
  await pipeline(body, out ? fs.createWriteStream(out) : process.stdout, { end: out !== undefined });
}

/** Files larger than this many MB go through a resumable upload (tus) unless --resumable-above says otherwise. */
export const RESUMABLE_ABOVE_MB = 16;

/** Where the upload URL of each file being sent is remembered, so a rerun of the same command resumes it. */
function uploadStateFile(): string {
  if (process.env.FOLIO_UPLOAD_STATE) return process.env.FOLIO_UPLOAD_STATE;
  const stateHome = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(stateHome, 'folio', 'uploads.json');
}

type UrlStorage = NonNullable<tus.UploadOptions['urlStorage']>;
/** tus-js-client's own file-backed URL storage (exported for Node, absent from its type definitions). */
const { FileUrlStorage } = tus as unknown as { FileUrlStorage: new (file: string) => UrlStorage };

/** The API's refusal as the CLI reports it: status, code and message. */
function refusalOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error) return `${status} ${body.error.code}: ${body.error.message}`;
  } catch {
    // Not JSON: the text as it came.
  }
  return `${status} ${text}`.trim();
}

/**
 * Sends a file through /v1/uploads (tus): streamed from disk, retried after a dropped connection, and
 * resumed where the server has it when the same file is sent again after Ctrl-C (its URL is kept, per
 * file path, size and modification time, in the state file until the upload is finished). Resolves to
 * the job the finished upload became.
 */
async function resumableUpload(client: Api, file: string, fields: Record<string, string>, quiet: boolean) {
  const stateFile = uploadStateFile();
  await fs.promises.mkdir(path.dirname(stateFile), { recursive: true });
  const bar = new cliProgress.SingleBar(
    { format: 'upload {bar} {percentage}% {value}/{total} bytes', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let jobId: string | undefined;
  return new Promise<string>((resolve, reject) => {
    // A file stream with its path: tus-js-client reads the slices it sends from the file, and fingerprints it.
    const upload = new tus.Upload(fs.createReadStream(file), {
      endpoint: new URL('/v1/uploads', client.baseUrl).href,
      headers: client.headers(),
      metadata: { filename: path.basename(file), ...fields },
      urlStorage: new FileUrlStorage(stateFile),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      // A dropped connection or a restarting API: try again, from the offset the server has.
      retryDelays: [0, 1000, 3000, 5000, 10000],
      onProgress: (sent, total) => {
        if (quiet) return;
        if (!started) bar.start(total, sent);
        started = true;
        bar.update(sent);
      },
      onAfterResponse: (_req, res) => {
        jobId = res.getHeader('Folio-Job-Id') ?? jobId;
      },
      onSuccess: () => {
        if (started) bar.stop();
        if (jobId) resolve(jobId);
        else reject(new Exit(EXIT.rejected, 'The upload finished but the API named no job (Folio-Job-Id).'));
      },
      onError: (err) => {
        if (started) bar.stop();
        const res = err instanceof tus.DetailedError ? err.originalResponse : null;
        if (res && res.getStatus() >= 400) reject(new Exit(EXIT.rejected, refusalOf(res.getStatus(), res.getBody())));
        else reject(new Exit(EXIT.network, `Cannot upload to ${client.baseUrl} (set FOLIO_URL): ${err.message}`));
      },
    });
    upload
      .findPreviousUploads()
      .then((previous) => {
        if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      })
      .catch(reject);
  });
}

function formatOption(): Option {
  return new Option(
    '-f, --format <format>',
    'txt (default), json, hocr (hOCR 1.2), alto (ALTO v4), tsv or pdf (the searchable PDF)',
  ).choices(RESULT_FORMATS);
}

async function report(client: Api, jobId: string, status: string): Promise<number> {
  if (status !== 'completed') {
    const job = await client.json<JobStatus>(`/v1/jobs/${jobId}`);
    const error = job.error ? `: ${job.error.code} ${job.error.message}` : '';
    process.stderr.write(`job ${jobId} ${status}${error}\n`);
  }
  return exitCodeOf(status);
}

function ocrModeOption(): Option {
  return new Option(
    '--ocr-mode <mode>',
    'auto: OCR pages without real text; force: OCR every page; skip: never',
  ).choices(OCR_MODES);
}

function priorityOption(): Option {
  return new Option(
    '--priority <n>',
    '1 (most urgent) to 5: pages of more urgent jobs run first when workers are busy (default 3)',
  ).choices(['1', '2', '3', '4', '5']);
}

/** What a folder contributes to a batch: files named like the documents the API takes. */
const DOCUMENT_EXTENSIONS = new Set(['.pdf', '.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp']);

/** A batch's files: each file named, and each folder's PDFs and images (its subfolders' too with --recursive), by name. */
function documentsIn(paths: string[], recursive: boolean): { file: string; name: string }[] {
  const found: { file: string; name: string }[] = [];
  for (const p of paths) {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (stat?.isFile()) found.push({ file: p, name: path.basename(p) });
    else if (stat?.isDirectory()) {
      const entries = fs
        .readdirSync(p, { withFileTypes: true, recursive })
        .filter((e) => e.isFile() && DOCUMENT_EXTENSIONS.has(path.extname(e.name).toLowerCase()));
      const files = entries.map((e) => path.join(e.parentPath, e.name)).sort();
      found.push(...files.map((file) => ({ file, name: recursive ? path.relative(p, file) : path.basename(file) })));
    } else throw new Exit(EXIT.usage, `${p}: no such file or folder`);
  }
  if (found.length === 0) throw new Exit(EXIT.usage, `no PDF or image in ${paths.join(', ')}`);
  return found;
}

interface BatchStatus {
  batchId: string;
  status: string;
  endedAt: string | null;
  documents: { total: number; completed: number; partial: number; failed: number; cancelled: number; inFlight: number };
  pages: { total: number; done: number; failed: number };
}

/**
 * Sends the files as one POST /v1/batches (each streamed from disk, one after another), reports refused
 * files on stderr, and with --wait follows the batch with one progress bar (documents finished, pages read)
 * until it ends; then prints its summary (or saves the ZIP of its texts to --out). Resolves to the exit code.
 */
async function submitBatch(
  client: Api,
  files: { file: string; name: string }[],
  fields: Record<string, string>,
  opts: SubmitOptions,
): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const f of files) form.append('file', await fs.openAsBlob(f.file, { type: 'application/octet-stream' }), f.name);
  const submitted = await client.json<{
    batchId: string;
    jobs: { fileName: string | null; error?: { code: string; message: string } }[];
  }>('/v1/batches', { method: 'POST', body: form });
  for (const j of submitted.jobs) {
    if (j.error) process.stderr.write(`refused ${j.fileName ?? '(no name)'}: ${j.error.code} ${j.error.message}\n`);
  }
  if (!opts.wait) {
    process.stdout.write(`${submitted.batchId}\n`);
    return EXIT.completed;
  }
  process.stderr.write(`batch ${submitted.batchId}\n`);
  const bar = new cliProgress.SingleBar(
    {
      format: 'documents {bar} {value}/{total} · pages {pagesDone}/{pagesTotal} {status}',
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let batch: BatchStatus;
  for (;;) {
    batch = await client.json<BatchStatus>(`/v1/batches/${submitted.batchId}?limit=1000`);
    const d = batch.documents;
    const payload = {
      pagesDone: batch.pages.done + batch.pages.failed,
      pagesTotal: batch.pages.total,
      status: batch.status,
    };
    if (opts.quiet !== true) {
      if (!started) bar.start(Math.max(d.total, 1), d.total - d.inFlight, payload);
      started = true;
      bar.update(d.total - d.inFlight, payload);
    }
    if (batch.status !== 'in_progress' && batch.endedAt !== null) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (started) bar.stop();
  if (opts.out) {
    const res = await client.fetch(`/v1/batches/${submitted.batchId}/results?format=txt`);
    if (res.body)
      await pipeline(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>), fs.createWriteStream(opts.out));
  } else {
    process.stdout.write(`${JSON.stringify(batch, null, 2)}\n`);
  }
  return batch.status === 'completed' ? EXIT.completed : isFinished(batch.status) ? EXIT[batch.status] : EXIT.failed;
}

/** The program; `run` resolves to the exit code. */
export function program(): Command {
  const cmd = new Command('folio')
    .description('PDFs and images in, per-page text out: submit documents to a Folio API and get their text.')
    .option('--url <url>', 'the API (default: FOLIO_URL, else http://localhost:3000); the key is FOLIO_API_KEY')
    .addHelpText(
      'after',
      `\nExit codes: 0 completed, ${EXIT.failed} failed, ${EXIT.usage} usage error, ${EXIT.partial} partial, ` +
        `${EXIT.cancelled} cancelled, ${EXIT.rejected} refused by the API, ${EXIT.network} API unreachable.`,
    )
    .exitOverride()
    .showHelpAfterError('(folio --help lists the commands and exit codes)');

  cmd
    .command('submit')
    .description(
      'upload a PDF or a PNG, JPEG, TIFF or WebP image; with --wait, follow it and print (or save) its text. ' +
        'Several files or a folder (its PDFs and images) go as one batch',
    )
    .argument('<files...>', 'PDFs, images, or folders of them')
    .option('-w, --wait', 'wait for the job (or batch) to finish and print its text (a batch: its summary)')
    .option(
      '-o, --out <file>',
      'with --wait: write the result to this file instead of stdout (a batch: the ZIP of its texts)',
    )
    .addOption(formatOption())
    .addOption(ocrModeOption())
    .option('--languages <codes>', 'OCR languages joined by "+" (e.g. eng+kor), or auto: each page by its script')
    .option('--pages <range>', 'pages to read, e.g. 1-3,7')
    .addOption(priorityOption())
    .option('-r, --recursive', "a folder's subfolders too")
    .option('-q, --quiet', 'no progress bar')
    .option(
      '--resumable-above <MB>',
      `files larger than this go through a resumable upload that survives Ctrl-C and dropped connections (run the same command again to resume); 0: always`,
      megabytes,
      RESUMABLE_ABOVE_MB,
    )
    .action(async (paths: string[], opts: SubmitOptions, command: Command) => {
      const client = api(command.optsWithGlobals());
      const fields: Record<string, string> = {};
      if (opts.ocrMode) fields.ocrMode = opts.ocrMode;
      if (opts.languages) fields.languages = opts.languages;
      if (opts.pages) fields.pages = opts.pages;
      if (opts.priority) fields.priority = opts.priority;
      const single = paths.length === 1 && fs.statSync(paths[0]!, { throwIfNoEntry: false })?.isFile();
      if (!single) {
        process.exitCode = await submitBatch(client, documentsIn(paths, opts.recursive === true), fields, opts);
        return;
      }
      const file = paths[0]!;
      const submitted =
        fs.statSync(file).size > opts.resumableAbove * 1024 * 1024
          ? { jobId: await resumableUpload(client, file, fields, opts.quiet === true) }
          : await multipartUpload(client, file, fields);
      if (!opts.wait) {
        process.stdout.write(`${submitted.jobId}\n`);
        return;
      }
      process.stderr.write(`job ${submitted.jobId}\n`);
      const status = await follow(client, submitted.jobId, opts.quiet === true);
      if (status === 'completed' || status === 'partial') {
        await writeResult(client, submitted.jobId, opts.out, opts.format);
      }
      process.exitCode = await report(client, submitted.jobId, status);
    });

  cmd
    .command('status')
    .description("print a job's status as JSON (exit code as for a finished job)")
    .argument('<jobId>')
    .action(async (jobId: string, _opts: unknown, command: Command) => {
      const job = await api(command.optsWithGlobals()).json<JobStatus>(`/v1/jobs/${encodeURIComponent(jobId)}`);
      process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
      process.exitCode = exitCodeOf(job.status);
    });

  cmd
    .command('result')
    .description("print (or save) a finished job's text, or its result in another --format")
    .argument('<jobId>')
    .option('-o, --out <file>', 'write the result to this file instead of stdout')
    .addOption(formatOption())
    .action(async (jobId: string, opts: { out?: string; format?: string }, command: Command) => {
      const client = api(command.optsWithGlobals());
      const job = await client.json<JobStatus>(`/v1/jobs/${encodeURIComponent(jobId)}`);
      if (!isFinished(job.status)) throw new Exit(EXIT.usage, `job ${jobId} is still ${job.status}; try again later`);
      if (job.status === 'completed' || job.status === 'partial') {
        await writeResult(client, job.jobId, opts.out, opts.format);
      }
      process.exitCode = await report(client, job.jobId, job.status);
    });
  return cmd;
}

/** Sends a file as POST /v1/documents's multipart body, streamed from disk. */
async function multipartUpload(client: Api, file: string, fields: Record<string, string>): Promise<{ jobId: string }> {
  const form = new FormData();
  // A file-backed Blob: the upload streams from disk, whatever the file's size. The API types it by its
  // content, so no type is claimed for it.
  form.append('file', await fs.openAsBlob(file, { type: 'application/octet-stream' }), path.basename(file));
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return client.json<{ jobId: string }>('/v1/documents', { method: 'POST', body: form });
}

function megabytes(value: string): number {
  const mb = Number(value);
  if (!Number.isFinite(mb) || mb < 0) throw new InvalidArgumentError('a number of megabytes, 0 or more');
  return mb;
}

interface SubmitOptions {
  wait?: boolean;
  out?: string;
  format?: string;
  ocrMode?: string;
  languages?: string;
  pages?: string;
  priority?: string;
  recursive?: boolean;
  quiet?: boolean;
  resumableAbove: number;
}

try {
  await program().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are not errors; everything else commander refuses is a usage error.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
  } else if (err instanceof Exit) {
    process.stderr.write(`folio: ${err.message}\n`);
    process.exitCode = err.code;
  } else {
    process.stderr.write(`folio: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.network;
  }
}
