/**
 * A page's text layer as pdf.js gives it, turned into reading-order text and words placed in PDF points
 * (origin top-left, after /Rotate and /UserUnit). Pure functions, run inside the pdf.js thread.
 */
import { Util, type PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { Word } from './types.js';

export type TextContent = Awaited<ReturnType<PDFPageProxy['getTextContent']>>;
type TextItem = Extract<TextContent['items'][number], { str: string }>;
type TextStyle = TextContent['styles'][string];
export type Viewport = ReturnType<PDFPageProxy['getViewport']>;

/**
 * Joins the items in content-stream order (pdf.js's reading order), breaking lines where pdf.js says so or
 * the baseline moves, and places each whitespace-separated word in viewport space: PDF points after
 * /Rotate and /UserUnit, origin top-left, numbering the words' text lines (`line`) at the same breaks. The text is returned as pdf.js gave it, for isUsableText.
 */
export function readText(content: TextContent, viewport: Viewport): { text: string; words: Word[] } {
  let text = '';
  const words: Word[] = [];
  let previous: PlacedItem | undefined;
  // The text line the next word goes on: the same breaks as the text's.
  let line = 0;
  let lineHasWords = false;
  for (const item of content.items) {
    if (!('str' in item)) continue;
    if (item.str.length > 0) {
      const placed = place(item, content.styles[item.fontName], viewport);
      if (previous && !text.endsWith('\n')) {
        // How far the baseline moved across the line direction.
        const shift = (placed.x - previous.x) * previous.nx + (placed.y - previous.y) * previous.ny;
        if (Math.abs(shift) > previous.size / 2) text += '\n';
      }
      if (text.endsWith('\n') && lineHasWords) {
        line += 1;
        lineHasWords = false;
      }
      text += item.str;
      const placedWords = splitWords(item.str, placed, line);
      lineHasWords ||= placedWords.length > 0;
      words.push(...placedWords);
      previous = placed;
    }
    if (item.hasEOL && text.length > 0 && !text.endsWith('\n')) text += '\n';
  }
  return { text, words };
}

/** A text item in viewport space. */
interface PlacedItem {
  /** Start of the baseline. */
  x: number;
  y: number;
  /** The advance of the whole item along its baseline. */
  ax: number;
  ay: number;
  /** From the baseline to the top and to the bottom of the glyphs. */
  over: { x: number; y: number };
  under: { x: number; y: number };
  /** Unit vector across the line direction, to tell a new line from the next word. */
  nx: number;
  ny: number;
  size: number;
}

function place(item: TextItem, style: TextStyle | undefined, viewport: Viewport): PlacedItem {
  const m = Util.transform(viewport.transform, item.transform) as number[];
  const [a = 0, b = 0, c = 0, d = 0, x = 0, y = 0] = m;
  const xLength = Math.hypot(a, b) || 1;
  const yLength = Math.hypot(c, d) || 1;
  const size = Math.hypot(c, d) || Math.hypot(a, b);
  // Viewport units per PDF unit (scale × /UserUnit): pdf.js gives item widths in PDF units.
  const unit = Math.hypot(viewport.transform[0] ?? 0, viewport.transform[1] ?? 0);
  // The glyphs' x and y axes in viewport space, as unit vectors; "up" is towards the top of the glyphs.
  const right = { x: a / xLength, y: b / xLength };
  const up = { x: c / yLength, y: d / yLength };
  if (style?.vertical) {
    // Vertical writing advances down the glyphs' y axis; the column is one em wide.
    const half = size / 2;
    return {
      x,
      y,
      ax: -up.x * item.height * unit,
      ay: -up.y * item.height * unit,
      over: { x: -right.x * half, y: -right.y * half },
      under: { x: right.x * half, y: right.y * half },
      nx: right.x,
      ny: right.y,
      size,
    };
  }
  const ascent = style && style.ascent > 0 ? style.ascent : 0.8;
  const descent = style && style.descent < 0 ? -style.descent : 0.2;
  return {
    x,
    y,
    ax: right.x * item.width * unit,
    ay: right.y * item.width * unit,
    over: { x: up.x * size * ascent, y: up.y * size * ascent },
    under: { x: -up.x * size * descent, y: -up.y * size * descent },
    nx: up.x,
    ny: up.y,
    size,
  };
}

/** Splits an item on whitespace (and unmapped control codes) and shares its width by character count. */
function splitWords(str: string, placed: PlacedItem, line: number): Word[] {
  const chars = Array.from(str);
  const words: Word[] = [];
  let start = -1;
  for (let i = 0; i <= chars.length; i++) {
    const char = chars[i];
    const isSpace = char === undefined || /[\s\p{Cc}]/u.test(char);
    if (!isSpace && start < 0) start = i;
    if (isSpace && start >= 0) {
      const bbox = box(placed, start / chars.length, i / chars.length);
      words.push({ text: chars.slice(start, i).join(''), bbox, confidence: 100, line });
      start = -1;
    }
  }
  return words;
}

/** The axis-aligned box around the part of an item from fraction `from` to `to` of its advance. */
function box(p: PlacedItem, from: number, to: number): Word['bbox'] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const t of [from, to]) {
    const x = p.x + p.ax * t;
    const y = p.y + p.ay * t;
    xs.push(x + p.over.x, x + p.under.x);
    ys.push(y + p.over.y, y + p.under.y);
  }
  return {
    x0: round(Math.min(...xs)),
    y0: round(Math.min(...ys)),
    x1: round(Math.max(...xs)),
    y1: round(Math.max(...ys)),
  };
}

/**
 * Text for readers: control characters stand for unmapped glyphs and become spaces (PostgreSQL also
 * refuses NUL in text), trailing spaces go.
 */
export function tidy(text: string): string {
  return text
    .replace(/[^\P{Cc}\n]/gu, ' ')
    .replace(/[ \t]+\n/g, '\n')
    .trim();
}

/** A page's size at scale 1 (after /Rotate and /UserUnit) and its /UserUnit. */

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
