/**
 * ALTO v4 (https://www.loc.gov/standards/alto/v4/): one Page per page with its PrintSpace, a ComposedBlock
 * per block, a TextBlock per paragraph, TextLine per line and String per word (CONTENT, HPOS, VPOS, WIDTH,
 * HEIGHT, WC from 0 to 1) with an SP between words, in pixels of the page image: the shape tesseract's own
 * ALTO has.
 */
import type { Box } from '../contracts.js';
import { pixelPage, xmlText, type OutputDocument, type OutputFormat, type StoredPage } from './page-tree.js';

export const ALTO_NAMESPACE = 'http://www.loc.gov/standards/alto/ns-v4#';

function position(b: Box): string {
  return `HPOS="${b.x0}" VPOS="${b.y0}" WIDTH="${b.x1 - b.x0}" HEIGHT="${b.y1 - b.y0}"`;
}

export const alto: OutputFormat = {
  contentType: 'application/xml; charset=utf-8',
  extension: '.alto.xml',

  head(doc: OutputDocument): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<alto xmlns="${ALTO_NAMESPACE}" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      `xsi:schemaLocation="${ALTO_NAMESPACE} http://www.loc.gov/alto/v4/alto-4-4.xsd">\n` +
      ' <Description>\n' +
      '  <MeasurementUnit>pixel</MeasurementUnit>\n' +
      '  <sourceImageInformation>\n' +
      `   <fileName>${xmlText(doc.filename ?? '')}</fileName>\n` +
      '  </sourceImageInformation>\n' +
      '  <OCRProcessing ID="OCR_0">\n' +
      '   <ocrProcessingStep>\n' +
      '    <processingSoftware>\n' +
      '     <softwareName>Folio</softwareName>\n' +
      '    </processingSoftware>\n' +
      '   </ocrProcessingStep>\n' +
      '  </OCRProcessing>\n' +
      ' </Description>\n' +
      ' <Layout>\n'
    );
  },

  page(stored: StoredPage): string {
    const page = pixelPage(stored);
    const n = page.number;
    const whole = position({ x0: 0, y0: 0, x1: page.width, y1: page.height });
    const quality = page.missing ? ` QUALITY_DETAIL="not read: ${xmlText(page.missing)}"` : '';
    let out = `  <Page ID="page_${n}" PHYSICAL_IMG_NR="${n}" WIDTH="${page.width}" HEIGHT="${page.height}"${quality}>\n`;
    out += `   <PrintSpace ${whole}>\n`;
    let [b, p, l, w] = [0, 0, 0, 0];
    for (const block of page.blocks) {
      out += `    <ComposedBlock ID="cblock_${n}_${++b}" ${position(block.bbox)}>\n`;
      for (const paragraph of block.paragraphs) {
        out += `     <TextBlock ID="block_${n}_${++p}" ${position(paragraph.bbox)}>\n`;
        for (const line of paragraph.lines) {
          out += `      <TextLine ID="line_${n}_${++l}" ${position(line.bbox)}>\n`;
          line.words.forEach((word, i) => {
            const before = line.words[i - 1];
            if (before) {
              // The gap between two words on the line (0 when they touch or overlap).
              const gap = Math.max(0, word.bbox.x0 - before.bbox.x1);
              out += `       <SP WIDTH="${gap}" VPOS="${before.bbox.y0}" HPOS="${before.bbox.x1}"/>\n`;
            }
            const wc = Math.min(1, Math.max(0, Math.round(word.confidence) / 100));
            out += `       <String ID="string_${n}_${++w}" ${position(word.bbox)} WC="${wc}" CONTENT="${xmlText(word.text)}"/>\n`;
          });
          out += '      </TextLine>\n';
        }
        out += '     </TextBlock>\n';
      }
      out += '    </ComposedBlock>\n';
    }
    return `${out}   </PrintSpace>\n  </Page>\n`;
  },

  tail(): string {
    return ' </Layout>\n</alto>\n';
  },
};
