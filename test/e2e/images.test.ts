/**
 * Images as documents, end to end through the HTTP API, the document workflow and a real worker process:
 * PNG, JPEG (EXIF-turned), multi-frame TIFF and WebP uploads read by OCR, the corpus scans' original images held
 * to the CER bounds of their PDFs, and the refusals (damaged images, other files, images over the pixel cap).
 * Test images are made here from corpus scans with sharp.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Word } from '../../activities/adapters/types.js';
import { corpusPath, loadManifest } from '../support/corpus.js';
import { CER_BOUNDS, RECALL_BOUNDS } from '../support/ocr-bounds.js';
import { characterErrorRate, wordRecall } from '../support/text-metrics.js';
import {
  getResult,
  startStack,
  submit,
  waitForJob,
  type ApiProcess,
  type JobStatusBody,
  type Stack,
} from '../support/stack.js';

/** A pixel cap low enough that a test image can exceed it cheaply; every corpus image (≤ 8.5 MP) stays under it. */
const RENDER_MAX_PIXELS = 12_000_000;
/** The worker decodes images up to twice the cap (activities/index.ts's IMAGE_DECODE_HEADROOM). */
const DECODE_LIMIT = 2 * RENDER_MAX_PIXELS;

const phototestTruth = fs.readFileSync(corpusPath('scanned/tess-phototest.gt.txt'), 'utf8');
const eurotextTruth = fs.readFileSync(corpusPath('scanned/tess-eurotext.gt.txt'), 'utf8');

describe('images as documents', () => {
  let stack: Stack;
  let api: ApiProcess;

  before(async () => {
    stack = await startStack({ name: 'images', worker: { RENDER_MAX_PIXELS: String(RENDER_MAX_PIXELS) } });
    api = stack.api;
  });
  after(async () => {
    await stack?.stop();
  });

  /** Uploads a file, expects it accepted, and waits for its job to finish. */
  async function read(
    name: string,
    bytes: Uint8Array,
    fields: Record<string, string> = {},
  ): Promise<{ jobId: string; status: JobStatusBody }> {
    const res = await submit(api.url, { name, bytes }, fields);
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    return { jobId, status: await waitForJob(api.url, jobId, 200_000) };
  }

  /** Reads an image that must complete as one OCR page per frame; returns the pages' text and words. */
  async function readText(
    name: string,
    bytes: Uint8Array,
    fields: Record<string, string> = {},
  ): Promise<{ number: number; text: string; words: Word[] }[]> {
    const { jobId, status } = await read(name, bytes, fields);
    assert.equal(status.status, 'completed', `${name}: ${JSON.stringify(status.error)}`);
    const result = await getResult(api.url, jobId);
    for (const page of result.pages) assert.equal(page.method, 'ocr', `${name} page ${page.number}`);
    return result.pages.map((p) => ({ number: p.number, text: p.text, words: p.words as Word[] }));
  }

  function cerOf(label: string, text: string, truth: string): number {
    const cer = characterErrorRate(text, truth);
    console.log(`  OCR ${label}: CER ${(cer * 100).toFixed(2)} %`);
    return cer;
  }

  // Every corpus scan whose original image the corpus keeps, read from that image: the same bound as its PDF.
  const originals = loadManifest().filter((e) => e.originalImage && e.groundTruth);
  for (const entry of originals) {
    const image = entry.originalImage!;
    it(`${image} reads like ${entry.file}`, { timeout: 240_000 }, async () => {
      const pages = await readText(image.split('/').pop()!, fs.readFileSync(corpusPath(image)));
      assert.equal(pages.length, 1);
      const text = pages[0]!.text;
      const truth = fs.readFileSync(corpusPath(entry.groundTruth!), 'utf8');
      const cerBound = CER_BOUNDS[entry.file];
      const recallBound = RECALL_BOUNDS[entry.file];
      assert.ok(cerBound !== undefined || recallBound !== undefined, `no accuracy bound for ${entry.file}`);
      if (cerBound !== undefined) {
        const cer = cerOf(image, text, truth);
        assert.ok(cer <= cerBound, `${image}: CER ${cer.toFixed(4)} > ${cerBound}`);
      }
      if (recallBound !== undefined) {
        const recall = wordRecall(text, truth);
        console.log(`  OCR ${image}: word recall ${(recall * 100).toFixed(1)} %`);
        assert.ok(recall >= recallBound, `${image}: recall ${recall.toFixed(3)} < ${recallBound}`);
      }
    });
  }

  it('reads a JPEG stored sideways with EXIF orientation 6 upright', { timeout: 240_000 }, async () => {
    // The pixels turned a quarter counter-clockwise; the tag says to turn them clockwise to view them.
    const upright = await sharp(corpusPath('scanned/tess-phototest.tif')).metadata();
    const jpeg = await sharp(corpusPath('scanned/tess-phototest.tif'))
      .rotate(270)
      .jpeg({ quality: 92 })
      .withMetadata({ orientation: 6, density: 200 })
      .toBuffer();
    const stored = await sharp(jpeg).metadata();
    assert.deepEqual([stored.width, stored.height, stored.orientation], [upright.height, upright.width, 6]);
    const [page] = await readText('sideways.jpg', jpeg);
    assert.ok(page);
    const cer = cerOf('EXIF-6 JPEG', page.text, phototestTruth);
    assert.ok(cer <= 0.01, `CER ${cer.toFixed(4)}`);
    // Boxes in the upright image's frame, in points at its 200 dpi: words run across a landscape page.
    const [width, height] = [(upright.width * 72) / 200, (upright.height * 72) / 200];
    for (const w of page.words) assert.ok(w.bbox.x1 <= width + 1 && w.bbox.y1 <= height + 1, JSON.stringify(w));
    const long = page.words.filter((w) => w.text.length >= 4);
    assert.ok(long.length > 10);
    assert.ok(
      long.every((w) => w.bbox.x1 - w.bbox.x0 > w.bbox.y1 - w.bbox.y0),
      'words do not run across the page',
    );
  });

  it('reads a three-frame TIFF as three pages, and a page range of it', { timeout: 240_000 }, async () => {
    const frame = (file: string) =>
      sharp(corpusPath(file))
        .flatten({ background: '#ffffff' })
        .resize(1024, 800, { fit: 'contain', position: 'left top', background: '#ffffff' })
        .greyscale()
        .png()
        .toBuffer();
    const frames = await Promise.all([
      frame('scanned/tess-phototest.tif'),
      frame('scanned/tess-eurotext.tif'),
      frame('rotated/tess-phototest-rotated-180.png'),
    ]);
    const tiff = await sharp(frames, { join: { animated: true } })
      .tiff({ compression: 'lzw' })
      .toBuffer();
    assert.equal((await sharp(tiff).metadata()).pages, 3);

    const pages = await readText('three.tif', tiff);
    assert.deepEqual(
      pages.map((p) => p.number),
      [1, 2, 3],
    );
    assert.ok(cerOf('TIFF frame 1', pages[0]!.text, phototestTruth) <= 0.02);
    assert.ok(cerOf('TIFF frame 2', pages[1]!.text, eurotextTruth) <= 0.03);
    // The third frame is upside down: read upright after orientation detection, as a turned scan is.
    assert.ok(cerOf('TIFF frame 3 (turned)', pages[2]!.text, phototestTruth) <= 0.02);

    const { jobId, status } = await read('three.tif', tiff, { pages: '2-3' });
    assert.equal(status.status, 'completed', JSON.stringify(status.error));
    assert.equal(status.progress.pagesTotal, 2);
    assert.deepEqual(
      (await getResult(api.url, jobId)).pages.map((p) => p.number),
      [2, 3],
    );

    const outside = await read('three.tif', tiff, { pages: '4' });
    assert.equal(outside.status.status, 'failed');
    assert.equal(outside.status.error?.code, 'PAGE_RANGE_INVALID');
  });

  it(
    'reads a WebP, ignoring a password sent with it; the same image again joins its job',
    { timeout: 240_000 },
    async () => {
      const webp = await sharp(corpusPath('scanned/scribe-receipt_03.png')).webp({ lossless: true }).toBuffer();
      const [page] = await readText('receipt.webp', webp, { password: 'not-a-pdf' });
      // Dedupe as for PDFs: same content and options, one job.
      const first = (await (await submit(api.url, { name: 'a.webp', bytes: webp })).json()) as { jobId: string };
      const again = await submit(api.url, { name: 'b.webp', bytes: webp });
      assert.equal(again.status, 202);
      const joined = (await again.json()) as { jobId: string; duplicateOf?: string };
      assert.equal(joined.duplicateOf, first.jobId);
      assert.ok(page);
      const truth = fs.readFileSync(corpusPath('scanned/scribe-receipt_03.gt.txt'), 'utf8');
      const cer = cerOf('WebP receipt', page.text, truth);
      assert.ok(cer <= CER_BOUNDS['scanned/scribe-receipt_03.pdf']!, `CER ${cer.toFixed(4)}`);
    },
  );

  it('fails the page of a truncated PNG cleanly, and a PNG with a damaged header at once', async () => {
    const png = fs.readFileSync(corpusPath('scanned/scribe-filing_01.png'));
    const truncated = await read('truncated.png', png.subarray(0, Math.floor(png.length / 2)));
    assert.equal(truncated.status.status, 'failed');
    assert.equal(truncated.status.error?.code, 'PAGE_UNREADABLE', JSON.stringify(truncated.status.error));
    assert.equal(truncated.status.error?.page, 1);
    assert.match(truncated.status.error?.message ?? '', /truncated or damaged/);
    assert.equal(truncated.status.pages[0]?.attempts, 1, 'a damaged image is not retried');

    const damaged = Buffer.concat([png.subarray(0, 8), Buffer.alloc(200, 7)]);
    const header = await read('damaged.png', damaged);
    assert.equal(header.status.status, 'failed');
    assert.equal(header.status.error?.code, 'IMAGE_CORRUPT', JSON.stringify(header.status.error));
    assert.equal(header.status.pages.length, 0);
  });

  it('still refuses a file that is neither a PDF nor an accepted image with 415 NOT_PDF', async () => {
    const gif = await sharp(corpusPath('scanned/tess-phototest.tif')).gif().toBuffer();
    for (const [name, bytes] of [
      ['scan.gif', gif],
      ['notes.txt', Buffer.from('plain text, not a document\n')],
    ] as const) {
      const res = await submit(api.url, { name, bytes });
      assert.equal(res.status, 415, name);
      const body = (await res.json()) as { error: { code: string; message: string; details: { accepted: string[] } } };
      assert.equal(body.error.code, 'NOT_PDF');
      assert.match(body.error.message, /PNG, JPEG, TIFF or WebP/);
      assert.deepEqual(body.error.details.accepted, [
        'application/pdf',
        'image/png',
        'image/jpeg',
        'image/tiff',
        'image/webp',
      ]);
    }
  });

  it('shrinks an image over the pixel cap to it, and refuses one over the decode limit', async () => {
    // The phototest scan in the corner of a 4600 × 3000 sheet (13.8 MP > 12 MP): read at 93 % of its size.
    const sheet = await sharp({ create: { width: 4600, height: 3000, channels: 3, background: '#ffffff' } })
      .composite([{ input: corpusPath('scanned/tess-phototest.tif'), left: 0, top: 0 }])
      .greyscale()
      .png()
      .toBuffer();
    const [page] = await readText('sheet.png', sheet);
    assert.ok(page);
    assert.ok(cerOf('phototest on a sheet over the cap', page.text, phototestTruth) <= 0.02);

    // 5000 × 5000 (25 MP) is over the decode limit: refused from its header, never decoded.
    const huge = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#ffffff' } })
      .greyscale()
      .png()
      .toBuffer();
    assert.ok(5000 * 5000 > DECODE_LIMIT);
    const refused = await read('huge.png', huge);
    assert.equal(refused.status.status, 'failed');
    assert.equal(refused.status.error?.code, 'PAGE_TOO_LARGE', JSON.stringify(refused.status.error));
    assert.equal(refused.status.error?.page, 1);
    assert.match(refused.status.error?.message ?? '', new RegExp(`at most ${DECODE_LIMIT} pixels`));
  });
});
