import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { loadManifest, corpusPath } from '../test/support/corpus.js';
import { characterErrorRate, normalizeText } from '../test/support/text-metrics.js';

export const run = promisify(execFile);

/** Min and median of repeated measurements, with every run kept. */
export interface Summary {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export function summary(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)!, runs: values };
}

/** The machine the figures were taken on. */
export function machine() {
  const load = os.loadavg();
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: load.map((l) => Math.round(l * 100) / 100),
  };
}

/** The commit a checkout is at, for the results file. */
export function gitHead(dir: string): string {
  return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
}

/** Resident set size of a process, in MB: now, and the kernel's high-water mark since it started. */
export function rssMb(pid: number): { now: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** What the bench compares against, from Debian: installed with apt-get when missing (the bench runs as root). */
const DEBIAN_PACKAGES = ['ocrmypdf', 'tesseract-ocr', 'tesseract-ocr-eng', 'poppler-utils'];

export function ensureDebianPackages(log: (line: string) => void): Record<string, string> {
  const installed = (pkg: string) => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).includes('ok installed');
    } catch {
      return false;
    }
  };
  const missing = DEBIAN_PACKAGES.filter((pkg) => !installed(pkg));
  if (missing.length > 0) {
    log(`installing ${missing.join(', ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, stdio: 'inherit' });
  }
  const version = (pkg: string) =>
    execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
  return Object.fromEntries(DEBIAN_PACKAGES.map((pkg) => [pkg, version(pkg)]));
}

/** A scanned corpus page with its ground truth. */
export interface ScannedPage {
  file: string;
  path: string;
  truth: string;
}

/** The scanned files of ../shared/corpus that have ground truth (one page each). */
export function scannedWithTruth(): ScannedPage[] {
  return loadManifest()
    .filter((e) => e.category === 'scanned' && e.groundTruth && e.expected === 'ocr' && e.pages === 1)
    .map((e) => ({
      file: e.file,
      path: corpusPath(e.file),
      truth: fs.readFileSync(corpusPath(e.groundTruth!), 'utf8'),
    }));
}

/** CER over a set of pages: edit distances summed over reference lengths summed (in percent). */
export function pooledCer(pairs: { text: string; truth: string }[]): number {
  let errors = 0;
  let length = 0;
  for (const { text, truth } of pairs) {
    const refLength = Array.from(normalizeText(truth)).length;
    errors += characterErrorRate(text, truth) * refLength;
    length += refLength;
  }
  return (100 * errors) / length;
}

/** Runs `jobs` with at most `lanes` at a time, in order. */
export async function inLanes<T>(items: T[], lanes: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, items.length) }, async () => {
      while (next < items.length) await job(items[next++]!);
    }),
  );
}
