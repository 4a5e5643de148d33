/**
 * Tesseract's TSV: a header row, then per page a level-1 row for the page, level 2 for each block, 3 for
 * each paragraph, 4 for each line and 5 for each word, with tesseract's columns (block, paragraph, line and
 * word numbered from 1 within their parent; boxes in pixels of the page image; conf -1 except on words).
 * page_num is the page's number in the PDF.
 */
import type { Box } from '../contracts.js';
import { pixelPage, type OutputFormat, type StoredPage } from './page-tree.js';

export const TSV_COLUMNS = [
  'level',
  'page_num',
  'block_num',
  'par_num',
  'line_num',
  'word_num',
  'left',
  'top',
  'width',
  'height',
  'conf',
  'text',
] as const;

function row(numbers: number[], b: Box, conf: string, text: string): string {
  return `${numbers.join('\t')}\t${b.x0}\t${b.y0}\t${b.x1 - b.x0}\t${b.y1 - b.y0}\t${conf}\t${text}\n`;
}

export const tsv: OutputFormat = {
  contentType: 'text/tab-separated-values; charset=utf-8',
  extension: '.tsv',

  head(): string {
    return `${TSV_COLUMNS.join('\t')}\n`;
  },

  page(stored: StoredPage): string {
    const page = pixelPage(stored);
    const n = page.number;
    let out = row([1, n, 0, 0, 0, 0], { x0: 0, y0: 0, x1: page.width, y1: page.height }, '-1', '');
    page.blocks.forEach((block, b) => {
      out += row([2, n, b + 1, 0, 0, 0], block.bbox, '-1', '');
      block.paragraphs.forEach((paragraph, p) => {
        out += row([3, n, b + 1, p + 1, 0, 0], paragraph.bbox, '-1', '');
        paragraph.lines.forEach((line, l) => {
          out += row([4, n, b + 1, p + 1, l + 1, 0], line.bbox, '-1', '');
          line.words.forEach((word, w) => {
            // A tab or line break inside a word would break the columns.
            const text = word.text.replace(/[\t\r\n]/g, ' ');
            out += row([5, n, b + 1, p + 1, l + 1, w + 1], word.bbox, word.confidence.toFixed(6), text);
          });
        });
      });
    });
    return out;
  },

  tail(): string {
    return '';
  },
};
