/** Job tags (core/tags.ts): how the panel's text field and the API's lists become stored tags, and what is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TAGS, parseTags, tagsProblem } from '../../core/tags.js';

describe('tags', () => {
  it('splits a comma-separated text, trims, lower-cases and dedupes in first-seen order', () => {
    assert.deepEqual(parseTags(' Urgent, batch-7 ,,urgent, Q4/2026 '), ['urgent', 'batch-7', 'q4/2026']);
    assert.deepEqual(parseTags(['A', 'b,c', '']), ['a', 'b', 'c']);
    assert.deepEqual(parseTags(''), []);
    assert.deepEqual(parseTags(undefined), []);
  });

  it('keeps whitespace inside a tag so that it is refused, never split silently', () => {
    assert.deepEqual(parseTags('no spaces'), ['no spaces']);
    assert.match(tagsProblem(parseTags('no spaces')) ?? '', /"no spaces" is not allowed/);
  });

  it('accepts letters (any script), digits and - _ . : /; refuses other characters, a leading sign and too many', () => {
    assert.equal(tagsProblem(['invoice', 'q4-2026', 'client:acme', 'scan/2', '한국어', 'v1.2_b']), null);
    for (const bad of ['-lead', 'a!b', 'x'.repeat(65), '<script>']) assert.ok(tagsProblem([bad]), bad);
    const many = Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`);
    assert.match(tagsProblem(many) ?? '', new RegExp(`at most ${MAX_TAGS}`));
  });
});
