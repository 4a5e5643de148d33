/**
 * A stored page result as the output formats walk it: blocks → paragraphs → lines → words, every box in
 * whole pixels of the page image (origin top-left), from the words and layout the page activity stored in
 * PDF points. Pure.
 */
import type { Box, PageLayout, Word } from '../contracts.js';
import { layoutOfWords } from './layout.js';

/**
 * The resolution of pages that have no image — text-layer pages, and pages that were never read — in the
 * output formats: their boxes are the pixels of the page drawn at this many dots per inch (OCR_DPI's default).
 */
export const NOMINAL_DPI = 300;

/** What the renderers need of one row of job_pages. */
export interface StoredPage {
  /** The page number in the PDF, from 1. */
  number: number;
  /** `done` pages have words; any other (failed, skipped, …) is rendered as an empty page. */
  status: string;
  /** Size in PDF points as displayed, from inspection; null when unknown. */
  width: number | null;
  height: number | null;
  words: Word[] | null;
  layout: PageLayout | null;
  /** The whole-dpi render resolution of OCR pages, for rows stored before layouts. */
  renderDpi: number | null;
  /** Why the page has no result (failed pages). */
  errorCode: string | null;
}

export interface PixelWord {
  text: string;
  bbox: Box;
  /** 0–100. */
  confidence: number;
}
export interface PixelLine {
  bbox: Box;
  words: PixelWord[];
}
export interface PixelParagraph {
  bbox: Box;
  lines: PixelLine[];
}
export interface PixelBlock {
  bbox: Box;
  paragraphs: PixelParagraph[];
}

/** One page in pixels. */
export interface PixelPage {
  number: number;
  /** Size of the page image in pixels. */
  width: number;
  height: number;
  dpi: number;
  /** Whether the boxes come from an image that was read (OCR), or the page drawn at NOMINAL_DPI. */
  scanned: boolean;
  blocks: PixelBlock[];
  /** Set on pages with no result: why. */
  missing: string | null;
}

/** The page's tree in pixels. A page that is not done is an empty page of its size. */
export function pixelPage(page: StoredPage): PixelPage {
  const stored = page.status === 'done' ? page.layout : null;
  const dpi = stored?.image?.dpi ?? page.renderDpi ?? NOMINAL_DPI;
  const scale = dpi / 72;
  const words = page.status === 'done' ? (page.words ?? []) : [];
  const width = stored?.image?.width ?? Math.round((page.width ?? 0) * scale);
  const height = stored?.image?.height ?? Math.round((page.height ?? 0) * scale);
  const toPixels = (b: Box): Box => ({
    x0: clamp(Math.round(b.x0 * scale), width),
    y0: clamp(Math.round(b.y0 * scale), height),
    x1: clamp(Math.round(b.x1 * scale), width),
    y1: clamp(Math.round(b.y1 * scale), height),
  });
  const out: PixelPage = {
    number: page.number,
    width,
    height,
    dpi,
    scanned: Boolean(stored?.image),
    blocks: [],
    missing: page.status === 'done' ? null : (page.errorCode ?? page.status),
  };
  if (words.length === 0) return out;
  // A layout is used as stored when every word names one of its lines; else (rows from before layouts) the
  // words are grouped into lines and paragraphs here.
  const consistent = stored !== null && words.every((w) => w.line !== undefined && stored.lines[w.line] !== undefined);
  const { words: placed, layout } = consistent ? { words, layout: stored } : layoutOfWords(words);
  const blocks = layout.blocks.map((b) => ({ bbox: toPixels(b.bbox), paragraphs: [] as PixelParagraph[] }));
  const paragraphs = layout.paragraphs.map((p) => ({
    bbox: toPixels(p.bbox),
    lines: [] as PixelLine[],
    block: p.block,
  }));
  const lines = layout.lines.map((l) => ({ bbox: toPixels(l.bbox), words: [] as PixelWord[], paragraph: l.paragraph }));
  for (const w of placed) {
    lines[w.line!]!.words.push({ text: w.text, bbox: toPixels(w.bbox), confidence: w.confidence });
  }
  // Children in reading order under their parents; containers left empty are dropped.
  for (const line of lines) {
    if (line.words.length > 0) paragraphs[line.paragraph]?.lines.push({ bbox: line.bbox, words: line.words });
  }
  for (const paragraph of paragraphs) {
    if (paragraph.lines.length > 0)
      blocks[paragraph.block]?.paragraphs.push({ bbox: paragraph.bbox, lines: paragraph.lines });
  }
  out.blocks = blocks.filter((b) => b.paragraphs.length > 0);
  return out;
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), Math.max(max, 0));
}

/** Text safe in XML 1.0 character data and attribute values: markup characters escaped, characters XML forbids left out. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** What a document's header needs to say. */
export interface OutputDocument {
  /** The uploaded file's name, if it had one. */
  filename: string | null;
  /** Pages the result holds, one per selected page. */
  pageCount: number;
}

/**
 * An output format, written page by page so a long document's result is streamed rather than built whole:
 * `head`, then `page` for each page in order, then `tail`.
 */
export interface OutputFormat {
  contentType: string;
  /** The file name extension, with its dot. */
  extension: string;
  head(doc: OutputDocument): string;
  page(page: StoredPage): string;
  tail(doc: OutputDocument): string;
}
