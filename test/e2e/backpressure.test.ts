/**
 * Backpressure: 1,000 small documents submitted at once are all accepted (202) and all processed; the work
 * waits in Temporal's task queue rather than in the API, which keeps answering status requests meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { authHeaders, startStack, submit, type ApiProcess, type JobStatusBody, type Stack } from '../support/stack.js';

const DOCUMENTS = 1000;

/** A one-page born-digital PDF of its own (distinct content, so no submission joins another's job). */
async function smallPdf(n: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([300, 200]).drawText(`Backpressure document ${n}`, { x: 20, y: 100, size: 12, font });
  return doc.save();
}

async function countByStatus(apiUrl: string, status: string): Promise<number> {
  const res = await fetch(`${apiUrl}/v1/jobs?status=${status}&filename=backpressure-&limit=1`, {
    headers: authHeaders(apiUrl),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { total: number }).total;
}

describe('backpressure', () => {
  let stack: Stack;
  let api: ApiProcess;

  before(async () => {
    // Bookkeeping and text-layer pages are short: let the one worker run more of them at once.
    stack = await startStack({ name: 'backpressure', worker: { WORKER_MAX_ACTIVITIES: '20' } });
    api = stack.api;
  });
  after(async () => {
    await stack?.stop();
  });

  it(`accepts ${DOCUMENTS} documents submitted at once and processes them all`, async (t) => {
    const started = Date.now();
    const files = await Promise.all(Array.from({ length: DOCUMENTS }, (_, i) => smallPdf(i + 1)));
    // As a client should: each POST carries an Idempotency-Key, so a connection lost mid-request (not an
    // HTTP answer) is sent once more and cannot create a second job.
    const send = (bytes: Uint8Array, i: number) =>
      submit(api.url, { name: `backpressure-${i + 1}.pdf`, bytes }, {}, undefined, {
        'idempotency-key': `backpressure-${stack.taskQueue}-${i + 1}`,
      });
    const outcomes = await Promise.all(
      files.map((bytes, i) =>
        send(bytes, i)
          .catch(() => send(bytes, i))
          .then(
            async (res) => ({ res, reason: res.status === 202 ? '' : `${res.status} ${await res.text()}` }),
            (err: unknown) => ({ res: undefined, reason: `${String(err)} (${String((err as Error).cause)})` }),
          ),
      ),
    );
    const refused = outcomes.filter((o) => o.reason !== '');
    assert.equal(
      refused.length,
      0,
      `${refused.length} refused, e.g. ${refused
        .slice(0, 3)
        .map((o) => o.reason)
        .join('; ')}\n${api.output
        .filter((l) => l.includes('ERROR'))
        .slice(0, 3)
        .join('\n')}`,
    );
    const responses = outcomes.map((o) => o.res!);
    const jobIds = await Promise.all(responses.map(async (r) => ((await r.json()) as { jobId: string }).jobId));
    assert.equal(new Set(jobIds).size, DOCUMENTS);
    t.diagnostic(`${DOCUMENTS} accepted in ${Date.now() - started} ms`);

    // While the queue drains, a status request is answered with the job's current state.
    const probe = await fetch(`${api.url}/v1/jobs/${jobIds.at(-1)}`, { headers: authHeaders(api.url) });
    assert.equal(probe.status, 200);
    const probed = (await probe.json()) as JobStatusBody;
    assert.equal(probed.jobId, jobIds.at(-1));
    assert.ok(['queued', 'processing', 'completed'].includes(probed.status), probed.status);

    let completed = 0;
    // Generous: a bound on a stuck queue, not a speed requirement (speed belongs in bench/).
    const deadline = Date.now() + 15 * 60_000;
    while ((completed = await countByStatus(api.url, 'completed')) < DOCUMENTS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(completed, DOCUMENTS);
    t.diagnostic(`${DOCUMENTS} completed in ${Date.now() - started} ms`);
    for (const status of ['failed', 'partial', 'cancelled']) assert.equal(await countByStatus(api.url, status), 0);
  });
});
