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
