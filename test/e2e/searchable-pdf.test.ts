/**
 * The searchable PDF (GET /v1/jobs/{id}/result?format=pdf) end to end: real API, real worker process, real
 * Temporal and PostgreSQL, corpus files. Each output is read back by tools that are not Folio's: poppler's
 * pdftotext (text and word boxes), pdf.js (text items with positions, operator lists) and qpdf (--check,
 * raw image streams).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import sharp from 'sharp';
import type { Word } from '../../core/contracts.js';
import { corpusPath, loadManifest } from '../support/corpus.js';
import { authHeaders, repoRoot, startStack, type Stack } from '../support/stack.js';
import { characterErrorRate } from '../support/text-metrics.js';

const qpdf = path.join(repoRoot, '.tools/qpdf/bin/qpdf');
/** How far a word in the text layer may lie from its OCR box, in points. */
const TOLERANCE_PT = 2;
/** The text layer against the JSON result's text. */
const MAX_CER = 0.005;

interface ResultPage {
  number: number;
  method: string;
  text: string;
  words: Word[];
}

/** A box in points of the page as displayed, top-left origin (as the JSON result's word boxes are). */
interface Box {
  text: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

describe('searchable PDF', () => {
  let stack: Stack;
  let dir: string;

  before(async () => {
    stack = await startStack({ name: 'searchable-pdf', worker: {} });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-searchable-test-'));
  });
  after(async () => {
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Submits a corpus file, waits for its job and fetches its JSON result and its searchable PDF. */
  async function run(file: string, fields: { ocrMode?: string; password?: string } = {}) {
    const res = await stack.submit(path.isAbsolute(file) ? file : corpusPath(file), fields);
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    const status = await stack.waitForJob(jobId, 180_000);
    const result = await fetch(`${stack.url}/v1/jobs/${jobId}/result`, { headers: authHeaders(stack.url) });
    const pages = ((await result.json()) as { pages: ResultPage[] }).pages;
    const pdf = await fetch(`${stack.url}/v1/jobs/${jobId}/result?format=pdf`, { headers: authHeaders(stack.url) });
    const out = path.join(dir, `${jobId}.pdf`);
    if (pdf.status === 200) fs.writeFileSync(out, Buffer.from(await pdf.arrayBuffer()));
    return { jobId, status, pages, pdf, out };
  }

  it('adds a text layer to the scanned page of a mixed document and leaves its text pages as they were', async () => {
    const entry = loadManifest().find((e) => e.file === 'mixed/derived-tagged-plus-scan.pdf');
    assert.ok(entry, 'the corpus has the mixed document');
    const original = corpusPath(entry.file);
    const { status, pages, pdf, out } = await run(entry.file);
    assert.equal(status.status, 'completed');

    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.equal(Number(pdf.headers.get('content-length')), fs.statSync(out).size);
    assert.match(pdf.headers.get('content-disposition') ?? '', /filename="derived-tagged-plus-scan\.searchable\.pdf"/);
    assertQpdfCheckClean(out);

    const methods = Object.fromEntries(pages.map((p) => [p.number, p.method]));
    assert.deepEqual(methods, { 1: 'text-layer', 2: 'ocr', 3: 'text-layer' });
    const scanned = pages.find((p) => p.number === 2)!;
    assertTextLayerMatches(out, scanned);
    await assertWordsPlaced(out, scanned);

    // The text pages are drawn and read exactly as before; every image stream is byte for byte the original's.
    for (const n of [1, 3]) {
      assert.deepEqual(await pageDrawing(out, n), await pageDrawing(original, n), `page ${n} is drawn as before`);
      assert.equal(pdftotext(out, n), pdftotext(original, n), `page ${n} reads as before`);
    }
    assert.ok(imageStreams(original).length > 0, 'the scanned page has its image');
    assert.deepEqual(imageStreams(out), imageStreams(original));
  });

  it('places the words on a page with /Rotate 90, where qpdf turns the layer with the page', async () => {
    const file = 'rotated/ocrmypdf-rotated_skew.pdf';
    const { status, pages, pdf, out } = await run(file);
    assert.equal(status.status, 'completed');
    assert.equal(pdf.status, 200);
    assertQpdfCheckClean(out);
    const page = pages[0]!;
    assert.equal(page.method, 'ocr');
    assertTextLayerMatches(out, page);
    await assertWordsPlaced(out, page);
    assert.deepEqual(imageStreams(out), imageStreams(corpusPath(file)));
  });

  it('keeps an encrypted document encrypted with its password, with the text layer inside', async () => {
    // A corpus scan locked with AES-256 (R6) and a user password, as a client's would be.
    const password = 'folio-Scan-7';
    const locked = path.join(dir, 'locked-phototest.pdf');
    execFileSync(qpdf, [
      '--encrypt',
      password,
      'owner-7',
      '256',
      '--',
      corpusPath('scanned/tess-phototest.pdf'),
      locked,
    ]);
    const { status, pages, pdf, out } = await run(locked, { password });
    assert.equal(status.status, 'completed');
    assert.equal(pdf.status, 200);
    const page = pages[0]!;
    assert.equal(page.method, 'ocr');
    // Still encrypted: nothing reads it without the password, everything reads it with it.
    const noPassword = spawnSync('pdftotext', [out, '-'], { encoding: 'utf8' });
    assert.notEqual(noPassword.status, 0, 'the searchable PDF needs the password, as the original does');
    assertQpdfCheckClean(out, password);
    assertTextLayerMatches(out, page, password);
    await assertWordsPlaced(out, page, password);
    assert.deepEqual(imageStreams(out, password), imageStreams(locked, password));
  });

  it('gives a document read from its own text layer back as it is', async () => {
    const file = 'born-digital/pdfjs-tracemonkey.pdf';
    const { status, pdf, out } = await run(file);
    assert.equal(status.status, 'completed');
    assert.equal(pdf.status, 200);
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(corpusPath(file))), 'byte for byte the original');
  });

  it('makes a JPEG upload a PDF page of its own size with its JPEG bytes kept and the words over it', async () => {
    // A gray scan saved as a JPEG that declares 200 dpi: its page is its pixels at 200 dpi.
    const jpeg = path.join(dir, 'phototest scan.jpg');
    await sharp(corpusPath('scanned/tess-phototest.tif'))
      .greyscale()
      .jpeg({ quality: 90 })
      .withMetadata({ density: 200 })
      .toFile(jpeg);
    const { width, height } = await sharp(jpeg).metadata();
    const { status, pages, pdf, out } = await run(jpeg);
    assert.equal(status.status, 'completed', JSON.stringify(status));
    assert.equal(pdf.status, 200);
    assert.match(pdf.headers.get('content-disposition') ?? '', /filename="phototest scan\.searchable\.pdf"/);
    assertQpdfCheckClean(out);
    assert.deepEqual(pageSizes(out), [[(width * 72) / 200, (height * 72) / 200].map(round2)]);
    const [extracted] = extractImages(out, '-j');
    assert.ok(extracted && extracted.endsWith('.jpg'), 'the image is stored as a JPEG');
    assert.ok(
      fs.readFileSync(extracted).equals(fs.readFileSync(jpeg)),
      "the page's image is the upload's JPEG, byte for byte",
    );
    assertTextLayerMatches(out, pages[0]!);
    await assertWordsPlaced(out, pages[0]!);
  });

  it('makes each frame of a TIFF a page, black-and-white and gray pixels kept exactly, EXIF turns applied', async () => {
    const frame = (file: string) =>
      sharp(corpusPath(file))
        .flatten({ background: '#ffffff' })
        .resize(1280, 1000, { fit: 'contain', position: 'left top', background: '#ffffff' })
        .greyscale();
    // Frame 1 black and white (written 1 bit a pixel into the PDF), frame 2 gray.
    const frames = await Promise.all([
      frame('scanned/tess-phototest.tif').threshold(160).png().toBuffer(),
      frame('scanned/tess-eurotext.tif').png().toBuffer(),
    ]);
    const tiff = path.join(dir, 'two-frames.tif');
    await sharp(frames, { join: { animated: true } })
      .tiff({ compression: 'lzw' })
      .toFile(tiff);
    // And a PNG stored sideways: the PDF page is upright, as its words are.
    const sideways = path.join(dir, 'sideways.png');
    await sharp(frames[1]).rotate(270).withMetadata({ orientation: 6 }).png().toFile(sideways);

    // The joined TIFF holds its gray frames as RGB; every pixel being gray, they are stored as gray.
    assert.equal((await sharp(tiff).metadata()).channels, 3);
    const multi = await run(tiff);
    assert.equal(multi.status.status, 'completed', JSON.stringify(multi.status));
    assert.equal(multi.pdf.status, 200);
    assertQpdfCheckClean(multi.out);
    const size = [(1280 * 72) / 300, (1000 * 72) / 300].map(round2);
    assert.deepEqual(pageSizes(multi.out), [size, size]);
    const images = extractImages(multi.out, '-png');
    assert.equal(images.length, 2);
    for (const [i, image] of images.entries()) {
      const inPdf = await sharp(image).extractChannel(0).raw().toBuffer();
      const uploaded = await sharp(tiff, { page: i }).extractChannel(0).raw().toBuffer();
      assert.ok(inPdf.equals(uploaded), `frame ${i + 1}'s pixels are the upload's`);
    }
    const list = execFileSync('pdfimages', ['-list', multi.out], { encoding: 'utf8' });
    assert.match(list, /^\s+1\s+0\s+image\s+1280\s+1000\s+gray\s+1\s+1\b/m, 'frame 1: 1 bit a pixel');
    assert.match(list, /^\s+2\s+1\s+image\s+1280\s+1000\s+gray\s+1\s+8\b/m, 'frame 2: 8-bit gray');
    for (const page of multi.pages) {
      assertTextLayerMatches(multi.out, page);
      await assertWordsPlaced(multi.out, page);
    }

    const turned = await run(sideways);
    assert.equal(turned.status.status, 'completed', JSON.stringify(turned.status));
    assert.deepEqual(pageSizes(turned.out), [size]);
    const [upright] = extractImages(turned.out, '-png');
    assert.ok(
      (await sharp(upright).extractChannel(0).raw().toBuffer()).equals(
        await sharp(frames[1]).extractChannel(0).raw().toBuffer(),
      ),
    );
    assertTextLayerMatches(turned.out, turned.pages[0]!);
    await assertWordsPlaced(turned.out, turned.pages[0]!);
  });

  /** Each page's size in points, as poppler reads it. */
  function pageSizes(file: string): number[][] {
    const info = execFileSync('pdfinfo', ['-f', '1', '-l', '999', file], { encoding: 'utf8' });
    return [...info.matchAll(/Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/g)].map((m) => [
      round2(+m[1]!),
      round2(+m[2]!),
    ]);
  }

  function round2(n: number): number {
    return Math.round(n * 100) / 100;
  }

  /** The file's images as poppler extracts them (`-j`: JPEG streams as they are; `-png`: decoded), in page order. */
  function extractImages(file: string, how: '-j' | '-png'): string[] {
    const prefix = path.join(dir, `${path.basename(file, '.pdf')}${how}`);
    execFileSync('pdfimages', [how, file, prefix]);
    return fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(path.basename(prefix) + '-'))
      .sort()
      .map((f) => path.join(dir, f));
  }

  it('answers 409 JOB_NOT_FINISHED while the job runs', async () => {
    const res = await stack.submit(corpusPath('scanned/tess-phototest.pdf'));
    const { jobId } = (await res.json()) as { jobId: string };
    const early = await fetch(`${stack.url}/v1/jobs/${jobId}/result?format=pdf`, { headers: authHeaders(stack.url) });
    assert.equal(early.status, 409);
    assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'JOB_NOT_FINISHED');
    await stack.waitForJob(jobId, 120_000);
  });
});

/** `qpdf --check` finds nothing: exit 0 (3 would mean warnings) and no warning printed. */
function assertQpdfCheckClean(file: string, password?: string): void {
  const args = ['--check', ...(password ? [`--password=${password}`] : []), file];
  const check = spawnSync(qpdf, args, { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /No syntax or stream encoding errors found/);
  assert.doesNotMatch(check.stdout + check.stderr, /WARNING/i);
}

/** pdftotext and pdf.js both read the page's OCR text back (CER against the JSON result's text). */
function assertTextLayerMatches(file: string, page: ResultPage, password?: string): void {
  const popplerText = pdftotext(file, page.number, password);
  const cer = characterErrorRate(popplerText, page.text);
  assert.ok(cer <= MAX_CER, `pdftotext CER ${cer.toFixed(4)} on page ${page.number}: ${popplerText.slice(0, 200)}`);
}

/**
 * Every OCR word is where its box is, within TOLERANCE_PT: poppler's word boxes (pdftotext -bbox) one by one,
 * and pdf.js's text items (each a word or a run of a line's words) by their first and last word; and pdf.js
 * reads the same text (CER).
 */
async function assertWordsPlaced(file: string, page: ResultPage, password?: string): Promise<void> {
  assert.ok(page.words.length > 0);
  const poppler = popplerWords(file, page.number, password);
  let far = 0;
  for (const word of page.words) {
    const found = nearest(
      poppler.filter((b) => b.text === word.text),
      word.bbox,
    );
    if (!found || !within(found, word.bbox)) far++;
  }
  assert.equal(far, 0, `${far} of ${page.words.length} words not within ${TOLERANCE_PT} pt of their box (poppler)`);

  const items = await pdfjsItems(file, page.number, password);
  const pdfjsText = items.map((i) => i.text).join(' ');
  const cer = characterErrorRate(pdfjsText, page.text);
  assert.ok(cer <= MAX_CER, `pdf.js CER ${cer.toFixed(4)}: ${pdfjsText.slice(0, 200)}`);
  let checked = 0;
  for (const item of items) {
    const words = item.text.split(/\s+/).filter(Boolean);
    const first = page.words.find(
      (w) =>
        w.text === words[0] &&
        Math.abs(w.bbox.x0 - item.x0) <= TOLERANCE_PT &&
        w.bbox.y0 >= item.y0 - TOLERANCE_PT &&
        w.bbox.y1 <= item.y1 + TOLERANCE_PT,
    );
    if (!first) assert.fail(`pdf.js item "${item.text}" at x ${item.x0.toFixed(1)} starts at no word's box`);
    const last = page.words.find(
      (w) => w.line === first.line && w.text === words.at(-1) && Math.abs(w.bbox.x1 - item.x1) <= TOLERANCE_PT,
    );
    assert.ok(last, `pdf.js item "${item.text}" ends at ${item.x1.toFixed(1)}, at no word's right edge`);
    for (const w of [first, last]) {
      assert.ok(
        w.bbox.y0 >= item.y0 - TOLERANCE_PT && w.bbox.y1 <= item.y1 + TOLERANCE_PT,
        `"${w.text}" [${w.bbox.y0}, ${w.bbox.y1}] outside pdf.js's [${item.y0.toFixed(1)}, ${item.y1.toFixed(1)}]`,
      );
    }
    checked++;
  }
  assert.ok(checked > 0);
}

function within(a: Box, b: Word['bbox']): boolean {
  // Horizontally the layer matches the box; vertically poppler gives the line's extent, which holds the word.
  return (
    Math.abs(a.x0 - b.x0) <= TOLERANCE_PT &&
    Math.abs(a.x1 - b.x1) <= TOLERANCE_PT &&
    b.y0 >= a.y0 - TOLERANCE_PT &&
    b.y1 <= a.y1 + TOLERANCE_PT
  );
}

function nearest(boxes: Box[], to: Word['bbox']): Box | undefined {
  let best: Box | undefined;
  let distance = Infinity;
  for (const b of boxes) {
    const d = Math.abs(b.x0 - to.x0) + Math.abs(b.y0 - to.y0);
    if (d < distance) [best, distance] = [b, d];
  }
  return best;
}

function pdftotext(file: string, page: number, password?: string): string {
  const pw = password ? ['-upw', password] : [];
  return execFileSync('pdftotext', [...pw, '-raw', '-f', String(page), '-l', String(page), file, '-'], {
    encoding: 'utf8',
  });
}

/** poppler's words with their boxes, in points of the page as displayed. */
function popplerWords(file: string, page: number, password?: string): Box[] {
  const pw = password ? ['-upw', password] : [];
  const html = execFileSync('pdftotext', [...pw, '-bbox', '-f', String(page), '-l', String(page), file, '-'], {
    encoding: 'utf8',
  });
  const words: Box[] = [];
  const pattern = /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g;
  for (const m of html.matchAll(pattern)) {
    words.push({ x0: +m[1]!, y0: +m[2]!, x1: +m[3]!, y1: +m[4]!, text: decodeEntities(m[5]!) });
  }
  return words;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** pdf.js's text items of a page with their boxes, in points of the page as displayed (its viewport). */
async function pdfjsItems(file: string, n: number, password?: string): Promise<Box[]> {
  const doc = await getDocument({ data: new Uint8Array(fs.readFileSync(file)), password, verbosity: 0 }).promise;
  try {
    const page = await doc.getPage(n);
    const viewport = page.getViewport({ scale: 1 });
    const content = await page.getTextContent();
    const boxes: Box[] = [];
    for (const item of content.items) {
      if (!('str' in item) || item.str.trim() === '') continue;
      const [a, b, , , e, f] = item.transform as number[];
      const scale = Math.hypot(a!, b!);
      const [ux, uy] = [a! / scale, b! / scale];
      // Baseline start, baseline end, and the top of the start: in user space, then on the viewport.
      const corners = [
        [e!, f!],
        [e! + item.width * ux, f! + item.width * uy],
        [e! - item.height * uy, f! + item.height * ux],
      ].map(([x, y]) => viewport.convertToViewportPoint(x!, y!) as [number, number]);
      const xs = corners.map((c) => c[0]);
      const ys = corners.map((c) => c[1]);
      boxes.push({
        text: item.str.trim(),
        x0: Math.min(...xs),
        x1: Math.max(...xs),
        y0: Math.min(...ys),
        y1: Math.max(...ys),
      });
    }
    return boxes;
  } finally {
    await doc.loadingTask.destroy();
  }
}

/** What pdf.js draws for a page: its operators and their arguments, and its text. */
async function pageDrawing(file: string, n: number): Promise<unknown> {
  const doc = await getDocument({ data: new Uint8Array(fs.readFileSync(file)), verbosity: 0 }).promise;
  try {
    const page = await doc.getPage(n);
    const ops = await page.getOperatorList();
    const text = await page.getTextContent();
    // Object ids (image and font names) are the file's numbering, which qpdf rewrites: compare the rest.
    const args = JSON.stringify(ops.argsArray, (_k, v: unknown) =>
      typeof v === 'string' && /^(img|g|f)_/.test(v) ? 'ref' : v,
    );
    return { fns: ops.fnArray, args, text: text.items.map((i) => ('str' in i ? i.str : '')) };
  } finally {
    await doc.loadingTask.destroy();
  }
}

/**
 * The SHA-256 of every image stream in the file as stored (qpdf's raw stream data: still encoded, only
 * decrypted), sorted. qpdf's overlay draws a target page's original content as a form XObject, so images are
 * looked for among all objects rather than in page resources.
 */
function imageStreams(file: string, password?: string): string[] {
  const pw = password ? [`--password=${password}`] : [];
  const args = [...pw, '--json=2', '--json-key=qpdf', '--json-stream-data=inline', '--decode-level=none', file];
  const json = JSON.parse(execFileSync(qpdf, args, { encoding: 'utf8', maxBuffer: 1 << 30 })) as {
    qpdf: [unknown, Record<string, { stream?: { dict: Record<string, unknown>; data?: string } }>];
  };
  return Object.values(json.qpdf[1])
    .flatMap((o) =>
      o.stream?.dict['/Subtype'] === '/Image' ? [sha256(Buffer.from(o.stream.data ?? '', 'base64'))] : [],
    )
    .sort();
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
