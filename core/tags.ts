/** Job tags: operators' labels, filtered by in GET /v1/jobs (?tag=a&tag=b: every one must match) and the panel. */

/** Letters, digits and `- _ . : /`, starting with a letter or digit; stored lower-case. */
export const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}_.:/-]{0,63}$/u;
export const MAX_TAGS = 32;

/** Why a list of tags is refused, or null when it is fine. */
export function tagsProblem(tags: readonly string[]): string | null {
  const bad = tags.find((t) => !TAG_PATTERN.test(t));
  if (bad !== undefined) {
    return `tag "${bad.slice(0, 80)}" is not allowed: 1–64 letters, digits or - _ . : /, starting with a letter or digit`;
  }
  if (tags.length > MAX_TAGS) return `at most ${MAX_TAGS} tags per job (${tags.length} given)`;
  return null;
}

/**
 * Tags as given (an array, or one string separated by commas, as the panel's text field and a query
 * string send them) → trimmed, lower-cased, deduplicated, in first-seen order. Empty input is no tags.
 * Whitespace inside a tag is kept, so tagsProblem refuses it rather than splitting it silently.
 */
export function parseTags(input: unknown): string[] {
  const parts = (Array.isArray(input) ? input : [input]).flatMap((v) =>
    typeof v === 'string' ? v.split(',') : v === null || v === undefined ? [] : [String(v)],
  );
  return [...new Set(parts.map((t) => t.trim().toLowerCase()).filter((t) => t !== ''))];
}
