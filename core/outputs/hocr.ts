/**
 * hOCR 1.2 (http://kba.github.io/hocr-spec/1.2/): XHTML with one ocr_page per page, ocr_carea per block,
 * ocr_par per paragraph, ocr_line per line and ocrx_word per word, each with its `bbox` in the page image's
 * pixels; words carry `x_wconf`. The shape tesseract's own hOCR has.
 */
import type { Box } from '../contracts.js';
import { pixelPage, xmlText, type OutputDocument, type OutputFormat, type StoredPage } from './page-tree.js';

const CAPABILITIES = 'ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf';

function bbox(b: Box): string {
  return `bbox ${b.x0} ${b.y0} ${b.x1} ${b.y1}`;
}

export const hocr: OutputFormat = {
  contentType: 'text/vnd.hocr+html; charset=utf-8',
  extension: '.hocr',

  head(doc: OutputDocument): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
      '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
      '<html xmlns="http://www.w3.org/1999/xhtml">\n' +
      ' <head>\n' +
      `  <title>${xmlText(doc.filename ?? '')}</title>\n` +
      '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n' +
      '  <meta name="ocr-system" content="folio"/>\n' +
      `  <meta name="ocr-capabilities" content="${CAPABILITIES}"/>\n` +
      `  <meta name="ocr-number-of-pages" content="${doc.pageCount}"/>\n` +
      ' </head>\n' +
      ' <body>\n'
    );
  },

  page(stored: StoredPage): string {
    const page = pixelPage(stored);
    const n = page.number;
    // ppageno counts from 0, as tesseract writes it; scan_res is the resolution the boxes are in.
    const title = `${bbox({ x0: 0, y0: 0, x1: page.width, y1: page.height })}; ppageno ${n - 1}; scan_res ${round(page.dpi)} ${round(page.dpi)}`;
    let out = `  <div class="ocr_page" id="page_${n}" title="${title}">\n`;
    if (page.missing) out += `   <!-- page ${n} has no result: ${xmlText(page.missing).replace(/-/g, '_')} -->\n`;
    let [b, p, l, w] = [0, 0, 0, 0];
    for (const block of page.blocks) {
      out += `   <div class="ocr_carea" id="block_${n}_${++b}" title="${bbox(block.bbox)}">\n`;
      for (const paragraph of block.paragraphs) {
        out += `    <p class="ocr_par" id="par_${n}_${++p}" title="${bbox(paragraph.bbox)}">\n`;
        for (const line of paragraph.lines) {
          out += `     <span class="ocr_line" id="line_${n}_${++l}" title="${bbox(line.bbox)}">`;
          out += line.words
            .map(
              (word) =>
                `<span class="ocrx_word" id="word_${n}_${++w}" title="${bbox(word.bbox)}; x_wconf ${Math.round(word.confidence)}">${xmlText(word.text)}</span>`,
            )
            .join(' ');
          out += '</span>\n';
        }
        out += '    </p>\n';
      }
      out += '   </div>\n';
    }
    return `${out}  </div>\n`;
  },

  tail(): string {
    return ' </body>\n</html>\n';
  },
};

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
