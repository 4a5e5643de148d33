/**
 * The panel's CRUD without delete over jobs, in Debian's Chromium on a real stack (API process, a worker in
 * this process whose PDF engine fails one page once so Temporal retries it, PostgreSQL, Temporal): upload
 * from the panel → the job appears and completes; tags and note edited → the list filter by tag and
 * GET /v1/jobs?tag= find it, the audit row has before and after; the timeline shows each page's attempts
 * (the retried page: 2, with the failure that caused the retry); the audit list, read-only and append-only.
 * Also: PATCH /v1/jobs/{id}, and a cancel, operator and key actions in the audit. Screenshots in
 * test-results/screenshots/panel-crud-*.png.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { Op } from 'sequelize';
import type { Browser, Page } from 'playwright-core';
import { PdfjsEngine } from '../../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../../activities/adapters/tesseract.js';
import type { OpenOptions, PageText } from '../../../activities/adapters/types.js';
import { createSequelize } from '../../../core/db/connections.js';
import { initAppModels } from '../../../core/db/models.js';
import { DelegatingPdf } from '../../support/engines.js';
import { launchChromium, signIn } from '../../support/panel.js';
import { syntheticTextPdf } from '../../support/synthetic.js';
import { createApiKey, harnessEnv, repoRoot, startStack, waitForJob, type Stack } from '../../support/stack.js';

const screenshots = path.join(repoRoot, 'test-results', 'screenshots');

/** Fails a chosen page's text extraction once with a transient error: Temporal retries the page. */
class OnceFailingPdf extends DelegatingPdf {
  readonly failOnce = new Set<string>();
  override extractText(p: string, n: number, o?: OpenOptions): Promise<PageText> {
    const key = `${path.basename(p)}#${n}`;
    if (n === 2 && !this.failOnce.has(key)) {
      this.failOnce.add(key);
      return Promise.reject(new Error(`simulated storage hiccup on page ${n}`));
    }
    return this.inner.extractText(p, n, o);
  }
}

describe('admin panel: create, edit, timeline and audit of jobs', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const { Job, Operator, AuditEvent, ApiKey } = initAppModels(db);
  const run = randomUUID().slice(0, 8);
  const email = `crud-${run}@folio.test`;
  const password = `crud panel password ${run}`;
  const tag = `batch-${run}`;
  const filename = `panel-upload-${run}.pdf`;
  const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 60_000 });
  const ocr = new TesseractEngine({ workers: 1 });
  const createdOperators: string[] = [];
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let operatorId: string;
  let jobId: string;

  const shot = (name: string) =>
    page.screenshot({ path: path.join(screenshots, `panel-crud-${name}.png`), fullPage: true });
  const api = (route: string, init: RequestInit = {}) =>
    fetch(`${stack.url}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', ...init.headers },
    });

  before(async () => {
    fs.mkdirSync(screenshots, { recursive: true });
    // Its own operator: the operators table is shared with the other panel tests of the run.
    const op = await Operator.create({ email, name: 'CRUD test', passwordHash: await bcrypt.hash(password, 4) });
    operatorId = op.id;
    createdOperators.push(op.id);
    stack = await startStack({
      name: 'panel-crud',
      api: { SESSION_SECRET: `panel-crud-secret-${run}-0123456789abcdef` },
      inProcessWorker: { pdf: new OnceFailingPdf(pdf), ocr, plan: { window: 2 } },
    });
    // AdminJS bundles the panel's components in the background after start.
    for (const started = Date.now(); ;) {
      const body = await (await fetch(`${stack.url}/admin/frontend/assets/components.bundle.js`)).text();
      if (body.includes('FolioJobTimeline')) break;
      if (Date.now() - started > 90_000) throw new Error('component bundle not ready');
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await page.goto(`${stack.url}/admin/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await page.press('input[name="password"]', 'Enter');
    await page.getByTestId('folio-dashboard').waitFor();
  });
  after(async () => {
    // Raw SQL on this file's own connection: the in-process worker rebinds the (global) models to its own.
    if (createdOperators.length > 0) {
      await db.query('DELETE FROM operators WHERE id IN (:ids)', { replacements: { ids: createdOperators } });
    }
    await browser?.close();
    await stack?.stop();
    await pdf.close();
    await ocr.close();
    await db.close();
  });

  it("carries Folio's name, not AdminJS's logo or credit", async () => {
    const html = await page.content();
    assert.match(html, /Folio/);
    assert.doesNotMatch(html, /adminjs-logo|softwarebrothers|made with love/i);
  });

  it('uploads a PDF from the panel: the job appears, completes, and names its operator', async () => {
    const bytes = await syntheticTextPdf(2, { title: `panel upload ${run}` });
    await page.goto(`${stack.url}/admin/resources/jobs`);
    await page
      .getByRole('link', { name: /upload a document/i })
      .first()
      .click();
    await page.getByTestId('job-upload').waitFor();
    await page
      .getByTestId('upload-file')
      .setInputFiles({ name: filename, mimeType: 'application/pdf', buffer: Buffer.from(bytes) });
    await page.locator('input[name="languages"]').fill('eng');
    await shot('1-upload-form');
    await page.getByTestId('upload-submit').click();
    const link = page.getByTestId('upload-job-link');
    await link.waitFor({ timeout: 30_000 });
    const href = (await link.getAttribute('href')) ?? '';
    jobId = /records\/([0-9a-f-]{36})\/show/.exec(href)?.[1] ?? '';
    assert.ok(jobId, `a link to the new job: ${href}`);

    const finished = await waitForJob(stack.url, jobId, 90_000);
    assert.equal(finished.status, 'completed');
    const job = await Job.findByPk(jobId);
    assert.ok(job);
    assert.equal(job.filename, filename);
    assert.equal(job.createdBy, email, 'the uploading operator is recorded');
    assert.equal(job.apiKeyId, null, 'a panel upload without a chosen key belongs to no key');
    assert.deepEqual(job.options.languages, ['eng']);
    const created = await AuditEvent.findOne({ where: { action: 'job.create', targetId: jobId } });
    assert.equal(created?.actor, email);
    assert.equal(created?.actorId, operatorId);

    // The list shows it at a glance: coloured status, pages done/total with %, duration.
    await page.goto(`${stack.url}/admin/resources/jobs?filters.filename=${run}`);
    const row = page.locator('tr', { hasText: filename });
    await row.getByTestId('status-completed').waitFor();
    assert.match((await row.getByTestId('job-progress').textContent()) ?? '', /2\/2 \(100%\)/);
    await shot('2-jobs-list');

    // The job page: options, per-page table, result links.
    await page.goto(`${stack.url}/admin/resources/jobs/records/${jobId}/show`);
    await page.getByTestId('job-pages').waitFor();
    assert.match((await page.getByTestId('job-options').textContent()) ?? '', /"languages"/);
    assert.match((await page.getByTestId('page-row-2').textContent()) ?? '', /done/);
    await page.getByTestId('result-txt').waitFor();
    await shot('3-job-page');
  });

  it('edits tags and note: the audit row has before and after; the panel filter and GET /v1/jobs?tag= find it', async () => {
    await page.goto(`${stack.url}/admin/resources/jobs/records/${jobId}/edit`);
    await page.locator('#tagList').fill(`${tag}, Urgent`);
    await page.locator('#note').fill('Checked by ops');
    await shot('4-edit-form');
    await page.getByRole('button', { name: /save/i }).click();
    await page.getByText('Saved; the change is in the audit log.').first().waitFor();
    const job = await Job.findByPk(jobId);
    assert.deepEqual(job?.tags, [tag, 'urgent']);
    assert.equal(job?.note, 'Checked by ops');
    const edit = await AuditEvent.findOne({ where: { action: 'job.edit', targetId: jobId, actor: email } });
    assert.ok(edit, 'the edit is audited');
    assert.deepEqual(edit.before, { tags: [], note: null });
    assert.deepEqual(edit.after, { tags: [tag, 'urgent'], note: 'Checked by ops' });

    // The panel's list filter, through the filter drawer: every tag given must match.
    await page.goto(`${stack.url}/admin/resources/jobs`);
    await page.getByText('Filter', { exact: true }).click();
    await page.locator('input[name="filter-tags"]').fill(`${tag}, urgent`);
    await page.getByRole('button', { name: /apply changes/i }).click();
    await page.waitForURL(/filters\.tags=/);
    await page.getByText(filename).first().waitFor();
    assert.equal(await page.getByTestId('job-tags').first().textContent(), `${tag}urgent`, 'tags shown as chips');
    await shot('5-list-filtered-by-tag');
    await page.goto(`${stack.url}/admin/resources/jobs?filters.tags=${tag},not-there`);
    await page.waitForLoadState('networkidle');
    assert.equal(await page.getByText(filename).count(), 0, 'a tag the job lacks hides it');

    // The same filter in the API, and the tags in its views.
    const ids = async (query: string) =>
      ((await (await api(`/v1/jobs?${query}`)).json()) as { jobs: { jobId: string; tags: string[] }[] }).jobs;
    const both = await ids(`tag=${tag}&tag=urgent`);
    assert.deepEqual(
      both.map((j) => j.jobId),
      [jobId],
    );
    assert.deepEqual(both[0]?.tags, [tag, 'urgent']);
    assert.deepEqual(await ids(`tag=${tag}&tag=not-there`), []);
    const bad = await api(`/v1/jobs?tag=${encodeURIComponent('no spaces')}`);
    assert.equal(bad.status, 400, 'a tag with a space is refused, not split');
    await bad.arrayBuffer();
  });

  it('PATCH /v1/jobs/{id} edits tags, note and retention date for an admin key, audited with the key', async () => {
    const retainUntil = '2099-01-01T00:00:00.000Z';
    const res = await api(`/v1/jobs/${jobId}`, {
      method: 'PATCH',
      body: JSON.stringify({ tags: [tag, 'reviewed'], retainUntil }),
    });
    assert.equal(res.status, 200);
    const view = (await res.json()) as { tags: string[]; note: string | null; retainUntil: string | null };
    assert.deepEqual(view.tags, [tag, 'reviewed']);
    assert.equal(view.note, 'Checked by ops', 'fields not sent are kept');
    assert.equal(view.retainUntil, retainUntil);
    const audit = await AuditEvent.findOne({ where: { action: 'job.edit', targetId: jobId, actorType: 'api_key' } });
    assert.deepEqual(audit?.after, { tags: [tag, 'reviewed'], retainUntil });

    const invalid = await api(`/v1/jobs/${jobId}`, { method: 'PATCH', body: JSON.stringify({ tags: ['a b'] }) });
    assert.equal(invalid.status, 400);
    assert.equal(((await invalid.json()) as { error: { code: string } }).error.code, 'TAGS_INVALID');
    const client = await createApiKey(`crud client ${run}`, 'client');
    const refused = await fetch(`${stack.url}/v1/jobs/${jobId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${client.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'x' }),
    });
    assert.ok([403, 404].includes(refused.status), `a client key may not edit: ${refused.status}`);
    await refused.arrayBuffer();
  });

  it("shows the timeline from the workflow histories: each page's attempts, the retried page's failure", async () => {
    await page.goto(`${stack.url}/admin/resources/jobs/records/${jobId}/timeline`);
    await page.getByTestId('job-timeline').waitFor();
    const first = page.getByTestId('timeline-page-1').first();
    const second = page.getByTestId('timeline-page-2').first();
    await second.waitFor();
    assert.equal((await first.getByTestId('attempts').textContent())?.trim(), '1');
    assert.equal((await second.getByTestId('attempts').textContent())?.trim(), '2', 'page 2 was retried once');
    const secondText = (await second.textContent()) ?? '';
    assert.match(secondText, /completed/);
    assert.match(secondText, /retried after: simulated storage hiccup on page 2/);
    assert.match((await page.getByTestId('timeline-workflows').textContent()) ?? '', new RegExp(`document-${jobId}`));
    await shot('6-timeline');
  });

  it('audits operator and key actions, lists the audit read-only, and the table refuses changes', async () => {
    const { headers } = await signIn(stack.url, email, password);
    assert.ok(headers);
    // An operator created in the panel: audited without the password or its hash.
    const newEmail = `crud-new-${run}@folio.test`;
    const form = new FormData();
    form.append('email', newEmail);
    form.append('name', 'New operator');
    form.append('password', `a long enough password ${run}`);
    const created = await fetch(`${stack.url}/admin/api/resources/operators/actions/new`, {
      method: 'POST',
      headers,
      body: form,
    });
    assert.equal(created.status, 200);
    await created.arrayBuffer();
    const newOp = await Operator.findOne({ where: { email: newEmail } });
    assert.ok(newOp);
    createdOperators.push(newOp.id);
    const opAudit = await AuditEvent.findOne({ where: { action: 'operator.create', targetId: newOp.id } });
    assert.equal(opAudit?.actor, email);
    assert.equal((opAudit?.after as { email?: string }).email, newEmail);
    assert.equal((opAudit?.after as { passwordChanged?: boolean }).passwordChanged, true);
    assert.doesNotMatch(JSON.stringify(opAudit?.after), /\$2[aby]\$|password ${run}/);

    // A key revoked in the panel.
    const key = await createApiKey(`crud revoke ${run}`, 'client');
    const revoked = await fetch(`${stack.url}/admin/api/resources/api_keys/records/${key.id}/revoke`, { headers });
    assert.equal(revoked.status, 200);
    await revoked.arrayBuffer();
    assert.ok((await ApiKey.findByPk(key.id))?.revokedAt);
    const keyAudit = await AuditEvent.findOne({ where: { action: 'api_key.revoke', targetId: key.id } });
    assert.equal(keyAudit?.actor, email);
    assert.equal((keyAudit?.before as { revokedAt: unknown }).revokedAt, null);
    assert.ok((keyAudit?.after as { revokedAt: unknown }).revokedAt);

    // A job cancelled from the panel (page 2's first attempt fails, so the job runs for 2 s at least).
    const submitted = await stack.submit({
      name: `cancel-${run}.pdf`,
      bytes: await syntheticTextPdf(3, { title: `panel cancel ${run}` }),
    });
    assert.equal(submitted.status, 202);
    const { jobId: cancelId } = (await submitted.json()) as { jobId: string };
    const cancel = await fetch(`${stack.url}/admin/api/resources/jobs/records/${cancelId}/cancel`, { headers });
    const { notice } = (await cancel.json()) as { notice: { message: string } };
    assert.equal(notice.message, 'Cancellation requested.');
    assert.equal((await waitForJob(stack.url, cancelId, 30_000)).status, 'cancelled');
    const cancelAudit = await AuditEvent.findOne({ where: { action: 'job.cancel', targetId: cancelId } });
    assert.equal(cancelAudit?.actor, email);
    assert.equal(cancelAudit?.actorType, 'operator');

    // The list in the panel: this run's rows, no delete or edit anywhere.
    await page.goto(`${stack.url}/admin/resources/audit_events?filters.actor=${email}`);
    await page.getByText('job.edit').first().waitFor();
    for (const action of ['job.create', 'job.cancel', 'operator.create', 'api_key.revoke']) {
      await page.getByText(action).first().waitFor();
    }
    assert.equal(await page.getByText(/delete/i).count(), 0, 'no delete on the audit list');
    await shot('7-audit-list');
    const edit = await AuditEvent.findOne({ where: { action: 'job.edit', targetId: jobId, actor: email } });
    assert.ok(edit);
    await page.goto(`${stack.url}/admin/resources/audit_events/records/${edit.id}/show`);
    await page.getByTestId('audit-change').waitFor();
    assert.match((await page.getByTestId('audit-change').textContent()) ?? '', /Checked by ops/);
    assert.equal(await page.getByRole('link', { name: /edit/i }).count(), 0, 'no edit on an audit row');
    await shot('8-audit-row');

    // Forged delete and edit through the panel's API are refused; the database refuses them too.
    for (const action of ['delete', 'edit']) {
      const res = await fetch(`${stack.url}/admin/api/resources/audit_events/records/${edit.id}/${action}`, {
        method: 'POST',
        headers,
      });
      const body = await res.text();
      assert.match(body, /ForbiddenError/, `${action}: ${body.slice(0, 200)}`);
    }
    await assert.rejects(AuditEvent.destroy({ where: { id: edit.id } }), /append-only/);
    await assert.rejects(
      db.query(`UPDATE audit_events SET actor = 'someone else' WHERE id = ${edit.id}`),
      /append-only/,
    );
    await assert.rejects(db.query('TRUNCATE audit_events'), /append-only/);
    assert.equal(await AuditEvent.count({ where: { id: { [Op.eq]: edit.id } } }), 1);
  });
});
