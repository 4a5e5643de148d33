/**
 * hOCR, ALTO and TSV from stored page results: parsed back with an XML parser and checked for structure
 * (nesting, every box inside its parent's and the page's, confidences in range, text as stored), and the TSV
 * against tesseract's own TSV of the same scan — as the page activity would store it, and as Folio's engine
 * reads it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import type { Box, Word } from '../../core/contracts.js';
import { alto, ALTO_NAMESPACE } from '../../core/outputs/alto.js';
import { hocr } from '../../core/outputs/hocr.js';
import { layoutOfWords } from '../../core/outputs/layout.js';
import { type OutputDocument, type OutputFormat, type StoredPage } from '../../core/outputs/page-tree.js';
import { TSV_COLUMNS, tsv } from '../../core/outputs/tsv.js';
import { readTsv, TesseractEngine } from '../../activities/adapters/tesseract.js';
import { toPageBox, toPageLayout } from '../../activities/page.js';
import { corpusPath } from '../support/corpus.js';

const SCAN = corpusPath('scanned/ocrmypdf-linn.png');
/** The scan is a US-letter page at 300 dpi: 2550 × 3300 pixels. */
const SCAN_DPI = 300;

/** Tesseract's own TSV of an image (the native CLI, one thread, its page segmentation by default). */
function nativeTsv(image: string): string {
  try {
    return execFileSync('tesseract', [image, '-', '--dpi', String(SCAN_DPI), 'tsv'], {
      encoding: 'utf8',
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (err) {
    throw new Error(
      `the native tesseract CLI is needed to check TSV against tesseract's own (apt-get install tesseract-ocr): ${String(err)}`,
    );
  }
}

/** A page as the page activity stores an OCR read of an image: words and layout in points, the image kept. */
function storedFromTsv(text: string, number: number, size: { width: number; height: number }): StoredPage {
  const read = readTsv(text);
  const image = { ...size, dpi: SCAN_DPI };
  return {
    number,
    status: 'done',
    width: (size.width * 72) / SCAN_DPI,
    height: (size.height * 72) / SCAN_DPI,
    words: read.words.map((w) => ({ ...w, bbox: toPageBox(w.bbox, image, 0) })),
    layout: toPageLayout({ text: '', confidence: 0, ...read }, image, 0),
    renderDpi: SCAN_DPI,
    errorCode: null,
  };
}

/** A text-layer page as stored: words in points on pdf.js's lines, no image. Letter size. */
function textLayerPage(number: number, lines: string[][]): StoredPage {
  const words: Word[] = [];
  lines.forEach((texts, line) => {
    let x = 72;
    // A blank line's gap before the last line: a second paragraph.
    const y = 72 + line * 14 + (line === lines.length - 1 ? 20 : 0);
    for (const text of texts) {
      const width = text.length * 6;
      words.push({ text, bbox: { x0: x, y0: y, x1: x + width, y1: y + 12 }, confidence: 100, line });
      x += width + 4;
    }
  });
  const { words: placed, layout } = layoutOfWords(words);
  return { number, status: 'done', width: 612, height: 792, words: placed, layout, renderDpi: null, errorCode: null };
}

function render(format: OutputFormat, doc: OutputDocument, pages: StoredPage[]): string {
  return format.head(doc) + pages.map((p) => format.page(p)).join('') + format.tail(doc);
}

function parseXml(text: string): Document {
  const problems: string[] = [];
  const doc = new DOMParser({
    onError: (level, message) => {
      problems.push(`${level}: ${message}`);
    },
  }).parseFromString(text, 'application/xml');
  assert.deepEqual(problems, [], 'well-formed XML');
  return doc;
}

function children(el: Element, name: string): Element[] {
  return Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).localName === name);
}

function inside(inner: Box, outer: Box, label: string): void {
  assert.ok(
    inner.x0 >= outer.x0 && inner.y0 >= outer.y0 && inner.x1 <= outer.x1 && inner.y1 <= outer.y1,
    `${label}: ${JSON.stringify(inner)} inside ${JSON.stringify(outer)}`,
  );
  assert.ok(inner.x0 <= inner.x1 && inner.y0 <= inner.y1, `${label}: a box the right way round`);
}

/** hOCR's `bbox x0 y0 x1 y1` of an element, and another property by name. */
function hocrBox(el: Element): Box {
  const m = /bbox (\d+) (\d+) (\d+) (\d+)/.exec(el.getAttribute('title') ?? '');
  assert.ok(m, `${el.getAttribute('id')} has a bbox of whole pixels`);
  return { x0: Number(m[1]), y0: Number(m[2]), x1: Number(m[3]), y1: Number(m[4]) };
}

function classed(parent: Element, tag: string, cls: string): Element[] {
  return Array.from(parent.childNodes).filter(
    (n): n is Element =>
      n.nodeType === 1 && (n as Element).localName === tag && (n as Element).getAttribute('class') === cls,
  );
}

function altoBox(el: Element): Box {
  const [x, y, w, h] = ['HPOS', 'VPOS', 'WIDTH', 'HEIGHT'].map((a) => Number(el.getAttribute(a))) as [
    number,
    number,
    number,
    number,
  ];
  for (const v of [x, y, w, h]) assert.ok(Number.isInteger(v) && v >= 0, `${el.getAttribute('ID')}: whole pixels`);
  return { x0: x, y0: y, x1: x + w, y1: y + h };
}

interface TsvRow {
  level: number;
  page: number;
  block: number;
  par: number;
  line: number;
  word: number;
  box: Box;
  conf: number;
  text: string;
}

function tsvRows(text: string): { header: string[]; rows: TsvRow[] } {
  const [header = '', ...lines] = text.split('\n').filter((l) => l !== '');
  const rows = lines.map((l) => {
    const c = l.split('\t');
    assert.equal(c.length, 12, `12 columns: ${JSON.stringify(l)}`);
    const n = c.slice(0, 11).map(Number);
    return {
      level: n[0]!,
      page: n[1]!,
      block: n[2]!,
      par: n[3]!,
      line: n[4]!,
      word: n[5]!,
      box: { x0: n[6]!, y0: n[7]!, x1: n[6]! + n[8]!, y1: n[7]! + n[9]! },
      conf: n[10]!,
      text: c[11]!,
    };
  });
  return { header: header.split('\t'), rows };
}

/** The rows' numbering as tesseract writes it: each level's number counts from 1 within its parent. */
function assertTsvStructure(rows: TsvRow[]): void {
  let [page, block, par, line, word] = [0, 0, 0, 0, 0];
  for (const r of rows) {
    const at = JSON.stringify(r);
    if (r.level === 1) {
      [page, block, par, line, word] = [r.page, 0, 0, 0, 0];
      assert.deepEqual([r.block, r.par, r.line, r.word, r.conf, r.text], [0, 0, 0, 0, -1, ''], at);
      continue;
    }
    assert.equal(r.page, page, at);
    if (r.level === 2) [block, par, line, word] = [block + 1, 0, 0, 0];
    if (r.level === 3) [par, line, word] = [par + 1, 0, 0];
    if (r.level === 4) [line, word] = [line + 1, 0];
    if (r.level === 5) word += 1;
    const want = [block, r.level >= 3 ? par : 0, r.level >= 4 ? line : 0, r.level === 5 ? word : 0];
    assert.deepEqual([r.block, r.par, r.line, r.word], want, at);
    if (r.level < 5) assert.equal(r.conf, -1, at);
    else assert.ok(r.conf >= 0 && r.conf <= 100 && r.text.trim() !== '', at);
  }
}

describe('output formats', () => {
  let native: string;
  let scanned: StoredPage;
  const failed: StoredPage = {
    number: 3,
    status: 'failed',
    width: 612,
    height: 792,
    words: null,
    layout: null,
    renderDpi: null,
    errorCode: 'PAGE_TIMEOUT',
  };
  // Markup characters and a quote in words, to be escaped and read back as they were.
  const textLayer = textLayerPage(2, [
    ['Fish', '&', 'Chips'],
    ['<b>', '"quoted"', "it's"],
    ['Next', 'paragraph'],
  ]);
  const doc: OutputDocument = { filename: 'scan & text.pdf', pageCount: 3 };

  before(() => {
    native = nativeTsv(SCAN);
    const page = tsvRows(native).rows.find((r) => r.level === 1)!;
    scanned = storedFromTsv(native, 1, { width: page.box.x1, height: page.box.y1 });
  });

  it('TSV: tesseract’s columns, and the rows of tesseract’s own TSV of the scan, as stored and rendered back', () => {
    const out = tsvRows(render(tsv, doc, [scanned]));
    const theirs = tsvRows(native);
    assert.deepEqual(out.header, [...TSV_COLUMNS]);
    assert.deepEqual(out.header, theirs.header, "tesseract's own header");
    // Tesseract's rows less blank words and what holds only those, which Folio does not keep.
    const blank = new Set(
      theirs.rows.filter((r) => r.level === 5 && r.text.trim() === '').map((r) => `${r.block}.${r.par}.${r.line}`),
    );
    assert.equal(blank.size, 0, 'this scan has no blank words: every row of tesseract is expected');
    assertTsvStructure(out.rows);
    assert.equal(out.rows.length, theirs.rows.length, 'one row for each of tesseract’s');
    // Where one of tesseract's boxes does not enclose its children's (it happens), Folio's is widened to.
    const enclosing = theirs.rows.map((r, i) => {
      let box = r.box;
      for (const d of theirs.rows.slice(i + 1)) {
        if (d.level <= r.level) break;
        box = {
          x0: Math.min(box.x0, d.box.x0),
          y0: Math.min(box.y0, d.box.y0),
          x1: Math.max(box.x1, d.box.x1),
          y1: Math.max(box.y1, d.box.y1),
        };
      }
      return { ...r, box };
    });
    const widened = enclosing.filter((r, i) => JSON.stringify(r.box) !== JSON.stringify(theirs.rows[i]!.box));
    assert.ok(widened.length <= theirs.rows.length / 20, `${widened.length} boxes widened`);
    out.rows.forEach((ours, i) => {
      const t = enclosing[i]!;
      assert.deepEqual(
        [ours.level, ours.page, ours.block, ours.par, ours.line, ours.word, ours.box, ours.text],
        [t.level, t.page, t.block, t.par, t.line, t.word, t.box, t.text],
        `row ${i + 1}`,
      );
      assert.ok(Math.abs(ours.conf - t.conf) <= 0.005, `row ${i + 1}: conf ${ours.conf} ≈ ${t.conf}`);
    });
  });

  it('TSV: every page in order, page_num the PDF page, a page not read as its page row alone', () => {
    const out = tsvRows(render(tsv, doc, [scanned, textLayer, failed]));
    assertTsvStructure(out.rows);
    assert.deepEqual(
      out.rows.filter((r) => r.level === 1).map((r) => [r.page, r.box]),
      [
        [1, { x0: 0, y0: 0, x1: 2550, y1: 3300 }],
        [2, { x0: 0, y0: 0, x1: 2550, y1: 3300 }],
        [3, { x0: 0, y0: 0, x1: 2550, y1: 3300 }],
      ],
    );
    assert.deepEqual(
      out.rows.filter((r) => r.page === 3).map((r) => r.level),
      [1],
    );
    const words = out.rows.filter((r) => r.page === 2 && r.level === 5);
    assert.deepEqual(
      words.map((w) => w.text),
      textLayer.words!.map((w) => w.text),
    );
    // Text-layer boxes in pixels at 300 dpi: 72 pt from the left edge is 300 px.
    assert.equal(words[0]!.box.x0, 300);
    assert.deepEqual(
      [...new Set(out.rows.filter((r) => r.page === 2 && r.level === 3).map((r) => r.par))],
      [1],
      'each paragraph its own block',
    );
    assert.equal(out.rows.filter((r) => r.page === 2 && r.level === 3).length, 2, 'two paragraphs');
  });

  it('hOCR: XHTML with ocr-system and capabilities; page > carea > par > line > word, boxes nested, text escaped', () => {
    const text = render(hocr, doc, [scanned, textLayer, failed]);
    const dom = parseXml(text);
    const html = dom.documentElement!;
    assert.equal(html.namespaceURI, 'http://www.w3.org/1999/xhtml');
    const metas = Array.from(html.getElementsByTagName('meta')).map((m) => [
      m.getAttribute('name'),
      m.getAttribute('content'),
    ]);
    assert.ok(metas.some(([n, c]) => n === 'ocr-system' && c === 'folio'));
    const capabilities = metas.find(([n]) => n === 'ocr-capabilities')?.[1]?.split(' ') ?? [];
    for (const c of ['ocr_page', 'ocr_carea', 'ocr_par', 'ocr_line', 'ocrx_word'])
      assert.ok(capabilities.includes(c), c);
    assert.equal(html.getElementsByTagName('title')[0]?.textContent, 'scan & text.pdf');
    const body = children(html, 'body')[0]!;
    const pages = classed(body, 'div', 'ocr_page');
    assert.deepEqual(
      pages.map((p) => p.getAttribute('title')),
      [
        'bbox 0 0 2550 3300; ppageno 0; scan_res 300 300',
        'bbox 0 0 2550 3300; ppageno 1; scan_res 300 300',
        'bbox 0 0 2550 3300; ppageno 2; scan_res 300 300',
      ],
    );
    const ids = new Set<string>();
    const stored = [scanned, textLayer, failed];
    pages.forEach((page, i) => {
      const pageBox = hocrBox(page);
      const words: string[] = [];
      for (const carea of classed(page, 'div', 'ocr_carea')) {
        inside(hocrBox(carea), pageBox, 'carea in page');
        for (const par of classed(carea, 'p', 'ocr_par')) {
          inside(hocrBox(par), hocrBox(carea), 'par in carea');
          for (const line of classed(par, 'span', 'ocr_line')) {
            inside(hocrBox(line), hocrBox(par), 'line in par');
            for (const word of classed(line, 'span', 'ocrx_word')) {
              inside(hocrBox(word), hocrBox(line), `word ${word.textContent} in line`);
              const conf = /x_wconf (\d+)/.exec(word.getAttribute('title') ?? '');
              assert.ok(conf && Number(conf[1]) >= 0 && Number(conf[1]) <= 100, 'x_wconf 0–100');
              words.push(word.textContent ?? '');
            }
          }
        }
      }
      for (const el of Array.from(page.getElementsByTagName('*'))) {
        const id = el.getAttribute('id')!;
        assert.ok(!ids.has(id), `unique id ${id}`);
        ids.add(id);
      }
      assert.deepEqual(
        words,
        (stored[i]!.words ?? []).map((w) => w.text),
        `page ${i + 1}: every word, in order, as stored`,
      );
    });
    assert.equal(classed(pages[2]!, 'div', 'ocr_carea').length, 0, 'the failed page is there, empty');
    // The scan's words are where tesseract found them: the first one's box, to the pixel.
    const first = tsvRows(native).rows.find((r) => r.level === 5)!;
    const firstWord = pages[0]!.getElementsByTagName('span')[1]!;
    assert.equal(firstWord.getAttribute('class'), 'ocrx_word');
    assert.deepEqual(hocrBox(firstWord), first.box);
  });

  it('ALTO v4: Description in pixels, Page/PrintSpace/ComposedBlock/TextBlock/TextLine/String with SP, WC 0–1', () => {
    const dom = parseXml(render(alto, doc, [scanned, textLayer, failed]));
    const root = dom.documentElement!;
    assert.equal(root.localName, 'alto');
    assert.equal(root.namespaceURI, ALTO_NAMESPACE);
    const description = children(root, 'Description')[0]!;
    assert.equal(children(description, 'MeasurementUnit')[0]?.textContent, 'pixel');
    const pages = children(children(root, 'Layout')[0]!, 'Page');
    assert.deepEqual(
      pages.map((p) => ['ID', 'PHYSICAL_IMG_NR', 'WIDTH', 'HEIGHT'].map((a) => p.getAttribute(a))),
      [
        ['page_1', '1', '2550', '3300'],
        ['page_2', '2', '2550', '3300'],
        ['page_3', '3', '2550', '3300'],
      ],
    );
    assert.match(pages[2]!.getAttribute('QUALITY_DETAIL') ?? '', /PAGE_TIMEOUT/);
    const stored = [scanned, textLayer, failed];
    pages.forEach((page, i) => {
      const pageBox = { x0: 0, y0: 0, x1: Number(page.getAttribute('WIDTH')), y1: Number(page.getAttribute('HEIGHT')) };
      const space = children(page, 'PrintSpace');
      assert.equal(space.length, 1);
      const contents: string[] = [];
      for (const composed of children(space[0]!, 'ComposedBlock')) {
        inside(altoBox(composed), pageBox, 'block in page');
        for (const block of children(composed, 'TextBlock')) {
          inside(altoBox(block), altoBox(composed), 'TextBlock in ComposedBlock');
          for (const line of children(block, 'TextLine')) {
            inside(altoBox(line), altoBox(block), 'TextLine in TextBlock');
            const strings = children(line, 'String');
            assert.equal(children(line, 'SP').length, strings.length - 1, 'an SP between words');
            const kinds = Array.from(line.childNodes)
              .filter((n) => n.nodeType === 1)
              .map((n) => (n as Element).localName);
            assert.deepEqual(
              kinds,
              strings.flatMap((_, k) => (k === 0 ? ['String'] : ['SP', 'String'])),
            );
            for (const s of strings) {
              inside(altoBox(s), altoBox(line), `String ${s.getAttribute('CONTENT')} in TextLine`);
              const wc = Number(s.getAttribute('WC'));
              assert.ok(wc >= 0 && wc <= 1, `WC ${wc} in 0–1`);
              contents.push(s.getAttribute('CONTENT')!);
            }
          }
        }
      }
      assert.deepEqual(
        contents,
        (stored[i]!.words ?? []).map((w) => w.text),
        `page ${i + 1}: CONTENT as stored`,
      );
    });
  });

  it('readTsv keeps tesseract’s blocks, paragraphs and lines, without blank words or what holds only those', () => {
    const rows = [
      ['1', '1', '0', '0', '0', '0', '0', '0', '500', '400', '-1', ''],
      ['2', '1', '1', '0', '0', '0', '10', '10', '300', '60', '-1', ''],
      ['3', '1', '1', '1', '0', '0', '10', '10', '300', '60', '-1', ''],
      ['4', '1', '1', '1', '1', '0', '10', '10', '200', '20', '-1', ''],
      ['5', '1', '1', '1', '1', '1', '10', '10', '50', '20', '91.456', 'Hello'],
      // Wider than its line's box: the line grows to hold it.
      ['5', '1', '1', '1', '1', '2', '70', '12', '160', '19', '88', 'world'],
      ['4', '1', '1', '1', '2', '0', '10', '40', '100', '20', '-1', ''],
      ['5', '1', '1', '1', '2', '1', '10', '40', '100', '20', '80', ' '],
      ['2', '1', '2', '0', '0', '0', '10', '100', '300', '30', '-1', ''],
      ['3', '1', '2', '1', '0', '0', '10', '100', '300', '30', '-1', ''],
      ['4', '1', '2', '1', '1', '0', '10', '100', '300', '30', '-1', ''],
      ['5', '1', '2', '1', '1', '1', '10', '100', '90', '30', '70', 'next'],
    ];
    const { words, layout } = readTsv(rows.map((r) => r.join('\t')).join('\n'));
    assert.deepEqual(
      words.map((w) => [w.text, w.line, w.confidence]),
      [
        ['Hello', 0, 91.46],
        ['world', 0, 88],
        ['next', 1, 70],
      ],
    );
    assert.deepEqual(layout, {
      blocks: [{ bbox: { x0: 10, y0: 10, x1: 310, y1: 70 } }, { bbox: { x0: 10, y0: 100, x1: 310, y1: 130 } }],
      paragraphs: [
        { bbox: { x0: 10, y0: 10, x1: 310, y1: 70 }, block: 0 },
        { bbox: { x0: 10, y0: 100, x1: 310, y1: 130 }, block: 1 },
      ],
      lines: [
        { bbox: { x0: 10, y0: 10, x1: 230, y1: 31 }, paragraph: 0 },
        { bbox: { x0: 10, y0: 100, x1: 310, y1: 130 }, paragraph: 1 },
      ],
      image: null,
    });
  });

  it('a page turned to be read keeps its layout in the page as displayed: the image turned back, boxes like its words', () => {
    const read = readTsv(native);
    const image = { width: 2550, height: 3300, dpi: SCAN_DPI };
    const layout = toPageLayout({ text: '', confidence: 0, ...read }, image, 90);
    assert.deepEqual(layout.image, { width: 3300, height: 2550, dpi: SCAN_DPI });
    assert.deepEqual(layout.lines[0]!.bbox, toPageBox(read.layout.lines[0]!.bbox, image, 90));
    const words = read.words.map((w) => ({ ...w, bbox: toPageBox(w.bbox, image, 90) }));
    const page: StoredPage = { ...scanned, width: 792, height: 612, words, layout };
    const rows = tsvRows(render(tsv, doc, [page])).rows;
    assert.deepEqual(rows[0]!.box, { x0: 0, y0: 0, x1: 3300, y1: 2550 });
    for (const r of rows) inside(r.box, rows[0]!.box, 'inside the page as displayed');
  });

  it('pages stored before layouts (words alone, text-layer words without lines) still make every format', () => {
    const old: StoredPage = { ...textLayer, layout: null, words: textLayer.words!.map(({ line: _, ...w }) => w) };
    const dom = parseXml(render(hocr, doc, [old]));
    const lines = Array.from(dom.getElementsByTagName('span')).filter((s) => s.getAttribute('class') === 'ocr_line');
    assert.deepEqual(
      lines.map((l) => l.textContent),
      ['Fish & Chips', '<b> "quoted" it\'s', 'Next paragraph'],
      'the words regrouped into their lines',
    );
    assert.equal(tsvRows(render(tsv, doc, [old])).rows.filter((r) => r.level === 5).length, old.words!.length);
  });

  describe('against Folio’s own engine', () => {
    let engine: TesseractEngine;
    before(() => {
      engine = new TesseractEngine({ workers: 1 });
    });
    after(() => engine.close());

    it('TSV of the scan read by tesseract.js: the same columns, row structure and words as the native CLI’s', async () => {
      const image = await readFile(SCAN);
      const read = await engine.recognize(image, { languages: ['eng'], dpi: SCAN_DPI, deskew: false });
      const size = { width: 2550, height: 3300, dpi: SCAN_DPI };
      const page: StoredPage = {
        number: 1,
        status: 'done',
        width: 612,
        height: 792,
        words: read.words.map((w) => ({ ...w, bbox: toPageBox(w.bbox, size, 0) })),
        layout: toPageLayout(read, size, 0),
        renderDpi: SCAN_DPI,
        errorCode: null,
      };
      const ours = tsvRows(render(tsv, doc, [page]));
      const theirs = tsvRows(native);
      assert.deepEqual(ours.header, theirs.header);
      assertTsvStructure(ours.rows);
      const levels = (rows: TsvRow[]) => [1, 2, 3, 4, 5].map((l) => rows.filter((r) => r.level === l).length);
      const [o, t] = [levels(ours.rows), levels(theirs.rows)];
      assert.deepEqual(o.slice(0, 1), t.slice(0, 1), 'one page row');
      // The engines may split a region differently; lines and words within 10 %.
      for (const l of [3, 4]) assert.ok(Math.abs(o[l]! - t[l]!) <= 0.1 * t[l]!, `level ${l + 1}: ${o[l]} vs ${t[l]}`);
      // Nearly every word of tesseract's is found by Folio at the same place with the same text.
      const theirWords = theirs.rows.filter((r) => r.level === 5);
      const matched = theirWords.filter((tw) =>
        ours.rows.some(
          (ow) =>
            ow.level === 5 &&
            ow.text === tw.text &&
            Math.abs(ow.box.x0 - tw.box.x0) <= 3 &&
            Math.abs(ow.box.y0 - tw.box.y0) <= 3,
        ),
      );
      assert.ok(matched.length >= 0.9 * theirWords.length, `${matched.length} of ${theirWords.length} words match`);
    });
  });
});
