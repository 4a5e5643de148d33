/**
 * Every relative link in README.md and docs/*.md leads somewhere: the file exists, and a `#anchor` names a
 * heading of the file it points into (GitHub's anchors: lower-cased, punctuation dropped, spaces as hyphens,
 * a repeated heading suffixed -1, -2, …). Pure and fast: it reads the Markdown only.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve('.');
const files = [
  'README.md',
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown without its fenced code blocks and inline code spans, where a `](…)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading's text. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const markdown = fs.readFileSync(path.join(root, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(text ?? '');
    const n = seen.get(base) ?? 0;
    anchors.add(n === 0 ? base : `${base}-${n}`);
    seen.set(base, n + 1);
  }
  return anchors;
}

describe('links in README.md and docs/', () => {
  for (const file of files) {
    it(`${file}: every relative link points to a file and heading that exist`, () => {
      const broken: string[] = [];
      for (const [, target] of prose(fs.readFileSync(path.join(root, file), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, mailto:, …
        const [linked = '', anchor] = target.split('#');
        const into = linked === '' ? file : path.relative(root, path.resolve(root, path.dirname(file), linked));
        if (!fs.existsSync(path.join(root, into))) {
          broken.push(`${target} (no file ${into})`);
          continue;
        }
        if (anchor !== undefined && into.endsWith('.md') && !anchorsOf(into).has(anchor)) {
          broken.push(`${target} (no heading #${anchor} in ${into})`);
        }
      }
      assert.deepEqual(broken, [], `${file} has broken links`);
    });
  }
});
