/**
 * Page layouts (blocks, paragraphs, lines) for pages whose reader gave only words and lines: a text-layer
 * page (pdf.js knows lines, not paragraphs), and pages stored before layouts were (their words alone). Pure.
 */
import type { Box, PageLayout, Word } from '../contracts.js';

/** The smallest box around all of `boxes`; undefined for none. */
export function unionBox(boxes: Iterable<Box>): Box | undefined {
  let out: Box | undefined;
  for (const b of boxes) {
    out = out
      ? {
          x0: Math.min(out.x0, b.x0),
          y0: Math.min(out.y0, b.y0),
          x1: Math.max(out.x1, b.x1),
          y1: Math.max(out.y1, b.y1),
        }
      : { ...b };
  }
  return out;
}

/**
 * Groups a page's words into lines, paragraphs and blocks. Words keep their `line` when they have one (the
 * reader's own lines, e.g. pdf.js's line breaks); words without (rows stored before lines were) are put on
 * the previous word's line while they sit beside it, else on a new one. A paragraph ends where the gap to
 * the next line is more than `paragraphGap` of a line's height, or the next line starts above (a new
 * column); each paragraph is its own block, as no reader here tells blocks apart on such pages.
 * Returns the words renumbered (`line` an index into `layout.lines`) and the layout.
 */
export function layoutOfWords(
  words: readonly Word[],
  image: PageLayout['image'] = null,
  paragraphGap = 0.8,
): { words: Word[]; layout: PageLayout } {
  const keyed = assignLines(words);
  // Lines in the order their first words come, renumbered from 0 without gaps.
  const index = new Map<number, number>();
  const members: Word[][] = [];
  const out = keyed.map((w) => {
    let line = index.get(w.line);
    if (line === undefined) {
      line = members.length;
      index.set(w.line, line);
      members.push([]);
    }
    const word: Word = { ...w, line };
    members[line]!.push(word);
    return word;
  });
  const layout: PageLayout = { blocks: [], paragraphs: [], lines: [], image };
  let previous: Box | undefined;
  for (const lineWords of members) {
    const bbox = unionBox(lineWords.map((w) => w.bbox))!;
    if (!previous || startsParagraph(previous, bbox, paragraphGap)) {
      layout.blocks.push({ bbox: { ...bbox } });
      layout.paragraphs.push({ bbox: { ...bbox }, block: layout.blocks.length - 1 });
    }
    const paragraph = layout.paragraphs.length - 1;
    layout.lines.push({ bbox, paragraph });
    grow(layout.paragraphs[paragraph]!.bbox, bbox);
    grow(layout.blocks[layout.paragraphs[paragraph]!.block]!.bbox, bbox);
    previous = bbox;
  }
  return { words: out, layout };
}

/** Whether `next` begins a new paragraph after the line `previous`. */
function startsParagraph(previous: Box, next: Box, gapRatio: number): boolean {
  const height = Math.max(previous.y1 - previous.y0, next.y1 - next.y0, 1e-6);
  const gap = next.y0 - previous.y1;
  // Above the previous line's middle: a new column or a region placed out of order.
  if (next.y0 + (next.y1 - next.y0) / 2 < previous.y0) return true;
  return gap > gapRatio * height;
}

/** Every word with a line key: its own, else one found from the word before it. */
function assignLines(words: readonly Word[]): (Word & { line: number })[] {
  // Keys for inferred lines are kept apart from the reader's own (which are ≥ 0).
  let inferred = -1;
  let before: Word | undefined;
  let beforeLine = 0;
  return words.map((w) => {
    let line: number;
    if (w.line !== undefined) line = w.line;
    else if (before && before.line === undefined && beside(before.bbox, w.bbox)) line = beforeLine;
    else line = --inferred;
    before = w;
    beforeLine = line;
    return { ...w, line };
  });
}

/** Whether `next` continues the text line of `previous`: it overlaps it vertically by half the smaller height, to its right. */
function beside(previous: Box, next: Box): boolean {
  const overlap = Math.min(previous.y1, next.y1) - Math.max(previous.y0, next.y0);
  const smaller = Math.min(previous.y1 - previous.y0, next.y1 - next.y0);
  return overlap >= smaller / 2 && next.x0 >= previous.x0;
}

/** Widens `box` in place to enclose `other`. */
export function grow(box: Box, other: Box): void {
  box.x0 = Math.min(box.x0, other.x0);
  box.y0 = Math.min(box.y0, other.y0);
  box.x1 = Math.max(box.x1, other.x1);
  box.y1 = Math.max(box.y1, other.y1);
}

/**
 * Makes every box enclose its children's, in place: a line its words', a paragraph its lines', a block its
 * paragraphs'. A reader's boxes nearly always do already; this makes it so when rounding or a deskew did not.
 */
export function encloseChildren(words: readonly Word[], layout: PageLayout): void {
  for (const w of words) {
    const line = w.line === undefined ? undefined : layout.lines[w.line];
    if (line) grow(line.bbox, w.bbox);
  }
  for (const line of layout.lines) {
    const paragraph = layout.paragraphs[line.paragraph];
    if (paragraph) grow(paragraph.bbox, line.bbox);
  }
  for (const paragraph of layout.paragraphs) {
    const block = layout.blocks[paragraph.block];
    if (block) grow(block.bbox, paragraph.bbox);
  }
}
