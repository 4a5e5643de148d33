import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Models that are not reading languages (orientation and script detection). */
const NOT_LANGUAGES = new Set(['osd']);

/** Which model folder of the @tesseract.js-data packages to load. */
export type PackagedModel = 'best_int' | 'default';

const PACKAGE_FOLDERS: Record<PackagedModel, string> = { best_int: '4.0.0_best_int', default: '4.0.0' };

/** Where the models come from: the npm packages (default) or an operator's folder of traineddata files. */
export interface ModelSource {
  /** The @tesseract.js-data folder to read; ignored when `tessdataDir` is set. */
  model?: PackagedModel;
  /** A folder of `<code>.traineddata` or `<code>.traineddata.gz` files (OCR_TESSDATA_DIR). */
  tessdataDir?: string;
}

const MODEL_FILE = /^([A-Za-z0-9_]+)\.traineddata(\.gz)?$/;

/** The folder holding every @tesseract.js-data/<code> package; undefined when none is installed. */
export function packageScope(): string | undefined {
  try {
    return path.dirname(path.dirname(require.resolve('@tesseract.js-data/eng/package.json')));
  } catch {
    return undefined;
  }
}

/**
 * Language codes whose tesseract model is installed: as an npm package (@tesseract.js-data/<code>), or as a
 * file in the operator's tessdata folder. Read from the file system only: no model is loaded, so the API
 * can validate requests cheaply.
 */
export function installedLanguages(source: ModelSource = {}): string[] {
  if (source.tessdataDir !== undefined) {
    const codes = fs
      .readdirSync(source.tessdataDir)
      .map((name) => MODEL_FILE.exec(name)?.[1])
      .filter((code): code is string => code !== undefined && !NOT_LANGUAGES.has(code));
    return [...new Set(codes)].sort();
  }
  const scope = packageScope();
  if (scope === undefined) return [];
  const folder = PACKAGE_FOLDERS[source.model ?? 'best_int'];
  return fs
    .readdirSync(scope, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NOT_LANGUAGES.has(d.name))
    .map((d) => d.name)
    .filter((code) => fs.existsSync(path.join(scope, code, folder, `${code}.traineddata.gz`)))
    .sort();
}

/** The model file of one language; in a tessdata folder an uncompressed file wins over a gzipped one. */
export function modelFile(code: string, source: ModelSource = {}): { file: string; gzip: boolean } {
  if (source.tessdataDir !== undefined) {
    const plain = path.join(source.tessdataDir, `${code}.traineddata`);
    if (fs.existsSync(plain)) return { file: plain, gzip: false };
    return { file: `${plain}.gz`, gzip: true };
  }
  const scope = packageScope() ?? '';
  const folder = PACKAGE_FOLDERS[source.model ?? 'best_int'];
  return { file: path.join(scope, code, folder, `${code}.traineddata.gz`), gzip: true };
}

/** A reading language: tesseract's code, its English name and the script tesseract's OSD reports for it. */
export interface LanguageInfo {
  code: string;
  name: string;
  /** The script as tesseract's orientation and script detection (OSD) names it: Latin, Hangul, Han, Cyrillic, … */
  script: string;
}

/**
 * Tesseract's languages by code, with the script OSD names for their text. A code missing here is still
 * readable when its model is installed; it just has no name or script (and `languages=auto` never picks it).
 */
const CATALOGUE: Record<string, [name: string, script: string]> = {
  afr: ['Afrikaans', 'Latin'],
  ara: ['Arabic', 'Arabic'],
  aze: ['Azerbaijani', 'Latin'],
  bel: ['Belarusian', 'Cyrillic'],
  ben: ['Bengali', 'Bengali'],
  bul: ['Bulgarian', 'Cyrillic'],
  cat: ['Catalan', 'Latin'],
  ces: ['Czech', 'Latin'],
  chi_sim: ['Chinese (simplified)', 'Han'],
  chi_tra: ['Chinese (traditional)', 'Han'],
  dan: ['Danish', 'Latin'],
  deu: ['German', 'Latin'],
  ell: ['Greek', 'Greek'],
  eng: ['English', 'Latin'],
  est: ['Estonian', 'Latin'],
  fas: ['Persian', 'Arabic'],
  fin: ['Finnish', 'Latin'],
  fra: ['French', 'Latin'],
  guj: ['Gujarati', 'Gujarati'],
  heb: ['Hebrew', 'Hebrew'],
  hin: ['Hindi', 'Devanagari'],
  hrv: ['Croatian', 'Latin'],
  hun: ['Hungarian', 'Latin'],
  ind: ['Indonesian', 'Latin'],
  ita: ['Italian', 'Latin'],
  jpn: ['Japanese', 'Japanese'],
  kan: ['Kannada', 'Kannada'],
  kat: ['Georgian', 'Georgian'],
  kaz: ['Kazakh', 'Cyrillic'],
  khm: ['Khmer', 'Khmer'],
  kor: ['Korean', 'Hangul'],
  lav: ['Latvian', 'Latin'],
  lit: ['Lithuanian', 'Latin'],
  mal: ['Malayalam', 'Malayalam'],
  mar: ['Marathi', 'Devanagari'],
  mkd: ['Macedonian', 'Cyrillic'],
  msa: ['Malay', 'Latin'],
  nld: ['Dutch', 'Latin'],
  nor: ['Norwegian', 'Latin'],
  pol: ['Polish', 'Latin'],
  por: ['Portuguese', 'Latin'],
  ron: ['Romanian', 'Latin'],
  rus: ['Russian', 'Cyrillic'],
  slk: ['Slovak', 'Latin'],
  slv: ['Slovenian', 'Latin'],
  spa: ['Spanish', 'Latin'],
  srp: ['Serbian', 'Cyrillic'],
  swe: ['Swedish', 'Latin'],
  tam: ['Tamil', 'Tamil'],
  tel: ['Telugu', 'Telugu'],
  tha: ['Thai', 'Thai'],
  tur: ['Turkish', 'Latin'],
  ukr: ['Ukrainian', 'Cyrillic'],
  urd: ['Urdu', 'Arabic'],
  vie: ['Vietnamese', 'Latin'],
};

/**
 * OSD's names for a few scripts differ from the script a language is filed under: it reports a page of Korean
 * as Hangul or as Korean (Hangul among Han), a page of Japanese as Japanese, Katakana, Hiragana or Han.
 */
const SCRIPT_ALIASES: Record<string, string[]> = {
  Korean: ['Hangul'],
  Hangul: ['Hangul'],
  Katakana: ['Japanese'],
  Hiragana: ['Japanese'],
  Japanese: ['Japanese'],
  // A page of Chinese characters may be Chinese or Japanese.
  Han: ['Han', 'Japanese'],
  Fraktur: ['Latin'],
};

/** Name and script of a language code; unknown codes keep the code as their name and an empty script. */
export function languageInfo(code: string): LanguageInfo {
  const entry = CATALOGUE[code];
  return { code, name: entry?.[0] ?? code, script: entry?.[1] ?? '' };
}

/** The languages installed languages=auto reads a page in, given the script OSD found on it. */
export interface LanguageChoice {
  languages: string[];
  /** Why the defaults were used instead of the detected script's languages; undefined when they were not. */
  fallback?: string;
}

/** Languages of one script read together at most, so that a Latin page with twenty installed languages stays fast. */
const MAX_AUTO_LANGUAGES = 3;

/** Languages a page that mixes scripts is read in at most. */
const MAX_MIXED_LANGUAGES = 4;

/**
 * Which installed languages read a page on which OSD found `script`: those of that script (the defaults
 * first, then by code; at most three), plus English when the script is not Latin and English is installed
 * (Korean, Russian or Chinese pages carry Latin words: names, numbers, product codes). No script, or a script
 * no installed language is written in: the defaults, with the reason.
 */
export function languagesForScript(
  script: string | undefined,
  installed: readonly string[],
  defaults: readonly string[],
): LanguageChoice {
  if (script === undefined || script === '') {
    return { languages: [...defaults], fallback: 'no script detected on the page; read in the default languages' };
  }
  const scripts = SCRIPT_ALIASES[script] ?? [script];
  const matching = installed
    .filter((code) => scripts.includes(languageInfo(code).script))
    .sort((a, b) => Number(defaults.includes(b)) - Number(defaults.includes(a)) || a.localeCompare(b))
    .slice(0, MAX_AUTO_LANGUAGES);
  if (matching.length === 0) {
    return {
      languages: [...defaults],
      fallback: `no installed language is written in ${script}; read in the default languages (${defaults.join('+')})`,
    };
  }
  const latin = !scripts.includes('Latin') && installed.includes('eng') ? ['eng'] : [];
  return { languages: [...matching, ...latin.filter((code) => !matching.includes(code))] };
}

/**
 * The languages to read a page again in when OSD's script (it names only the leading one) left words of
 * another script unread: the first choice, then one installed language of each other catalogued script
 * (the defaults first, then by code), at most four in all. Equal to `chosen` when nothing else is installed.
 */
export function mixedScriptLanguages(
  chosen: readonly string[],
  installed: readonly string[],
  defaults: readonly string[],
): string[] {
  const covered = new Set(chosen.map((code) => languageInfo(code).script));
  const others = new Map<string, string>();
  const ordered = [...installed].sort(
    (a, b) => Number(defaults.includes(b)) - Number(defaults.includes(a)) || a.localeCompare(b),
  );
  for (const code of ordered) {
    const { script } = languageInfo(code);
    if (script !== '' && !covered.has(script) && !others.has(script)) others.set(script, code);
  }
  return [...chosen, ...others.values()].slice(0, Math.max(chosen.length, MAX_MIXED_LANGUAGES));
}

/** The value of `languages` that picks each page's languages from the script detected on it. */
export const AUTO_LANGUAGES = 'auto';

/** The one command that installs the models of `codes` for this model source. */
export function installCommand(codes: readonly string[], source: ModelSource = {}): string {
  if (source.tessdataDir === undefined) {
    return `npm install --save-exact ${codes.map((code) => `@tesseract.js-data/${code}`).join(' ')}`;
  }
  const target =
    path.resolve(source.tessdataDir) === path.resolve('.tools', 'tessdata')
      ? ''
      : `TESSDATA_DIR=${source.tessdataDir} `;
  return `${target}bash scripts/install-languages.sh ${codes.join(' ')}`;
}

/** Where an installed model came from, as scripts/install-languages.sh recorded it in the folder's SOURCES file. */
export function modelOrigins(tessdataDir: string): Map<string, string> {
  const origins = new Map<string, string>();
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(tessdataDir, 'SOURCES'), 'utf8').split('\n');
  } catch {
    return origins;
  }
  for (const line of lines) {
    const [code, ...rest] = line.trim().split(/\s+/);
    if (code && rest.length > 0) origins.set(code, rest.join(' '));
  }
  return origins;
}
