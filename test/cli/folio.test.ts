import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpusPath } from '../support/corpus.js';
import { authHeaders, getResult, repoRoot, startStack, type ApiProcess, type Stack } from '../support/stack.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the compiled `folio` command (package.json's bin) as a user would; `done` when it exits. */
function startFolio(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Run> } {
  const bin = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { bin: { folio: string } })
    .bin.folio;
  const child = spawn(process.execPath, [path.join(repoRoot, bin), ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr }))) };
}

/** Runs the compiled `folio` command to its end. */
function folio(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return startFolio(args, env).done;
}

/**
 * A TCP proxy in front of the API that forwards at most `limit` bytes from the client (then swallows the
 * rest, as a link that went dead would) and counts what it forwarded.
 */
async function startProxy(target: string) {
  const { hostname, port } = new URL(target);
  const state = { limit: Infinity, forwarded: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    client.on('data', (chunk: Buffer) => {
      const room = state.limit - state.forwarded;
      if (room <= 0) return;
      const part = chunk.subarray(0, room);
      state.forwarded += part.length;
      upstream.write(part);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('folio command-line client', () => {
  let stack: Stack;
  let api: ApiProcess;
  let env: NodeJS.ProcessEnv;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-cli-'));

  before(async () => {
    stack = await startStack({ name: 'cli', worker: true });
    api = stack.api;
    env = { FOLIO_URL: api.url, FOLIO_API_KEY: api.key };
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('submit --wait uploads, waits and prints the text; exit code 0', async () => {
    const run = await folio(['submit', corpusPath('born-digital/pdfjs-issue840.pdf'), '--wait'], env);
    assert.equal(run.code, 0, run.stderr);
    const jobId = /job ([0-9a-f-]{36})/.exec(run.stderr)?.[1];
    assert.ok(jobId, `no job id in: ${run.stderr}`);
    const result = await getResult(api.url, jobId);
    assert.equal(result.status, 'completed');
    assert.equal(result.pages.length, 2);
    // Exactly the API's plain text (pages separated by form feeds), nothing else on stdout.
    const txt = await (
      await fetch(`${api.url}/v1/jobs/${jobId}/result?format=txt`, { headers: authHeaders(api.url) })
    ).text();
    assert.equal(run.stdout.trimEnd(), txt.trimEnd());
    assert.equal(run.stdout.split('\f').length, 2);
    for (const page of result.pages) assert.ok(run.stdout.includes(page.text.trim().slice(0, 200)));
    assert.ok(result.pages.every((p) => p.text.length > 20));
  });

  it('--out saves the text; status and result read the job back', async () => {
    const out = path.join(tmp, 'scan.txt');
    const run = await folio(['submit', corpusPath('scanned/tess-phototest.pdf'), '--wait', '--out', out], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(fs.readFileSync(out, 'utf8'), /quick brown/i);
    const jobId = /job ([0-9a-f-]{36})/.exec(run.stderr)![1]!;

    const status = await folio(['status', jobId], env);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { status: string }).status, 'completed');
    const result = await folio(['result', jobId], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      fs.readFileSync(out, 'utf8').endsWith('\n') ? fs.readFileSync(out, 'utf8') : `${fs.readFileSync(out, 'utf8')}\n`,
    );
  });

  it('submit scan.png --wait reads an image the same way', async () => {
    const scan = path.join(tmp, 'scan.png');
    fs.copyFileSync(corpusPath('rotated/tess-phototest-rotated-180.png'), scan);
    const run = await folio(['submit', scan, '--wait', '--quiet'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /quick brown/i);
  });

  it('--format: submit --wait prints the hOCR, result --out saves the TSV, each as the API serves it', async () => {
    const run = await folio(
      ['submit', corpusPath('born-digital/pdfjs-issue840.pdf'), '--wait', '--format', 'hocr'],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    const jobId = /job ([0-9a-f-]{36})/.exec(run.stderr)![1]!;
    const served = async (format: string) =>
      (await fetch(`${api.url}/v1/jobs/${jobId}/result?format=${format}`, { headers: authHeaders(api.url) })).text();
    assert.match(run.stdout, /class="ocrx_word"/);
    assert.equal(run.stdout, await served('hocr'));
    const out = path.join(tmp, 'scan.tsv');
    const result = await folio(['result', jobId, '--format', 'tsv', '--out', out], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fs.readFileSync(out, 'utf8'), await served('tsv'));
    assert.match(fs.readFileSync(out, 'utf8'), /^level\tpage_num\t/);
    const bad = await folio(['result', jobId, '--format', 'docx'], env);
    assert.equal(bad.code, 2, 'an unknown format is a usage error');
    assert.match(bad.stderr, /hocr/);
  });

  it('a document that fails gives exit code 1 with its error code; submit without --wait prints the job id', async () => {
    const run = await folio(['submit', corpusPath('corrupt/ocrmypdf-invalid.pdf'), '--wait', '--quiet'], env);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /failed: PDF_CORRUPT/);
    assert.equal(run.stdout, '');

    const queued = await folio(
      ['submit', corpusPath('scanned/tess-eurotext.pdf'), '--ocr-mode', 'force', '--priority', '1'],
      env,
    );
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(queued.stdout, /^[0-9a-f-]{36}\n$/);
    const job = await fetch(`${api.url}/v1/jobs/${queued.stdout.trim()}`, { headers: authHeaders(api.url) });
    assert.equal(((await job.json()) as { priority: number }).priority, 1, '--priority reaches the job');
  });

  it('bad usage exits 2; refusals by the API exit 5; an unreachable API exits 6', async () => {
    const file = corpusPath('scanned/tess-phototest.pdf');
    for (const args of [
      [],
      ['submit'],
      ['submit', path.join(tmp, 'missing.pdf')],
      ['submit', file, '--ocr-mode', 'often'],
      ['submit', file, '--priority', '0'],
      ['frobnicate'],
    ]) {
      const run = await folio(args, env);
      assert.equal(run.code, 2, `folio ${args.join(' ')}: ${run.code}\n${run.stderr}`);
    }
    assert.equal((await folio(['--help'], env)).code, 0);

    const notPdf = path.join(tmp, 'notes.pdf');
    fs.writeFileSync(notPdf, 'not a pdf at all');
    const refused = await folio(['submit', notPdf, '--wait'], env);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /415 NOT_PDF/);
    // The same refusal through a resumable upload.
    const viaTus = await folio(['submit', notPdf, '--resumable-above', '0'], {
      ...env,
      FOLIO_UPLOAD_STATE: path.join(tmp, 'refused-state.json'),
    });
    assert.equal(viaTus.code, 5, viaTus.stderr);
    assert.match(viaTus.stderr, /415 NOT_PDF/);
    const badKey = await folio(['status', '00000000-0000-4000-8000-000000000000'], { ...env, FOLIO_API_KEY: 'nope' });
    assert.equal(badKey.code, 5);
    assert.match(badKey.stderr, /401 UNAUTHORIZED/);
    const unknown = await folio(['status', '00000000-0000-4000-8000-000000000000'], env);
    assert.equal(unknown.code, 5);
    assert.match(unknown.stderr, /404 JOB_NOT_FOUND/);

    const unreachable = await folio(['submit', file], { ...env, FOLIO_URL: 'http://127.0.0.1:9' });
    assert.equal(unreachable.code, 6);
    assert.match(unreachable.stderr, /Cannot reach/);
  });

  it('a resumable upload killed (Ctrl-C) halfway resumes where the API has it when the command is run again', async () => {
    const file = path.join(tmp, 'resumable.pdf');
    fs.copyFileSync(corpusPath('born-digital/pdfjs-issue840.pdf'), file);
    const size = fs.statSync(file).size;
    const proxy = await startProxy(api.url);
    const state = path.join(tmp, 'upload-state.json');
    const runEnv = { ...env, FOLIO_URL: proxy.url, FOLIO_UPLOAD_STATE: state };
    const args = ['submit', file, '--wait', '--resumable-above', '0'];
    try {
      // The link dies after half the file: the first run hangs there until Ctrl-C.
      proxy.state.limit = Math.floor(size / 2);
      const first = startFolio(args, runEnv);
      const deadline = Date.now() + 30_000;
      while (proxy.state.forwarded < proxy.state.limit) {
        assert.ok(Date.now() < deadline, `only ${proxy.state.forwarded} bytes forwarded`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
      first.child.kill('SIGINT');
      const killed = await first.done;
      assert.notEqual(killed.code, 0);
      const remembered = Object.values(
        JSON.parse(fs.readFileSync(state, 'utf8')) as Record<string, { uploadUrl: string }>,
      );
      assert.equal(remembered.length, 1);
      const uploadUrl = new URL(remembered[0]!.uploadUrl, api.url).pathname;

      // The API kept what arrived before the cut.
      const head = await fetch(`${api.url}${uploadUrl}`, {
        method: 'HEAD',
        headers: { 'tus-resumable': '1.0.0', ...authHeaders(api.url) },
      });
      const kept = Number(head.headers.get('upload-offset'));
      assert.ok(kept > size / 4 && kept <= size / 2, `kept ${kept} of ${size}`);

      // The same command again: only the rest is sent.
      proxy.state.limit = Infinity;
      proxy.state.forwarded = 0;
      const second = await folio(args, runEnv);
      assert.equal(second.code, 0, second.stderr);
      assert.ok(proxy.state.forwarded < size - kept / 2, `sent ${proxy.state.forwarded} bytes again of ${size}`);
      const jobId = /job ([0-9a-f-]{36})/.exec(second.stderr)?.[1];
      assert.ok(jobId, second.stderr);
      const result = await getResult(api.url, jobId);
      assert.equal(result.status, 'completed');
      assert.equal(second.stdout.split('\f').length, 2);
      assert.ok(second.stdout.includes(result.pages[0]!.text.trim().slice(0, 100)));
      // The finished upload is forgotten; its bytes are the job's document.
      assert.deepEqual(JSON.parse(fs.readFileSync(state, 'utf8')), {});
      const original = await fetch(`${api.url}/v1/jobs/${jobId}/document`, { headers: authHeaders(api.url) });
      assert.ok(Buffer.from(await original.arrayBuffer()).equals(fs.readFileSync(file)));
    } finally {
      await proxy.close();
    }
  });
});
