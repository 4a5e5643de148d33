/**
 * The Temporal test environment for workflow and activity tests: @temporalio/testing's TestWorkflowEnvironment
 * on a dev server of the test file's own, started from the installed `temporal` CLI (the SDK's own download
 * cannot be reached here). In memory, on a free port, gone at teardown: nothing a workflow test starts is
 * left in the harness's server, where the e2e tests list workflows and schedules.
 */
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type History } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { devServerFolioArgs, findTemporalCli } from '../../scripts/lib/temporal-dev-server.js';
import { repoRoot } from './harness.js';

/** The workflow code as the worker runs it, bundled by `npm run build`. */
export const workflowBundle = { codePath: path.join(repoRoot, 'dist/workflow-bundle.js') };

let runtimeInstalled = false;

/**
 * Keeps the SDK's log lines, its core's included, to errors: the tests fail activities on purpose, and a page
 * that outlived its attempt completes late, both of which the SDK warns about; replay workers log every
 * state change. Once per process, before the SDK's runtime is first used.
 */
export function quietTemporalLogs(): void {
  if (runtimeInstalled) return;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  runtimeInstalled = true;
}

/** Starts a dev server from the CLI (TEMPORAL_CLI_PATH, set by the harness, or .tools/) and connects to it. */
export async function startTestTemporal(): Promise<TestWorkflowEnvironment> {
  const cli = findTemporalCli(repoRoot);
  if (!cli) throw new Error('no temporal CLI: `npm test` installs it into .tools/ (or set TEMPORAL_CLI_PATH)');
  quietTemporalLogs();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      extraArgs: devServerFolioArgs(),
    },
  });
}

/** The histories of these workflows, as Worker.runReplayHistories takes them. */
export async function* historiesOf(
  client: Client,
  workflowIds: string[],
): AsyncGenerator<{ workflowId: string; history: History }> {
  for (const workflowId of workflowIds) {
    const history: History = await client.workflow.getHandle(workflowId).fetchHistory();
    yield { workflowId, history };
  }
}

/** Polls `check` until it holds, for an event another part of the test brings about. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
