import fs from 'node:fs';
import path from 'node:path';
import { corpusDir } from './harness.js';

/** One entry of ../shared/corpus/manifest.json. */
export interface CorpusEntry {
  file: string;
  category: string;
  pages: number | null;
  encrypted: boolean | null;
  requiresPassword?: boolean;
  password?: string;
  hasTextLayer?: boolean;
  groundTruth: string | null;
  groundTruthQuality?: string;
  originalImage?: string;
  expected: string;
  tags: string[];
  hasPdfHeader: boolean;
  bytes: number;
}

export function loadManifest(): CorpusEntry[] {
  return JSON.parse(fs.readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8')) as CorpusEntry[];
}

export function corpusPath(file: string): string {
  return path.join(corpusDir, file);
}

/** The outcome class of an `expected` value: ocr, text-layer, reject or partial. */
export function expectedKind(expected: string): 'ocr' | 'text-layer' | 'reject' | 'partial' {
  if (expected === 'ocr' || expected === 'text-layer') return expected;
  if (expected.startsWith('reject:')) return 'reject';
  if (expected.startsWith('partial:')) return 'partial';
  throw new Error(`unknown expected value: ${expected}`);
}
