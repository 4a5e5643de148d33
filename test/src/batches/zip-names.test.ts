import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryName, uniqueName } from '../../../src/batches/zip-names.js';

describe('names in a batch ZIP', () => {
  it("are the upload's base name with .txt, never a path", () => {
    assert.equal(entryName('scan.pdf', 0), 'scan.txt');
    assert.equal(entryName('../../etc/passwd', 0), 'passwd.txt');
    assert.equal(entryName('C:\\scans\\Report.TIFF', 0), 'Report.txt');
    assert.equal(entryName('a:b*c?.pdf', 0), 'a_b_c_.txt');
    assert.equal(entryName(null, 4), 'document-5.txt');
    assert.equal(entryName('.pdf', 1), 'document-2.txt');
  });
  it('are unique in the archive, whatever their case', () => {
    const taken = new Set<string>();
    assert.deepEqual(
      ['a.txt', 'A.txt', 'a.txt', 'b.txt'].map((n) => uniqueName(n, taken)),
      ['a.txt', 'A (2).txt', 'a (3).txt', 'b.txt'],
    );
  });
});
