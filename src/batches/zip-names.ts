/** The names of a batch's texts in its results ZIP. */
import path from 'node:path';

/** A document's file name in the ZIP: its upload's base name with `.txt`; the position when it had none. */
export function entryName(fileName: string | null, position: number): string {
  // eslint-disable-next-line no-control-regex
  const base = path.posix.basename((fileName ?? '').replaceAll('\\', '/')).replace(/[\x00-\x1f:*?"<>|]/g, '_');
  const stem = base.replace(/\.[^.]*$/, '');
  return `${stem || `document-${position + 1}`}.txt`;
}

/** `name`, or `name (2).txt`, `(3)`, … when the archive already has it. */
export function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = name.replace(/\.txt$/, ` (${n}).txt`);
  taken.add(candidate.toLowerCase());
  return candidate;
}
