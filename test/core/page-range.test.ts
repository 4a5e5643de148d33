import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePageRange, resolvePageRange } from '../../core/page-range.js';

function pages(spec: string, count: number): number[] | string {
  const parsed = parsePageRange(spec);
  if ('error' in parsed) return parsed.error;
  const resolved = resolvePageRange(parsed.spans, count);
  return 'error' in resolved ? resolved.error : resolved.pages;
}

describe('page ranges', () => {
  it('expands single pages, ranges and open ends, sorted and without duplicates', () => {
    assert.deepEqual(pages('7,1-3', 10), [1, 2, 3, 7]);
    assert.deepEqual(pages('8-', 10), [8, 9, 10]);
    assert.deepEqual(pages('2-4, 3-5', 10), [2, 3, 4, 5]);
    assert.deepEqual(pages('1-100', 3), [1, 2, 3]);
  });

  it('says what is wrong with a bad selection', () => {
    assert.match(pages('0', 5) as string, /numbered from 1/);
    assert.match(pages('5-2', 9) as string, /backwards/);
    assert.match(pages('a-b', 9) as string, /not a page number/);
    assert.match(pages('1,,2', 9) as string, /no empty items/);
    assert.match(pages('9', 3) as string, /has 3 page/);
  });
});
