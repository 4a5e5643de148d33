import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Models that are not reading languages (orientation and script detection). */
const NOT_LANGUAGES = new Set(['osd']);

/**
 * Language codes whose tesseract model is installed as an npm package (@tesseract.js-data/<code>).
 * Read from the file system only: no model is loaded, so the API can validate requests cheaply.
 */
export function installedLanguages(): string[] {
  let scopeDir: string;
  try {
    scopeDir = path.dirname(path.dirname(require.resolve('@tesseract.js-data/eng/package.json')));
  } catch {
    return [];
  }
  return fs
    .readdirSync(scopeDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NOT_LANGUAGES.has(d.name))
    .map((d) => d.name)
    .sort();
}

/** Where a language's model files live; the folder holds `<code>.traineddata.gz`. */
export function modelFolder(language: string, model: 'best_int' | 'default'): string {
  const pkgDir = path.dirname(require.resolve(`@tesseract.js-data/${language}/package.json`));
  const folder = model === 'best_int' ? '4.0.0_best_int' : '4.0.0';
  return path.join(pkgDir, folder);
}
