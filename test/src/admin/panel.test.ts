/**
 * The admin panel with a real API, worker, PostgreSQL, Temporal and a real headless Chromium (Debian's):
 * sign-in, lists, a status filter, a job's page with its Temporal link, the cancel action on a running
 * job, no delete button anywhere and forged deletes refused; plus the panel's own CSP against the API's
 * strict one, and the login rate limit.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clearSignInLimits, launchChromium, signIn } from '../../support/panel.js';
import { createSequelize } from '../../../core/db/connections.js';
import { initAppModels } from '../../../core/db/models.js';
import { createLegacyFixture } from '../../../scripts/legacy-fixture.js';
import { corpusPath } from '../../support/corpus.js';
import { repeatFirstPage } from '../../support/synthetic.js';
import {
  createApiKey,
  harnessEnv,
  repoRoot,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type Stack,
} from '../../support/stack.js';

const ADMIN_EMAIL = 'ops@folio.test';
const ADMIN_PASSWORD = 'correct horse battery staple';
const screenshots = path.join(repoRoot, 'test-results', 'screenshots');

/** Waits until AdminJS has bundled the panel's own components (done at start, in the background). */
async function waitForBundle(url: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await fetch(`${url}/admin/frontend/assets/components.bundle.js`);
    const body = await res.text();
    if (res.ok && body.includes('FolioDashboard')) return Date.now() - started;
    if (Date.now() - started > 90_000) throw new Error(`component bundle not ready: ${res.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('admin panel', () => {
  const env = harnessEnv();
  const db = createSequelize(env.APP_DATABASE_URL!, 2, 'app');
  const { Job, Operator, ApiKey, AuditEvent } = initAppModels(db);
  const panelEnv = { ADMIN_EMAIL, ADMIN_PASSWORD, SESSION_SECRET: 'x'.repeat(8) + 'panel-test-secret-0123456789' };
  let stack: Stack;
  let api: ApiProcess;
  let browser: Browser;
  let page: Page;
  let panelStartMs = 0;

  before(async () => {
    fs.mkdirSync(screenshots, { recursive: true });
    await createLegacyFixture(env.LEGACY_DATABASE_URL!);
    const started = Date.now();
    stack = await startStack({ name: 'panel', api: panelEnv, worker: { OCR_WORKERS: '1', PAGE_WINDOW: '1' } });
    api = stack.api;
    await waitForBundle(api.url);
    panelStartMs = Date.now() - started;
    console.log(`panel ready (API up, components bundled) in ${panelStartMs} ms`);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    await db.close();
  });

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  }

  /** Every request the page makes must stay on the panel's own origin. */
  function offSiteRequests(): string[] {
    const seen: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(api.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
        seen.push(r.url());
    });
    return seen;
  }

  it('created the first operator from ADMIN_EMAIL and ADMIN_PASSWORD, stored only as a hash', async () => {
    const op = await Operator.findOne({ where: { email: ADMIN_EMAIL } });
    assert.ok(op);
    assert.match(op.passwordHash, /^\$2[aby]\$12\$/);
    assert.ok(!op.passwordHash.includes(ADMIN_PASSWORD));
    // In the audit log, made by the system at start; never the password or its hash.
    const audit = await AuditEvent.findOne({ where: { action: 'operator.create', targetId: op.id } });
    assert.equal(audit?.actorType, 'system');
    assert.equal((audit?.after as { email?: string }).email, ADMIN_EMAIL);
    assert.doesNotMatch(JSON.stringify(audit?.after), /\$2[aby]\$|correct horse/);
  });

  it('gives the panel its own CSP and keeps the API on the strict default', async () => {
    const panel = await fetch(`${api.url}/admin/login`);
    const apiRes = await fetch(`${api.url}/health/live`);
    const panelCsp = panel.headers.get('content-security-policy') ?? '';
    const apiCsp = apiRes.headers.get('content-security-policy') ?? '';
    assert.match(panelCsp, /script-src 'self' 'unsafe-inline'/);
    assert.match(panelCsp, /connect-src 'self'/);
    assert.match(panelCsp, /font-src 'self' data:/);
    assert.doesNotMatch(panelCsp, /googleapis|https:/, 'nothing off-site is allowed');
    assert.match(apiCsp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(apiCsp, /script-src[^;]*unsafe-inline/);
    for (const res of [panel, apiRes]) {
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    }
    await Promise.all([panel.arrayBuffer(), apiRes.arrayBuffer()]);
  });

  it('sets the session cookie HttpOnly and SameSite=Lax and keeps the session in the app DB', async () => {
    const res = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      body: new URLSearchParams({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
      redirect: 'manual',
    });
    assert.equal(res.status, 302);
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^folio_admin=/);
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);
    const [rows] = await db.query(`SELECT count(*)::int AS n FROM admin_sessions WHERE data LIKE '%${ADMIN_EMAIL}%'`);
    assert.ok((rows[0] as { n: number }).n >= 1);
  });

  it('in a real Chromium: signs in, shows the dashboard, lists and filters jobs, cancels a running job, shows no delete', async (t) => {
    t.after(async () => {
      if (!page.isClosed()) await shot('last-state');
    });
    const offSite = offSiteRequests();
    // A long scanned document keeps the job processing while the operator cancels it.
    const bytes = await repeatFirstPage(corpusPath('scanned/tess-phototest.pdf'), 30);
    const submitted = await submit(api.url, { name: 'long-scan.pdf', bytes });
    assert.equal(submitted.status, 202);
    const { jobId } = (await submitted.json()) as { jobId: string };

    await page.goto(`${api.url}/admin/login`);
    await page.fill('input[name="email"]', ADMIN_EMAIL);
    await page.fill('input[name="password"]', ADMIN_PASSWORD);
    await page.press('input[name="password"]', 'Enter');
    await page.getByTestId('folio-dashboard').waitFor();
    await page.getByTestId('queue-depth').waitFor();
    await shot('1-dashboard');

    await page.goto(`${api.url}/admin/resources/jobs`);
    await page.getByText('long-scan.pdf').first().waitFor();
    await shot('2-jobs-list');
    assert.equal(await page.getByText(/delete/i).count(), 0, 'no delete on the jobs list');

    // The status filter through the filter drawer, as an operator uses it.
    const job = await Job.findByPk(jobId);
    assert.ok(job);
    await page.getByText('Filter', { exact: true }).click();
    const statusSelect = page.getByRole('combobox').first();
    await statusSelect.fill('cancelled');
    await statusSelect.press('Enter');
    await page.getByRole('button', { name: /apply changes/i }).click();
    await page.waitForURL(/filters\.status=cancelled/);
    await page.waitForLoadState('networkidle');
    assert.equal(await page.getByText('long-scan.pdf').count(), 0, 'the filter hides other statuses');
    // The same filter for the job's own status lists it.
    await page.goto(`${api.url}/admin/resources/jobs?filters.status=${job.status}`);
    await page.getByText('long-scan.pdf').first().waitFor();
    await page.goto(`${api.url}/admin/resources/jobs?filters.status=cancelled`);
    await shot('3-jobs-filtered-cancelled');

    await page.goto(`${api.url}/admin/resources/jobs/records/${jobId}/show`);
    const link = page.getByTestId('workflow-link');
    await link.waitFor();
    assert.match((await link.getAttribute('href')) ?? '', new RegExp(`/workflows/document-${jobId}$`));
    assert.equal(await page.getByText(/delete/i).count(), 0, 'no delete on the job page');
    // The job's results in every format, for the signed-in operator (no API key).
    await page.getByTestId('result-links').waitFor();
    for (const format of ['json', 'txt', 'hocr', 'alto', 'tsv', 'pdf']) {
      const href = await page.getByTestId(`result-${format}`).getAttribute('href');
      assert.equal(href, `/admin/jobs/${jobId}/result?format=${format}`);
    }
    const hocr = await page.request.get(`${api.url}/admin/jobs/${jobId}/result?format=hocr`);
    assert.equal(hocr.status(), 200);
    assert.match(hocr.headers()['content-type'] ?? '', /hocr/);
    assert.match(await hocr.text(), /class="ocr_page"/);
    const pdf = await page.request.get(`${api.url}/admin/jobs/${jobId}/result?format=pdf`);
    assert.equal(pdf.status(), 409, 'no searchable PDF while the job runs');
    // Without the panel's session the same link leads to the sign-in page, never to the result.
    const anonymous = await fetch(`${api.url}/admin/jobs/${jobId}/result?format=txt`, { redirect: 'manual' });
    assert.equal(anonymous.status, 302);
    assert.match(anonymous.headers.get('location') ?? '', /\/admin\/login$/);
    await shot('4-job-show');

    await page.getByText('Cancel job', { exact: true }).click();
    // The action's guard asks for confirmation first.
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Cancellation requested.').waitFor();
    await shot('5-job-cancel-requested');
    const finished = await waitForJob(api.url, jobId, 120_000);
    assert.equal(finished.status, 'cancelled');

    // Retry of a failed job: whatever JobControlService answers is shown to the operator as a notice.
    const failed = await Job.create({
      id: randomUUID(),
      status: 'failed',
      step: 'done',
      filename: 'failed-scan.pdf',
      contentType: 'application/pdf',
      sizeBytes: 1,
      sha256: '0'.repeat(64),
      storageKey: 'missing',
      options: { ocrMode: 'auto', languages: ['eng'] },
      workflowId: 'document-panel-test',
      errorCode: 'PDF_CORRUPT',
    });
    await page.goto(`${api.url}/admin/resources/jobs/records/${failed.id}/show`);
    await page.getByText('Retry failed pages', { exact: true }).click();
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/retryFailedPages')),
      page.getByRole('button', { name: 'Confirm' }).click(),
    ]);
    const { notice } = (await response.json()) as { notice?: { message: string; type: string } };
    assert.ok(notice, 'the action answers with a notice');
    // Retry belongs to JobControlService; whatever it answers (here possibly NOT_IMPLEMENTED) reaches the operator.
    assert.match(notice.message, /^(Retry of the failed pages started\.|[A-Z_]+: .+)$/);
    await page.getByText(notice.message).first().waitFor();
    await shot('5b-job-retry-notice');

    for (const resource of ['job_pages', 'operators', 'legacy_jobs']) {
      await page.goto(`${api.url}/admin/resources/${resource}`);
      await page.waitForLoadState('networkidle');
      assert.equal(await page.getByText(/delete/i).count(), 0, `no delete on ${resource}`);
      await shot(`6-${resource}`);
    }
    await page.getByText('annual-report.pdf').first().waitFor();
    assert.deepEqual(offSite, [], 'the panel made no off-site request');
  });

  it('refuses cross-site calls to its actions: a top-level navigation in Chromium and forged raw requests', async () => {
    // A state-changing record action that AdminJS sends as GET: revoking an API key.
    const { id } = await createApiKey('csrf target', 'client');
    const revokeUrl = `${api.url}/admin/api/resources/api_keys/records/${id}/revoke`;
    const revoked = async () => (await ApiKey.findByPk(id))?.revokedAt ?? null;

    // Chromium is signed in (earlier tests). A page on another site (localhost is not 127.0.0.1's site)
    // navigates the top-level window to the action: SameSite=Lax sends the session cookie along.
    const attacker = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><script>location.href = ${JSON.stringify(revokeUrl)};</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      const attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;
      const [landed] = await Promise.all([page.waitForResponse((r) => r.url() === revokeUrl), page.goto(attackerUrl)]);
      assert.equal(landed.status(), 403, 'the forged navigation is refused');
      assert.equal(((await landed.json()) as { error: { code: string } }).error.code, 'CSRF_REFUSED');
    } finally {
      await new Promise((resolve) => attacker.close(resolve));
    }
    assert.equal(await revoked(), null, 'the key is not revoked by the cross-site page');

    // Raw requests with the session cookie but no (or a wrong) token, and a cross-site form post.
    const { cookie, headers } = await signIn(api.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    assert.ok(cookie && headers);
    const forged: [string, RequestInit][] = [
      ['GET, cookie only', { headers: { cookie } }],
      ['POST, cookie only', { method: 'POST', headers: { cookie } }],
      ['GET, wrong token', { headers: { ...headers, 'x-xsrf-token': 'f'.repeat(64) + '.' + 'a'.repeat(64) } }],
      ['GET, token without its cookie', { headers: { cookie, 'x-xsrf-token': headers['x-xsrf-token']! } }],
      ['POST, cross-site', { method: 'POST', headers: { ...headers, 'sec-fetch-site': 'cross-site' } }],
    ];
    for (const [name, init] of forged) {
      const res = await fetch(revokeUrl, { ...init, redirect: 'manual' });
      assert.equal(res.status, 403, name);
      await res.arrayBuffer();
    }
    // The token of one session is worth nothing with another session.
    const other = await signIn(api.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const swapped = await fetch(revokeUrl, {
      headers: { ...other.headers!, 'x-xsrf-token': headers['x-xsrf-token']! },
    });
    assert.equal(swapped.status, 403, "another session's token");
    await swapped.arrayBuffer();
    assert.equal(await revoked(), null, 'no forged request revoked the key');

    // The panel's own requests (cookie + the header its frontend copies from it) still work.
    const own = await fetch(revokeUrl, { headers });
    assert.equal(own.status, 200);
    await own.arrayBuffer();
    assert.ok(await revoked(), 'the panel itself can revoke');

    // A cross-site sign-in form is refused before the credentials are even checked.
    const crossLogin = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
      redirect: 'manual',
    });
    assert.equal(crossLogin.status, 403);
    await crossLogin.arrayBuffer();
  });

  it('refuses forged delete and bulk delete requests on every resource; never returns password hashes', async () => {
    const { headers } = await signIn(api.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    assert.ok(headers);
    const job = await Job.findOne();
    const operator = await Operator.findOne();
    assert.ok(job && operator);
    const targets: [string, string][] = [
      ['jobs', job.id],
      ['operators', operator.id],
      ['legacy_jobs', 'legacy-0001'],
    ];
    for (const [resource, id] of targets) {
      for (const url of [
        `/admin/api/resources/${resource}/records/${id}/delete`,
        `/admin/api/resources/${resource}/bulk/delete?recordIds=${id}`,
      ]) {
        const res = await fetch(`${api.url}${url}`, { method: 'POST', headers });
        const body = await res.text();
        // AdminJS answers refused actions with a JSON error notice rather than an HTTP status.
        const refused = (JSON.parse(body) as { record?: { baseError?: { type?: string } }; notice?: unknown }).record
          ?.baseError?.type;
        assert.equal(refused, 'ForbiddenError', `${url}: ${body.slice(0, 300)}`);
      }
    }
    assert.ok(await Job.findByPk(job.id), 'the job is still there');
    for (const url of [
      `/admin/api/resources/operators/actions/list`,
      `/admin/api/resources/operators/records/${operator.id}/show`,
    ]) {
      const body = await (await fetch(`${api.url}${url}`, { headers })).text();
      assert.ok(body.includes(operator.email), `${url} answered: ${body.slice(0, 200)}`);
      assert.doesNotMatch(body, /passwordHash|\$2[aby]\$/, `${url} must not carry the password hash`);
    }
    assert.ok(await Operator.findByPk(operator.id), 'the operator is still there');
  });
});

describe('admin panel login rate limit', () => {
  let stack: Stack;
  let api: ApiProcess;

  before(async () => {
    // The count lives in the shared app DB: start from none, and leave none for the next panel tests.
    await clearSignInLimits();
    stack = await startStack({
      name: 'panel-limit',
      api: { ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_LOGIN_MAX_ATTEMPTS: '3' },
    });
    api = stack.api;
  });
  after(async () => {
    await stack?.stop();
    await clearSignInLimits();
  });

  it('answers 429 after too many failed sign-ins, even with the right password', async () => {
    for (let i = 0; i < 3; i++) {
      const { status } = await signIn(api.url, ADMIN_EMAIL, `wrong password ${i}`);
      assert.notEqual(status, 302);
      assert.notEqual(status, 429);
    }
    const limited = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      body: new URLSearchParams({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
      redirect: 'manual',
    });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After says how long to wait');
    await limited.arrayBuffer();
  });
});
