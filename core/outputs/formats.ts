/**
 * The result formats made from stored page results, page by page. `pdf` (a searchable PDF) is not one of
 * these: it is built by the worker and stored, not rendered from the rows.
 */
import { alto } from './alto.js';
import { hocr } from './hocr.js';
import type { OutputFormat } from './page-tree.js';
import { tsv } from './tsv.js';

export const PAGE_FORMATS = { hocr, alto, tsv } as const satisfies Record<string, OutputFormat>;
export type PageFormat = keyof typeof PAGE_FORMATS;

/**
 * Every format GET /v1/jobs/{id}/result answers in: the JSON view, the plain text, the page formats, and the
 * searchable `pdf` the worker builds and stores (its own branch in JobsController.result).
 */
export const RESULT_FORMATS = ['json', 'txt', ...(Object.keys(PAGE_FORMATS) as PageFormat[]), 'pdf'] as const;
export type ResultFormat = 'json' | 'txt' | PageFormat | 'pdf';

export function isPageFormat(format: string): format is PageFormat {
  return Object.hasOwn(PAGE_FORMATS, format);
}

export type { OutputDocument, OutputFormat, StoredPage } from './page-tree.js';
