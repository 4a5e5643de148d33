import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runOrder, type SizedPage } from '../../core/page-plan.js';

const letter = (number: number): SizedPage => ({ number, width: 612, height: 792 });
const a4 = (number: number): SizedPage => ({ number, width: 595.28, height: 841.89 });

describe('runOrder', () => {
  it('has no order of its own for pages of one size: page order, and no second list in the history', () => {
    assert.equal(runOrder([letter(1), letter(2), letter(3)]), undefined);
    assert.equal(runOrder([]), undefined);
  });

  it('does not tell letter from A4 (within a factor of 1.25 in area)', () => {
    assert.equal(runOrder([letter(1), a4(2), letter(3), a4(4)]), undefined);
  });

  it('runs the largest pages first, pages of one size in page order', () => {
    const tabloid = (number: number): SizedPage => ({ number, width: 792, height: 1224 });
    const card = (number: number): SizedPage => ({ number, width: 252, height: 144 });
    assert.deepEqual(runOrder([card(1), letter(2), tabloid(3), letter(4), card(5), tabloid(6)]), [3, 6, 2, 4, 1, 5]);
  });

  it('keeps a landscape page with its portrait size, and puts an unparsable 0 × 0 page last', () => {
    const landscape: SizedPage = { number: 1, width: 792, height: 612 };
    const broken: SizedPage = { number: 2, width: 0, height: 0 };
    assert.deepEqual(runOrder([landscape, broken, letter(3)]), [1, 3, 2]);
  });
});
