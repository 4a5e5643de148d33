import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { corpusPath } from '../support/corpus.js';
import { authHeaders, startStack, type Stack } from '../support/stack.js';

/** One raw answer: status, headers and the bytes as they came over the wire (never decoded). */
interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request (GET by default) with this Accept-Encoding, read raw (fetch would decode it); an event stream is read until it ends. */
function get(url: string, acceptEncoding: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end();
  });
}

function decode(raw: Raw): string {
  const encoding = raw.headers['content-encoding'];
  if (encoding === 'br') return zlib.brotliDecompressSync(raw.body).toString('utf8');
  if (encoding === 'gzip') return zlib.gunzipSync(raw.body).toString('utf8');
  assert.equal(encoding, undefined, `unexpected encoding ${encoding}`);
  return raw.body.toString('utf8');
}

describe('response compression', () => {
  let stack: Stack;
  let api: string;
  let auth: Record<string, string>;
  let jobId: string;
  const file = corpusPath('born-digital/pdfjs-tracemonkey.pdf');

  before(async () => {
    stack = await startStack({ name: 'compression', worker: {} });
    api = stack.api.url;
    auth = authHeaders(api);
    // Three text-layer pages: a JSON result of many KiB, read in seconds.
    const res = await stack.submit(file, { pages: '1-3', ocrMode: 'skip' });
    assert.equal(res.status, 202, await res.clone().text());
    jobId = ((await res.json()) as { jobId: string }).jobId;
    assert.equal((await stack.waitForJob(jobId, 120_000)).status, 'completed');
  });
  after(async () => {
    await stack?.stop();
  });

  it('compresses JSON with br or gzip as the client asks, to the same body', async () => {
    const url = `${api}/v1/jobs/${jobId}/result`;
    const plain = await get(url, 'identity', auth);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.length > 4096, `the result is ${plain.body.length} bytes`);
    for (const [accept, expected] of [
      ['br', 'br'],
      ['gzip', 'gzip'],
      ['gzip, deflate, br', 'br'],
    ] as const) {
      const raw = await get(url, accept, auth);
      assert.equal(raw.status, 200);
      assert.equal(raw.headers['content-encoding'], expected, accept);
      assert.match(String(raw.headers.vary), /Accept-Encoding/i);
      assert.ok(raw.body.length < plain.body.length / 2, `${expected}: ${raw.body.length} of ${plain.body.length}`);
      assert.deepEqual(JSON.parse(decode(raw)), JSON.parse(plain.body.toString('utf8')));
    }
    // Text answers too, and the OpenAPI document.
    const txt = await get(`${url}?format=txt`, 'gzip', auth);
    assert.equal(txt.headers['content-encoding'], 'gzip');
    assert.match(String(txt.headers['content-type']), /^text\/plain/);
    assert.match(decode(txt), /Trace-based Just-in-Time/);
    assert.equal((await get(`${api}/openapi.json`, 'br')).headers['content-encoding'], 'br');
    // Small answers (under 1 KiB) are not worth it.
    const small = await get(`${api}/health/live`, 'gzip, br');
    assert.equal(small.headers['content-encoding'], undefined);
    assert.deepEqual(JSON.parse(small.body.toString('utf8')), { status: 'ok' });
  });

  it('sends the event stream uncompressed', async () => {
    const raw = await get(`${api}/v1/jobs/${jobId}/events`, 'gzip, br', auth);
    assert.equal(raw.status, 200);
    assert.match(String(raw.headers['content-type']), /^text\/event-stream/);
    assert.equal(raw.headers['content-encoding'], undefined);
    const text = raw.body.toString('utf8');
    assert.match(text, /^event: end$/m);
    assert.match(text, /"status":"completed"/);
  });

  it('sends file downloads byte for byte: the original, the searchable PDF, hOCR', async () => {
    const original = await get(`${api}/v1/jobs/${jobId}/document`, 'gzip, br', auth);
    assert.equal(original.status, 200);
    assert.equal(original.headers['content-encoding'], undefined);
    assert.ok(original.body.equals(fs.readFileSync(file)), 'the original differs from the upload');
    assert.equal(Number(original.headers['content-length']), original.body.length);

    const pdf = await get(`${api}/v1/jobs/${jobId}/result?format=pdf`, 'gzip, br', auth);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers['content-encoding'], undefined);
    assert.equal(pdf.body.subarray(0, 5).toString('latin1'), '%PDF-');

    const hocr = await get(`${api}/v1/jobs/${jobId}/result?format=hocr`, 'gzip, br', auth);
    assert.equal(hocr.status, 200);
    assert.match(String(hocr.headers['content-disposition']), /^attachment/);
    assert.equal(hocr.headers['content-encoding'], undefined);
    assert.match(hocr.body.toString('utf8'), /ocr_page/);
  });

  it('leaves resumable uploads alone', async () => {
    const size = 2048;
    const created = await fetch(`${api}/v1/uploads`, {
      method: 'POST',
      headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-length': String(size) },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const location = created.headers.get('location')!;
    const head = await get(new URL(location, api).href, 'gzip, br', { ...auth, 'tus-resumable': '1.0.0' }, 'HEAD');
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.headers['upload-offset'], '0');
    await fetch(new URL(location, api), { method: 'DELETE', headers: { ...auth, 'tus-resumable': '1.0.0' } });
  });
});
