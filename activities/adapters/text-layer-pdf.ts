/**
 * Writes the invisible text layer of a searchable PDF: a PDF of its own, one page per OCR'd page, each the
 * size of the page as displayed, holding only the page's words in text render mode 3 (neither filled nor
 * stroked) in a glyphless font. qpdf then lays each of its pages over its original page (qpdf.ts).
 *
 * Written page by page to a file: only the object offsets stay in memory, so a 1,000-page layer costs what a
 * 10-page one does. The font is tesseract's (and OCRmyPDF's former) approach: a Type0 font whose CIDs are the
 * text's UTF-16 code units, every CID drawn by the font's one blank glyph, half an em wide, and a ToUnicode
 * map that gives each CID back as itself — so search, selection and copy see the words.
 *
 * For an image upload there is no original page to lay the layer over: each page is then written with its
 * image under the words (addPage's `image`), and the file is the searchable PDF itself.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { deflateSync } from 'node:zlib';
import type { Word } from '../../core/contracts.js';
import type { PdfImage } from './types.js';

/** One OCR'd page: its size as displayed, in points, and its words with top-left boxes in those points. */
export interface TextLayerPage {
  width: number;
  height: number;
  words: Word[];
}

/** The font's resource name on every page. */
const FONT = 'FOcr';
/** An image page's image's resource name. */
const IMAGE = 'Im0';
/** Each glyph's advance, in thousandths of the font size (the CIDFont's /DW). */
const ADVANCE = 500;
/** Fixed object numbers; pages follow from FIRST_PAGE_OBJECT on, two objects each. */
const CATALOG = 1;
const PAGES = 2;
const TYPE0 = 3;
const FIRST_PAGE_OBJECT = 9;

export class TextLayerPdfWriter {
  private readonly offsets: number[] = [];
  private readonly pageObjects: number[] = [];
  private position = 0;
  private nextObject = FIRST_PAGE_OBJECT;
  private readonly out: WriteStream;

  private constructor(out: WriteStream) {
    this.out = out;
  }

  /** Opens `path` and writes the header and the font, embedding `glyphlessFont` (a TrueType file). */
  static async create(path: string, glyphlessFont: Buffer): Promise<TextLayerPdfWriter> {
    const out = createWriteStream(path);
    await once(out, 'open');
    const writer = new TextLayerPdfWriter(out);
    await writer.write(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'));
    await writer.writeFont(glyphlessFont);
    return writer;
  }

  /** Pages written so far. */
  get pageCount(): number {
    return this.pageObjects.length;
  }

  /**
   * Appends one page with the words of `page`; with `image`, the page is that image filling the page with the
   * words over it (the searchable PDF of an image upload, which has no original page to lay them over).
   */
  async addPage(page: TextLayerPage, image?: PdfImage): Promise<void> {
    const content = this.nextObject;
    const pageObject = content + 1;
    const imageObject = content + 2;
    this.nextObject += image ? 3 : 2;
    let resources = `/Font << /${FONT} ${TYPE0} 0 R >>`;
    let ops = pageContent(page);
    if (image) {
      await this.writeImage(imageObject, image);
      resources += ` /XObject << /${IMAGE} ${imageObject} 0 R >>`;
      ops = `q ${num(page.width)} 0 0 ${num(page.height)} 0 0 cm /${IMAGE} Do Q\n${ops}`;
    }
    // No qpdf pass follows an image page's content: compressed here (see writeStream).
    await this.writeStream(content, '', Buffer.from(ops, 'latin1'), image !== undefined);
    await this.writeObject(
      pageObject,
      `<< /Type /Page /Parent ${PAGES} 0 R /MediaBox [0 0 ${num(page.width)} ${num(page.height)}] ` +
        `/Resources << ${resources} >> /Contents ${content} 0 R >>`,
    );
    this.pageObjects.push(pageObject);
  }

  /** An image XObject holding `image`'s encoded data as it is. */
  private async writeImage(n: number, image: PdfImage): Promise<void> {
    const parms = image.predictor
      ? ` /DecodeParms << /Predictor 15 /Colors ${image.predictor.colors} ` +
        `/BitsPerComponent ${image.bitsPerComponent} /Columns ${image.width} >>`
      : '';
    const header =
      `<< /Type /XObject /Subtype /Image /Width ${image.width} /Height ${image.height} ` +
      `/ColorSpace /${image.colorSpace} /BitsPerComponent ${image.bitsPerComponent} ` +
      `/Filter /${image.filter}${parms} /Length ${image.data.length} >>`;
    this.begin(n);
    await this.write(Buffer.from(`${n} 0 obj\n${header}\nstream\n`, 'latin1'));
    await this.write(image.data);
    await this.write(Buffer.from('\nendstream\nendobj\n', 'latin1'));
  }

  /** Writes the page tree, the catalogue, the cross-reference table and the trailer, and closes the file. */
  async close(): Promise<void> {
    const kids = this.pageObjects.map((n) => `${n} 0 R`).join(' ');
    await this.writeObject(PAGES, `<< /Type /Pages /Kids [${kids}] /Count ${this.pageObjects.length} >>`);
    await this.writeObject(CATALOG, `<< /Type /Catalog /Pages ${PAGES} 0 R >>`);
    const xref = this.position;
    const size = this.nextObject;
    let table = `xref\n0 ${size}\n0000000000 65535 f \n`;
    for (let n = 1; n < size; n++) table += `${String(this.offsets[n] ?? 0).padStart(10, '0')} 00000 n \n`;
    table += `trailer\n<< /Size ${size} /Root ${CATALOG} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    await this.write(Buffer.from(table, 'latin1'));
    this.out.end();
    await once(this.out, 'finish');
  }

  /** Closes the file without finishing it (the activity failed or was cancelled). */
  destroy(): void {
    this.out.destroy();
  }

  private async writeFont(fontFile: Buffer): Promise<void> {
    const [cidFont, descriptor, file, cidToGid, toUnicode] = [4, 5, 6, 7, 8];
    await this.writeObject(
      TYPE0,
      `<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H ` +
        `/DescendantFonts [${cidFont} 0 R] /ToUnicode ${toUnicode} 0 R >>`,
    );
    await this.writeObject(
      cidFont,
      `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont ` +
        `/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> ` +
        `/FontDescriptor ${descriptor} 0 R /DW ${ADVANCE} /CIDToGIDMap ${cidToGid} 0 R >>`,
    );
    // Ascent 1000 and descent 0: a glyph's box runs from the baseline up one font size, which is how the
    // layer places each line (its baseline on the line box's bottom, its size the line box's height).
    await this.writeObject(
      descriptor,
      `<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 /FontBBox [0 0 ${ADVANCE} 1000] ` +
        `/ItalicAngle 0 /Ascent 1000 /Descent 0 /CapHeight 1000 /StemV 80 /FontFile2 ${file} 0 R >>`,
    );
    await this.writeStream(file, `/Length1 ${fontFile.length} `, fontFile, true);
    // Every CID is drawn with glyph 1, the font's blank glyph.
    const map = Buffer.alloc(65536 * 2);
    for (let cid = 0; cid < 65536; cid++) map.writeUInt16BE(1, cid * 2);
    await this.writeStream(cidToGid, '', map, true);
    await this.writeStream(toUnicode, '', Buffer.from(IDENTITY_TO_UNICODE, 'latin1'), true);
  }

  /**
   * A stream object. Pages' contents are written as they are: qpdf re-writes each overlay page's content
   * (as a form XObject) and compresses it then, so compressing here would be work thrown away — and every
   * zlib call holds ~256 KB of native memory until the garbage collector frees it.
   */
  private async writeStream(n: number, extra: string, data: Buffer, compress = false): Promise<void> {
    const body = compress ? deflateSync(data) : data;
    const filter = compress ? ' /Filter /FlateDecode' : '';
    this.begin(n);
    await this.write(Buffer.from(`${n} 0 obj\n<< ${extra}/Length ${body.length}${filter} >>\nstream\n`, 'latin1'));
    await this.write(body);
    await this.write(Buffer.from('\nendstream\nendobj\n', 'latin1'));
  }

  private async writeObject(n: number, body: string): Promise<void> {
    this.begin(n);
    await this.write(Buffer.from(`${n} 0 obj\n${body}\nendobj\n`, 'latin1'));
  }

  private begin(n: number): void {
    this.offsets[n] = this.position;
  }

  private async write(chunk: Buffer): Promise<void> {
    this.position += chunk.length;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
}

/** A CMap giving every 2-byte code back as the UTF-16 code unit it is. */
const IDENTITY_TO_UNICODE = [
  '/CIDInit /ProcSet findresource begin',
  '12 dict begin',
  'begincmap',
  '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
  '/CMapName /Adobe-Identity-UCS def',
  '/CMapType 2 def',
  '1 begincodespacerange',
  '<0000> <FFFF>',
  'endcodespacerange',
  '1 beginbfrange',
  '<0000> <FFFF> <0000>',
  'endbfrange',
  'endcmap',
  'CMapName currentdict /CMap defineresource pop',
  'end',
  'end',
  '',
].join('\n');

/**
 * The page's content: its words line by line, each line at one font size (the line box's height) on one
 * baseline (the line box's bottom), each word started at its box's left edge and scaled horizontally (Tz) to
 * its box's width, with a space scaled to the gap before the next word of its line so extracted text keeps
 * its word breaks.
 */
export function pageContent(page: TextLayerPage): string {
  const ops: string[] = ['BT', '3 Tr'];
  for (const line of linesOf(page.words)) {
    const top = Math.min(...line.map((w) => w.bbox.y0));
    const bottom = Math.max(...line.map((w) => w.bbox.y1));
    const size = bottom - top;
    if (!(size > 0)) continue;
    const baseline = page.height - bottom;
    const unit = (size * ADVANCE) / 1000;
    ops.push(`/${FONT} ${num(size)} Tf`);
    line.forEach((word, i) => {
      const codes = utf16(word.text);
      const width = word.bbox.x1 - word.bbox.x0;
      const glyphs = codes.length / 4;
      if (glyphs === 0 || !(width > 0)) return;
      ops.push(`1 0 0 1 ${num(word.bbox.x0)} ${num(baseline)} Tm`);
      ops.push(`${num((100 * width) / (glyphs * unit))} Tz`);
      ops.push(`<${codes}> Tj`);
      // Also between boxes that touch or overlap (tesseract's sometimes do): the space is what breaks the words.
      const next = line[i + 1];
      if (next) ops.push(`${num((100 * Math.max(0, next.bbox.x0 - word.bbox.x1)) / unit)} Tz`, '<0020> Tj');
    });
  }
  ops.push('ET', '');
  return ops.join('\n');
}

/** The words grouped by text line, in reading order; a word with no line is a line of its own. */
function linesOf(words: Word[]): Word[][] {
  const lines = new Map<number | string, Word[]>();
  words.forEach((w, i) => {
    const key = w.line ?? `word-${i}`;
    const line = lines.get(key);
    if (line) line.push(w);
    else lines.set(key, [w]);
  });
  return [...lines.values()];
}

/** The text as hex UTF-16BE code units, the CIDs of the glyphless font. Whitespace inside a word is kept. */
function utf16(text: string): string {
  let hex = '';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0');
  return hex;
}

/** A number as PDF writes it: at most two decimals, no exponent. */
function num(n: number): string {
  return String(Math.round(n * 100) / 100);
}
