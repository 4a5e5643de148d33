/**
 * The text layer writer and the qpdf overlay on their own, against independent readers: qpdf --check, pdf.js
 * (text and positions) and poppler (word boxes), on hand-made words over a corpus scan.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPS, getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { overlayTextLayer, pageRanges } from '../../../activities/adapters/qpdf.js';
import { TextLayerPdfWriter } from '../../../activities/adapters/text-layer-pdf.js';
import { InputError } from '../../../activities/adapters/types.js';
import type { Word } from '../../../core/contracts.js';
import { corpusPath } from '../../support/corpus.js';
import { repoRoot } from '../../support/harness.js';

const qpdf = path.join(repoRoot, '.tools/qpdf/bin/qpdf');
const font = fs.readFileSync(path.join(repoRoot, '.tools/qpdf/share/pdf.ttf'));

const word = (text: string, x0: number, y0: number, x1: number, y1: number, line: number): Word => ({
  text,
  bbox: { x0, y0, x1, y1 },
  confidence: 90,
  line,
});

/** Two lines; the second's boxes touch and overlap, as tesseract's sometimes do; one word is Korean. */
const WORDS = [
  word('Searchable', 20, 30, 120, 44, 0),
  word('layer', 130, 32, 170, 44, 0),
  word('door', 20, 60, 60, 72, 1),
  word(';', 58, 60, 62, 74, 1),
  word('한국어', 70, 60, 110, 74, 1),
];

describe('text layer and qpdf overlay', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-text-layer-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function layerOver(original: string, size: { width: number; height: number }): Promise<string> {
    const layer = path.join(dir, 'layer.pdf');
    const writer = await TextLayerPdfWriter.create(layer, font);
    await writer.addPage({ ...size, words: WORDS });
    await writer.close();
    const check = spawnSync(qpdf, ['--check', layer], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const output = path.join(dir, 'out.pdf');
    await overlayTextLayer(qpdf, { original, layer, onto: [1], output, workDir: dir });
    return output;
  }

  it('places every word on its box, invisible, with its own text and a space between words', async () => {
    const original = corpusPath('scanned/tess-phototest.pdf');
    const out = await layerOver(original, { width: 230.4, height: 172.8 });
    assert.equal(spawnSync(qpdf, ['--check', out]).status, 0);

    const text = execFileSync('pdftotext', ['-raw', out, '-'], { encoding: 'utf8' });
    // One line each; the words' own characters (poppler keeps a zero-width space out of its plain text).
    assert.deepEqual(
      text
        .trim()
        .split('\n')
        .map((l) => l.replace(/\s+/g, '')),
      ['Searchablelayer', 'door;한국어'],
    );
    const boxes = [
      ...execFileSync('pdftotext', ['-bbox', out, '-'], { encoding: 'utf8' }).matchAll(
        /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g,
      ),
    ].map((m) => ({ text: m[5], x0: +m[1]!, x1: +m[3]!, top: +m[2]! }));
    assert.deepEqual(
      boxes.map((b) => b.text),
      WORDS.map((w) => w.text),
    );
    boxes.forEach((b, i) => {
      const w = WORDS[i]!;
      assert.ok(
        Math.abs(b.x0 - w.bbox.x0) < 0.05 && Math.abs(b.x1 - w.bbox.x1) < 0.05,
        `${w.text}: ${JSON.stringify(b)}`,
      );
      // The line's top: its tallest word's.
      assert.ok(Math.abs(b.top - (w.line === 0 ? 30 : 60)) < 0.05, `${w.text} top ${b.top}`);
    });

    // Render mode 3 throughout: pdf.js draws no glyph of the layer.
    const doc = await getDocument({ data: new Uint8Array(fs.readFileSync(out)), verbosity: 0 }).promise;
    try {
      const page = await doc.getPage(1);
      const ops = await page.getOperatorList();
      const modes: unknown[] = [];
      ops.fnArray.forEach((fn, k) => {
        if (fn === OPS.setTextRenderingMode) modes.push(ops.argsArray[k] as unknown);
      });
      assert.deepEqual(modes, [[3]]);
    } finally {
      await doc.loadingTask.destroy();
    }
  });

  it('refuses a file qpdf cannot read with SEARCHABLE_PDF_FAILED', async () => {
    const broken = path.join(dir, 'broken.pdf');
    fs.writeFileSync(broken, '%PDF-1.4\nnot a pdf at all\n');
    await assert.rejects(
      layerOver(broken, { width: 100, height: 100 }),
      (err: unknown) => err instanceof InputError && err.code === 'SEARCHABLE_PDF_FAILED' && /qpdf/.test(err.message),
    );
  });

  it('names page lists as qpdf ranges', () => {
    assert.equal(pageRanges([1, 2, 3, 5, 7, 8]), '1-3,5,7-8');
    assert.equal(pageRanges([4]), '4');
  });
});
