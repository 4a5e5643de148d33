/**
 * What the PDF engine's tests (test/activities/adapters/pdfjs.test.ts) and the render policy's tests
 * (test/activities/page-render.test.ts) share: the render step as the page pipeline runs it, and checks on
 * its output and on the engine's refusals.
 */
import assert from 'node:assert/strict';
import { InputError, type PdfEngine, type RenderedPage } from '../../activities/adapters/types.js';
import { renderForOcr, type RenderRequest } from '../../activities/page-render.js';
import type { InputFailureCode } from '../../core/failures.js';

/** The resolution and pixel cap these tests render at (OCR_DPI, RENDER_MAX_PIXELS). */
export const DPI = 300;
export const MAX_PIXELS = 40_000_000;

/** The page activity's render step (activities/page-render.ts) on `pdf`, as the pipeline runs it. */
export function renderPage(
  pdf: PdfEngine,
  file: string,
  pageNumber: number,
  request: Omit<RenderRequest, 'hasText'>,
): Promise<RenderedPage> {
  const hasText = () =>
    pdf.extractText(file, pageNumber, { password: request.password }).then(
      (t) => t.hasAnyText,
      () => true,
    );
  return renderForOcr(pdf, file, pageNumber, { ...request, hasText });
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: InputError };

/** Settles a call into a result or an InputError; anything else fails the test. */
export async function outcome<T>(promise: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    if (error instanceof InputError) return { ok: false, error };
    throw error;
  }
}

export async function rejectsWith(promise: Promise<unknown>, code: InputFailureCode): Promise<InputError> {
  const result = await outcome(promise);
  assert.equal(result.ok, false, `expected ${code}, got a result`);
  assert.ok(!result.ok);
  assert.equal(result.error.code, code, result.error.message);
  return result.error;
}

/**
 * Checks a render's PGM header and size against the reported dimensions and the pixel cap. The floor is
 * 50 dpi of the page as drawn, so 5 dpi of a page that /UserUnit 10 enlarges.
 */
export function assertSanePgm(page: RenderedPage, pageWidthPt: number, pageHeightPt: number, minDpi = 50): void {
  const header = Buffer.from(page.pgm.subarray(0, 32)).toString('latin1');
  const match = /^P5\n(\d+) (\d+)\n255\n/.exec(header);
  assert.ok(match, `not a binary PGM header: ${JSON.stringify(header)}`);
  assert.equal(Number(match[1]), page.width);
  assert.equal(Number(match[2]), page.height);
  assert.equal(page.pgm.length, match[0].length + page.width * page.height);
  assert.ok(page.width * page.height <= MAX_PIXELS, `${page.width}×${page.height} is over the pixel cap`);
  assert.ok(page.dpi >= minDpi && page.dpi <= DPI, `dpi ${page.dpi}`);
  // The bitmap has the page's shape (after /Rotate) at the resolution reported.
  const at = `at ${page.dpi} dpi for ${pageWidthPt} × ${pageHeightPt} pt`;
  assert.ok(Math.abs(page.width - (pageWidthPt * page.dpi) / 72) <= 2, `width ${page.width} ${at}`);
  assert.ok(Math.abs(page.height - (pageHeightPt * page.dpi) / 72) <= 2, `height ${page.height} ${at}`);
}

export function hasInk(page: RenderedPage): boolean {
  const headerLength = page.pgm.length - page.width * page.height;
  return page.pgm.subarray(headerLength).some((value) => value < 128);
}
