import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUsableText } from '../../../activities/adapters/text-quality.js';

describe('isUsableText', () => {
  it('accepts ordinary prose', () => {
    assert.equal(isUsableText('Trace-based Just-in-Time Type Specialization for Dynamic\nLanguages'), true);
  });

  it('accepts short real text down to three letters or digits', () => {
    assert.equal(isUsableText('Hello world'), true);
    assert.equal(isUsableText('Bug 1606566'), true);
    assert.equal(isUsableText('foobar'), true);
    assert.equal(isUsableText('l’impayé'), true);
    assert.equal(isUsableText('abc'), true);
  });

  it('rejects empty, whitespace-only and near-empty text', () => {
    assert.equal(isUsableText(''), false);
    assert.equal(isUsableText(' \n\t '), false);
    assert.equal(isUsableText('12'), false);
    assert.equal(isUsableText('a . b'), false);
  });

  it('accepts CJK text, which has no spaces', () => {
    assert.equal(isUsableText('標準 マーケットモデルは 2 次元で説明する. 「取引できない商品」がマ'), true);
  });

  it('accepts a table of contents whose dot leaders would otherwise outnumber the words', () => {
    const toc = `Table of Contents\nHeading${'.'.repeat(120)}1\nSub heading${'.'.repeat(110)}2`;
    assert.equal(isUsableText(toc), true);
  });

  it('rejects glyph codes from a TrueType font without a Unicode mapping', () => {
    // What pdf.js extracts for the word "Phone" in ocrmypdf's truetype_font_nomapping.pdf.
    assert.equal(isUsableText('"7+%-'), false);
    assert.equal(isUsableText('"7+%- "7+%- $#&! ,;:= 4+%&'), false);
  });

  it('rejects control characters from a Type 3 font without a Unicode mapping', () => {
    assert.equal(isUsableText('\u0019\u0012'), false);
    assert.equal(isUsableText('\u0002\u0003\u0004\u0005 \u0006\u0004\u0007\b abc def'), false);
  });

  it('rejects text that is mostly private-use or replacement characters', () => {
    assert.equal(isUsableText('\uE000\uE001\uE002 \uE003\uE004\uE005 abcd'), false);
    assert.equal(isUsableText('\uFFFD\uFFFD\uFFFD\uFFFD abc'), false);
  });

  it('tolerates a few unmapped characters in otherwise real text', () => {
    assert.equal(isUsableText('Overview of the Technology Acceptance Model\u0002 and its origins'), true);
    assert.equal(isUsableText('Overview\u0002of\u0002the\u0002model'), false);
  });
});
