/**
 * Decides whether a page's extracted text layer is real, mapped text or the residue of a font that has no
 * Unicode mapping. pdf.js returns characters for unmapped fonts too: raw glyph ids that come out as control
 * characters (Type 3 fonts) or as a jumble of ASCII punctuation (TrueType subsets without a cmap). Such a
 * page must be OCRed even though its text layer is "non-empty".
 */

/** Fewer letters and digits than this is not worth returning instead of OCR ("Bug 1606566" has 10). */
const MIN_ALPHANUMERIC = 3;
/** Largest share of control, private-use, unassigned or replacement characters in real text. */
const MAX_UNMAPPED_SHARE = 0.1;
/** Smallest share of letters and digits among the visible characters once leader runs are collapsed. */
const MIN_ALPHANUMERIC_SHARE = 0.5;

const ALPHANUMERIC = /[\p{L}\p{N}]/u;
// Control, private use, unassigned and U+FFFD: what pdf.js emits for glyphs it cannot map.
const UNMAPPED = /[\p{Cc}\p{Co}\p{Cn}\uFFFD]/u;
const WHITESPACE = /\s/u;

/** True when `text` reads as real text rather than unmapped glyph codes. */
export function isUsableText(text: string): boolean {
  let visible = 0;
  let alphanumeric = 0;
  let unmapped = 0;
  let previous = '';
  for (const char of text) {
    if (WHITESPACE.test(char)) {
      previous = '';
      continue;
    }
    if (ALPHANUMERIC.test(char)) {
      alphanumeric++;
      visible++;
    } else if (UNMAPPED.test(char)) {
      unmapped++;
      visible++;
    } else if (char !== previous) {
      // A run of the same punctuation (table-of-contents leaders, rules of underscores) counts once.
      visible++;
    }
    previous = char;
  }
  if (alphanumeric < MIN_ALPHANUMERIC) return false;
  return unmapped / visible <= MAX_UNMAPPED_SHARE && alphanumeric / visible >= MIN_ALPHANUMERIC_SHARE;
}
