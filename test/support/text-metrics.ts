/** Unicode NFKC, every run of whitespace as one space, trimmed: the form OCR output is compared in. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
}

/**
 * Levenshtein distance between the normalised texts, counted in code points, divided by the reference
 * length. 0 when both are empty; Infinity for any text against an empty reference.
 */
export function characterErrorRate(hypothesis: string, reference: string): number {
  const hyp = Array.from(normalizeText(hypothesis), (char) => char.codePointAt(0) ?? 0);
  const ref = Array.from(normalizeText(reference), (char) => char.codePointAt(0) ?? 0);
  if (ref.length === 0) return hyp.length === 0 ? 0 : Infinity;
  // Two rows of the edit-distance table: memory stays linear on page-sized texts.
  let previous = Int32Array.from({ length: hyp.length + 1 }, (_, j) => j);
  let current = new Int32Array(hyp.length + 1);
  for (let i = 1; i <= ref.length; i += 1) {
    current[0] = i;
    const refChar = ref[i - 1];
    for (let j = 1; j <= hyp.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (hyp[j - 1] === refChar ? 0 : 1);
      const deletion = (previous[j] ?? 0) + 1;
      const insertion = (current[j - 1] ?? 0) + 1;
      current[j] = Math.min(substitution, deletion, insertion);
    }
    [previous, current] = [current, previous];
  }
  return (previous[hyp.length] ?? 0) / ref.length;
}

/**
 * Share of the reference's words (space-separated after normalisation, case and punctuation kept) that
 * the hypothesis contains, counting repeats as a bag: order does not matter. 1 for an empty reference.
 */
export function wordRecall(hypothesis: string, reference: string): number {
  const refWords = words(reference);
  if (refWords.length === 0) return 1;
  const available = new Map<string, number>();
  for (const word of words(hypothesis)) available.set(word, (available.get(word) ?? 0) + 1);
  let found = 0;
  for (const word of refWords) {
    const count = available.get(word) ?? 0;
    if (count > 0) {
      found += 1;
      available.set(word, count - 1);
    }
  }
  return found / refWords.length;
}

function words(text: string): string[] {
  const normalized = normalizeText(text);
  return normalized === '' ? [] : normalized.split(' ');
}
