/**
 * Page selections such as "1-3,7,10-": parsed where they arrive (the API) and resolved against the
 * real page count where it is known (inspect).
 */

export interface PageSpan {
  from: number;
  /** undefined for an open end ("10-"). */
  to?: number;
}

const PART = /^(\d+)(?:\s*-\s*(\d*))?$/;

/** Parses a selection; returns a message saying what to fix instead of throwing. */
export function parsePageRange(spec: string): { spans: PageSpan[] } | { error: string } {
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) {
    return { error: 'pages must be a comma-separated list such as "1-3,7" (no empty items)' };
  }
  const spans: PageSpan[] = [];
  for (const part of parts) {
    const m = PART.exec(part);
    if (!m) return { error: `pages item "${part}" is not a page number or range such as "2" or "4-9"` };
    const from = Number(m[1]);
    const hasDash = part.includes('-');
    const to = hasDash ? (m[2] ? Number(m[2]) : undefined) : from;
    if (from < 1) return { error: `pages item "${part}": pages are numbered from 1` };
    if (to !== undefined && to < from) return { error: `pages item "${part}" runs backwards` };
    spans.push({ from, to });
  }
  return { spans };
}

/** Expands spans against a document's page count: ascending, without duplicates. */
export function resolvePageRange(spans: PageSpan[], pageCount: number): { pages: number[] } | { error: string } {
  const selected = new Set<number>();
  for (const span of spans) {
    if (span.from > pageCount) {
      return { error: `page ${span.from} was requested but the document has ${pageCount} page(s)` };
    }
    const to = Math.min(span.to ?? pageCount, pageCount);
    for (let n = span.from; n <= to; n++) selected.add(n);
  }
  return { pages: [...selected].sort((a, b) => a - b) };
}

/** Whether page `n` is among the spans. */
export function spansInclude(spans: PageSpan[], n: number): boolean {
  return spans.some((s) => n >= s.from && (s.to === undefined || n <= s.to));
}

/**
 * The pages a selection picks from a document of `pageCount` pages, ascending; every page without one.
 * What inspect plans with.
 */
export function selectPages(spec: string | undefined, pageCount: number): { pages: number[] } | { error: string } {
  if (spec === undefined) return { pages: Array.from({ length: pageCount }, (_, i) => i + 1) };
  const parsed = parsePageRange(spec);
  return 'error' in parsed ? parsed : resolvePageRange(parsed.spans, pageCount);
}
