import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpusPath, loadManifest } from '../support/corpus.js';
import { repoRoot, startStack, submit, waitForJob, type ApiProcess, type Stack } from '../support/stack.js';

/** schemathesis, installed by scripts/install-schemathesis.sh (run by .ci/run and `npm test`'s pretest). */
const st = path.join(repoRoot, '.venv-fuzz/bin/st');

/** Every check that needs no extra setup: no 5xx, and every response as /openapi.json documents it. */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
];

interface RunResult {
  code: number | null;
  output: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
}

/** One schemathesis run with the fuzzing key; its JUnit report's counts. */
async function fuzz(api: { url: string; key?: string }, pass: string, config?: string, env: NodeJS.ProcessEnv = {}) {
  const reportDir = path.join(repoRoot, 'test-results', 'schemathesis');
  await mkdir(reportDir, { recursive: true });
  const junit = path.join(reportDir, `${pass}.xml`);
  const { code, output } = await run(
    st,
    [
      ...(config ? ['--config-file', config] : []),
      'run',
      `${api.url}/openapi.json`,
      '--url',
      api.url,
      '--header',
      `Authorization: Bearer ${api.key}`,
      '--checks',
      CHECKS.join(','),
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      '30',
      '--seed',
      '20261122',
      // One worker: hypothesis describes strategies by parsing lambdas' source with `ast`, and on this CPython
      // (3.11.7, before the fix of cpython#106905 in 3.11.8) two threads doing so can corrupt the AST
      // constructor's recursion counter ("AST constructor recursion depth mismatch"): a crash of the tool,
      // reported as an error of whichever operation it was generating cases for.
      '--workers',
      '1',
      '--request-timeout',
      '30',
      '--report',
      'junit',
      '--report-junit-path',
      junit,
    ],
    // Serializes tus's application/offset+octet-stream PATCH bodies (/v1/uploads) as the bytes they are.
    { SCHEMATHESIS_HOOKS: path.join(repoRoot, 'test/e2e/schemathesis_hooks.py'), ...env },
  );
  console.log(output);
  const report = await readFile(junit, 'utf8');
  const suite = /<testsuite\b[^>]*>/.exec(report)?.[0] ?? '';
  const count = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? NaN);
  const cases = /(\d+) generated, /.exec(output)?.[1] ?? '?';
  const counts: Counts = { tests: count('tests'), failures: count('failures'), errors: count('errors') };
  console.log(
    `schemathesis ${pass}: ${counts.tests} operations, ${cases} test cases, ${counts.failures} failures, ` +
      `${counts.errors} errors`,
  );
  return { code, counts };
}

describe('API fuzzing with schemathesis against /openapi.json', () => {
  let stack: Stack;
  let api: ApiProcess;
  let jobId = '';

  before(async () => {
    stack = await startStack({
      name: 'fuzz',
      api: { RATE_LIMIT_REQUESTS: '1000000', MAX_IN_FLIGHT_PER_KEY: '1000000' },
      worker: true,
    });
    api = stack.api;
    // One real, finished job of the fuzzing key for the second pass: the smallest born-digital document.
    const doc = loadManifest()
      .filter((e) => e.expected === 'text-layer' && e.pages !== null && e.pages <= 3)
      .sort((a, b) => a.bytes - b.bytes)[0];
    assert.ok(doc, 'the corpus has a small born-digital document');
    const res = await submit(api.url, corpusPath(doc.file));
    assert.equal(res.status, 202);
    jobId = ((await res.json()) as { jobId: string }).jobId;
    await waitForJob(api.url, jobId, 120_000);
  });
  after(async () => {
    await stack?.stop();
  });

  it('finds no server error and no response that breaks the schema, with unknown and with real job ids', async () => {
    assert.ok(existsSync(st), `schemathesis is missing at ${st}: run scripts/install-schemathesis.sh`);
    const spec = (await (await fetch(`${api.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(spec.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const unknownIds = await fuzz(api, 'unknown-ids');
    const realJob = await fuzz(api, 'real-job', path.join(repoRoot, 'test/e2e/schemathesis.toml'), {
      FUZZ_JOB_ID: jobId,
    });
    for (const { code, counts } of [unknownIds, realJob]) {
      assert.equal(code, 0, 'schemathesis found problems (see its output above)');
      assert.equal(counts.tests, operations, 'every API operation is fuzzed');
      assert.equal(counts.failures, 0);
      assert.equal(counts.errors, 0);
    }
  });
});
