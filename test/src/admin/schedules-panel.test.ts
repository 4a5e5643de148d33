/**
 * The panel's Schedules resource is backed by Temporal's schedule API: an operator lists the declared
 * schedules, pauses, unpauses, triggers and edits one through the panel's backend, each change reaches
 * Temporal (described there) and is audited with the operator's email; delete is refused.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createSequelize } from '../../../core/db/connections.js';
import { initAppModels } from '../../../core/db/models.js';
import { ScheduleIds } from '../../../core/contracts.js';
import { ensureOperator } from '../../support/operators.js';
import { launchChromium, signIn } from '../../support/panel.js';
import { harnessEnv, repoRoot, startStack, type ApiProcess, type Stack } from '../../support/stack.js';

const ADMIN_EMAIL = 'scheduler@folio.test';
const ADMIN_PASSWORD = 'a long and unguessable passphrase';

interface PanelBody {
  records?: { id: string; params: Record<string, unknown> }[];
  record?: { errors?: Record<string, unknown> };
  notice?: { type: string; message: string };
}

describe('admin panel: Schedules', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const models = initAppModels(db);
  const { ScheduleAudit } = models;
  let stack: Stack;
  let api: ApiProcess;
  let connection: Connection;
  let client: Client;
  let headers: Record<string, string> = {};

  before(async () => {
    const panelEnv = { ADMIN_EMAIL, ADMIN_PASSWORD, SESSION_SECRET: 'schedules-panel-test-secret-0123456789' };
    // The worker first: it upserts the schedules the panel then shows.
    stack = await startStack({ name: 'sched-panel', api: false, worker: { SCHEDULES_UPSERT: 'true' } });
    api = await stack.startApi(panelEnv);
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
    await ensureOperator(models, ADMIN_EMAIL, ADMIN_PASSWORD);
    const signedIn = await signIn(api.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    assert.equal(signedIn.status, 302);
    headers = signedIn.headers!;
  });
  after(async () => {
    await stack?.stop();
    await connection?.close();
    await db.close();
  });

  async function panel(pathname: string, init: RequestInit = {}) {
    const res = await fetch(`${api.url}/admin/api/resources/Schedules${pathname}`, {
      ...init,
      headers: { ...headers, ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as PanelBody };
  }

  it('lists the declared schedules with their spec and next runs', async () => {
    const { status, body } = await panel('/actions/list');
    assert.equal(status, 200);
    const records = body.records ?? [];
    const ids = records.map((r) => r.id);
    assert.ok(ids.includes(ScheduleIds.cleanupExpiredJobs) && ids.includes(ScheduleIds.reconcileJobs), ids.join());
    const cleanup = records.find((r) => r.id === ScheduleIds.cleanupExpiredJobs)!;
    assert.equal(cleanup.params.workflowType, 'cleanupExpiredJobsWorkflow');
    assert.equal(cleanup.params.cron, '30 3 * * *');
    assert.ok(String(cleanup.params.nextRuns).length > 0);
  });

  it('pauses, unpauses, triggers and edits a schedule in Temporal, audited with the operator', async () => {
    const id = ScheduleIds.reconcileJobs;
    const handle = client.schedule.getHandle(id);

    let r = await panel(`/records/${id}/pause`, { method: 'POST', body: new URLSearchParams({}) });
    assert.equal(r.body.notice?.type, 'success', JSON.stringify(r.body.notice));
    assert.equal((await handle.describe()).state.paused, true);
    r = await panel(`/records/${id}/unpause`, { method: 'POST', body: new URLSearchParams({}) });
    assert.equal((await handle.describe()).state.paused, false);

    const before = (await handle.describe()).info.numActionsTaken;
    r = await panel(`/records/${id}/trigger`, { method: 'POST', body: new URLSearchParams({}) });
    assert.equal(r.body.notice?.type, 'success', JSON.stringify(r.body.notice));
    const deadline = Date.now() + 30_000;
    while ((await handle.describe()).info.numActionsTaken <= before) {
      assert.ok(Date.now() < deadline, 'the triggered run was taken');
      await new Promise((res) => setTimeout(res, 250));
    }

    r = await panel(`/records/${id}/edit`, {
      method: 'POST',
      body: new URLSearchParams({ cron: '11 */2 * * *', args: '{"graceSeconds": 900}' }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = await handle.describe();
    assert.deepEqual(d.spec.calendars?.[0]?.minute, [{ start: 11, end: 11, step: 1 }]);
    assert.deepEqual((d.action as { args?: unknown[] }).args?.[0], { graceSeconds: 900 });

    const bad = await panel(`/records/${id}/edit`, {
      method: 'POST',
      body: new URLSearchParams({ args: '{"graceSeconds": "soon"}' }),
    });
    assert.ok(bad.body.record?.errors?.args, `invalid arguments refused: ${JSON.stringify(bad.body)}`);

    const audit = await ScheduleAudit.findAll({ where: { scheduleId: id, actor: ADMIN_EMAIL } });
    for (const action of ['pause', 'unpause', 'trigger', 'update']) {
      assert.ok(
        audit.some((a) => a.action === action),
        `${action} audited for ${ADMIN_EMAIL}`,
      );
    }
  });

  it('refuses a forged delete and keeps the schedule', async () => {
    const r = await panel(`/records/${ScheduleIds.cleanupExpiredJobs}/delete`, { method: 'POST' });
    assert.ok(r.status === 403 || r.status >= 400 || r.body.notice?.type === 'error', JSON.stringify(r));
    assert.ok(await client.schedule.getHandle(ScheduleIds.cleanupExpiredJobs).describe());
  });

  it('shows the schedules in the panel in a real browser', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${api.url}/admin/login`);
      await page.fill('input[name="email"]', ADMIN_EMAIL);
      await page.fill('input[name="password"]', ADMIN_PASSWORD);
      await Promise.all([page.waitForURL(/\/admin\/?$/), page.press('input[name="password"]', 'Enter')]);
      await page.goto(`${api.url}/admin/resources/Schedules`);
      await page.getByText(ScheduleIds.reconcileJobs).first().waitFor({ timeout: 60_000 });
      await page.getByText(ScheduleIds.cleanupExpiredJobs).first().waitFor();
      assert.equal(await page.locator('[data-testid="action-delete"], button:has-text("Delete")').count(), 0);
      const dir = path.join(repoRoot, 'test-results', 'screenshots');
      fs.mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, 'schedules-list.png'), fullPage: true });
    } catch (err) {
      const pages = browser.contexts().flatMap((c) => c.pages());
      if (pages[0]) await pages[0].screenshot({ path: path.join(repoRoot, 'test-results', 'schedules-failure.png') });
      throw err;
    } finally {
      await browser.close();
    }
  });
});
