import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { imageTypeOf } from '../../../core/document-type.js';
import { documentTypeOf, looksLikePdf } from '../../../src/documents/upload.js';
import { corpusPath, loadManifest } from '../../support/corpus.js';

describe('PDF sniffing by content', () => {
  it('agrees with the manifest on every corpus file: PDFs (even headerless) pass, non-PDFs do not', () => {
    for (const entry of loadManifest()) {
      const bytes = fs.readFileSync(corpusPath(entry.file));
      const verdict = looksLikePdf(bytes.subarray(0, 1024), bytes.subarray(-1024));
      const notPdf = entry.category === 'not-pdf';
      assert.equal(verdict, !notPdf, `${entry.file}`);
    }
  });

  it('needs the trailer when the header is missing', () => {
    assert.equal(looksLikePdf(Buffer.from('%\xe2\xe3 1 0 obj'), Buffer.from('trailer startxref 9 %%EOF')), true);
    assert.equal(looksLikePdf(Buffer.from('%\xe2\xe3 1 0 obj'), Buffer.from('no trailer here')), false);
    assert.equal(looksLikePdf(Buffer.from('GIF89a'), Buffer.from('startxref %%EOF')), false);
  });
});

describe('document typing by content', () => {
  it('types every corpus file and original image by its bytes, whatever its name', () => {
    const expected: Record<string, string | undefined> = {
      'not-pdf/ocrmypdf-crom-png-renamed.pdf': 'image/png',
      'not-pdf/tess-phototest-tif-renamed.pdf': 'image/tiff',
      'not-pdf/ocrmypdf-tagged-odt-renamed.pdf': undefined,
      'not-pdf/ocrmypdf-latin-hocr-renamed.pdf': undefined,
      'not-pdf/empty-0-bytes.pdf': undefined,
    };
    const byExtension: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', tif: 'image/tiff' };
    for (const entry of loadManifest()) {
      const bytes = fs.readFileSync(corpusPath(entry.file));
      const type = documentTypeOf(bytes.subarray(0, 1024), bytes.subarray(-1024));
      const wanted = entry.category === 'not-pdf' ? expected[entry.file] : 'application/pdf';
      assert.equal(type, wanted, entry.file);
      if (entry.originalImage) {
        const image = fs.readFileSync(corpusPath(entry.originalImage));
        assert.equal(imageTypeOf(image), byExtension[entry.originalImage.split('.').pop()!], entry.originalImage);
      }
    }
  });

  it('knows each accepted signature, big- and little-endian TIFF and BigTIFF, and WebP inside RIFF only', () => {
    const cases: [number[] | string, string | undefined][] = [
      [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png'],
      [[0xff, 0xd8, 0xff, 0xe0], 'image/jpeg'],
      ['II*\0', 'image/tiff'],
      ['MM\0*', 'image/tiff'],
      ['II+\0', 'image/tiff'],
      ['RIFF\x10\0\0\0WEBPVP8 ', 'image/webp'],
      ['RIFF\x10\0\0\0WAVEfmt ', undefined],
      ['GIF89a', undefined],
      [[0x89, 0x50, 0x4e], undefined],
      ['', undefined],
    ];
    for (const [bytes, type] of cases) {
      const head = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
      assert.equal(imageTypeOf(head), type, JSON.stringify(bytes));
    }
  });
});
