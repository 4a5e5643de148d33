import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { looksLikePdf } from '../../../src/documents/upload.js';
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
