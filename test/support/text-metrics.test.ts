import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { characterErrorRate, normalizeText, wordRecall } from './text-metrics.js';

describe('normalizeText', () => {
  it('applies NFKC and collapses every kind of whitespace', () => {
    assert.equal(normalizeText('  \uFB01ne\u00A0\uFF21\t\n\n  x²  '), 'fine A x2');
  });

  it('turns blank text into an empty string', () => {
    assert.equal(normalizeText(' \n\t\u3000'), '');
  });
});

describe('characterErrorRate', () => {
  it('is 0 for texts that differ only in whitespace and compatibility forms', () => {
    assert.equal(characterErrorRate('of\uFB01ce  hours\n', 'office hours'), 0);
  });

  it('counts substitutions, insertions and deletions against the reference length', () => {
    assert.equal(characterErrorRate('sitting', 'kitten'), 3 / 6);
    assert.equal(characterErrorRate('kitten', 'sitting'), 3 / 7);
    assert.equal(characterErrorRate('', 'abcd'), 1);
    assert.equal(characterErrorRate('abcdefgh', 'abcd'), 1);
  });

  it('counts an astral character as one code point', () => {
    assert.equal(characterErrorRate('a\u{1F600}b', 'ab'), 1 / 2);
    assert.equal(characterErrorRate('a\u{1F600}b', 'a\u{1F601}b'), 1 / 3);
  });

  it('handles an empty reference', () => {
    assert.equal(characterErrorRate('', ' '), 0);
    assert.equal(characterErrorRate('x', ''), Infinity);
  });

  it('measures page-sized texts exactly', () => {
    const reference = 'a'.repeat(10_000);
    const hypothesis = Array.from(reference, (char, i) => (i % 100 === 7 ? 'b' : char)).join('');
    assert.equal(characterErrorRate(hypothesis, reference), 100 / 10_000);
  });
});

describe('wordRecall', () => {
  it('ignores word order but counts repeats', () => {
    assert.equal(wordRecall('hat the cat', 'the cat the hat'), 3 / 4);
    assert.equal(wordRecall('the hat the cat the', 'the cat the hat'), 1);
  });

  it('keeps case and punctuation', () => {
    assert.equal(wordRecall('The end', 'the end.'), 0);
  });

  it('is 1 for an empty reference and 0 for an empty hypothesis', () => {
    assert.equal(wordRecall('anything', '  '), 1);
    assert.equal(wordRecall('', 'some words'), 0);
  });
});
