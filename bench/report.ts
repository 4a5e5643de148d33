/**
 * Prints a results file of `npm run bench` as Markdown tables against the goals, for docs/benchmarks.md:
 * `node dist/bench/report.js bench/results/bench-<time>.json`.
 */
import fs from 'node:fs';

interface Summary {
  min: number;
  median: number;
}
interface EngineFigures {
  pagesPerMinute: Summary;
  secondsPerPage: Summary;
  cerPercent: Summary;
}
interface Results {
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  profile?: { secondsPerPage: Record<string, number>; ratios: Record<string, number> };
  scanned?: {
    engines: Record<string, EngineFigures>;
    models: Record<string, string>;
    ratios: Record<string, number>;
    orchestration: { overheadPercent: Summary; outsidePageActivitiesPercent?: Summary };
    phaseSeconds?: Record<string, Record<string, number>[]>;
    pages: string[];
  };
  bornDigital?: {
    textLayerPagesPerMinute: Summary;
    ocrPagesPerMinute: Summary;
    textLayerOverOcr: number;
    textLayerActivities: { overheadPercent: number; pageActivityMs: Summary }[];
  };
  load?: {
    submission: { p50Ms: Summary; p99Ms: Summary };
    status: { requestsPerSecond: Summary };
  };
  memory?: {
    upload: { megabytes: number; apiRssGrowthMb: Summary };
    worker: {
      short: { pages: number; peakMb: number };
      long: { pages: number; peakMb: number };
      longOverShort: number;
    };
  };
}

const file = process.argv[2];
if (!file) throw new Error('usage: node dist/bench/report.js <results.json>');
const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
// A ratio of a stack that did not run is NaN, which JSON keeps as null: shown as a dash.
const f = (n: number | null, digits = 1) => (n === null || Number.isNaN(n) ? '–' : n.toFixed(digits));
const mm = (s: Summary, digits = 1) => `${f(s.median, digits)} (min ${f(s.min, digits)})`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const signed = (n: number) => `${n >= 0 ? '+' : ''}${f(n, 2)}`;
const lines: string[] = [];

lines.push(`Machine: ${JSON.stringify(r.machine)}`, '', `Options: ${JSON.stringify(r.options)}`, '');

if (r.profile) {
  const { secondsPerPage: p, ratios } = r.profile;
  lines.push('| Step, one page at a time on one thread | s/page |', '|---|---|');
  for (const [step, seconds] of Object.entries(p)) lines.push(`| ${step} | ${f(seconds, 2)} |`);
  for (const [name, ratio] of Object.entries(ratios)) lines.push(`| ${name} | ${f(ratio, 2)} |`);
  lines.push('');
}
if (r.scanned) {
  const s = r.scanned;
  lines.push('| Engine (scanned pages) | pages/min, median (min) | s/page | CER %, median |', '|---|---|---|---|');
  for (const [name, e] of Object.entries(s.engines)) {
    lines.push(
      `| ${name} | ${mm(e.pagesPerMinute)} | ${f(e.secondsPerPage.median, 2)} | ${f(e.cerPercent.median, 2)} |`,
    );
  }
  lines.push('');
  if (s.phaseSeconds) {
    // The warm-up pass is not in these; each pass's phase seconds over its pages.
    // Orientation and OCR include the wait for a free tesseract worker (activity slots are 2 × OCR_WORKERS).
    lines.push(
      '| Folio stack | render s/page | orientation s/page (with wait) | OCR s/page (with wait) |',
      '|---|---|---|---|',
    );
    for (const [stack, passes] of Object.entries(s.phaseSeconds)) {
      const per = (phase: string) => {
        const values = passes.map((p) => (p[phase] ?? 0) / s.pages.length).sort((a, b) => a - b);
        return f(values[Math.floor((values.length - 1) / 2)] ?? 0, 2);
      };
      lines.push(`| ${stack} | ${per('render')} | ${per('orientation')} | ${per('ocr')} |`);
    }
    lines.push('');
  }
}
lines.push('| Goal | Measured | |', '|---|---|---|');
if (r.scanned) {
  const s = r.scanned;
  const ratio = s.ratios;
  lines.push(
    `| Folio ≥ 1.0 × OCRmyPDF (target 1.3) | ${f(ratio.folioOverOcrmypdf!, 2)} × | ${verdict(ratio.folioOverOcrmypdf! >= 1)} |`,
    `| CER no worse than OCRmyPDF's | ${signed(ratio.cerPointsOverOcrmypdf!)} points | ${verdict(ratio.cerPointsOverOcrmypdf! <= 0)} |`,
    `| Folio over native tesseract, same model (fast) | ${f(ratio.folioOverTesseractFast!, 2)} ×, CER ${signed(ratio.cerPointsOverTesseractFast!)} points | |`,
    `| Orchestration overhead ≤ 5 % | ${mm(s.orchestration.overheadPercent)} % | ${verdict(s.orchestration.overheadPercent.median <= 5)} |`,
    `| 2 workers over 1 (one OCR thread each) | ${f(ratio.twoWorkersOverOne!, 2)} × | |`,
  );
  if (ratio.folioBestIntOverOcrmypdf !== undefined) {
    lines.push(
      `| (best_int: OCR_MODEL=best_int) over OCRmyPDF | ${f(ratio.folioBestIntOverOcrmypdf, 2)} × | |`,
      `| (best_int) over native best_int, CER | ${f(ratio.folioBestIntOverTesseractBestInt!, 2)} ×, ${signed(ratio.cerPointsBestIntOverTesseractBestInt!)} points | |`,
    );
  }
  if (ratio.folioLeanOverTesseractFast !== undefined) {
    lines.push(
      `| (lean: tessdata_fast, no orientation, no deskew) over native fast | ${f(ratio.folioLeanOverTesseractFast, 2)} ×, CER ${f(ratio.cerPointsLeanOverTesseractFast!, 2)} points | |`,
    );
  }
  if (s.orchestration.outsidePageActivitiesPercent) {
    lines.push(
      `| (of the end-to-end time, no page activity running) | ${mm(s.orchestration.outsidePageActivitiesPercent)} % | |`,
    );
  }
}
if (r.bornDigital) {
  const b = r.bornDigital;
  const activity = b.textLayerActivities.at(-1);
  lines.push(
    `| Text layer ≥ 100 × OCR path | ${mm(b.textLayerPagesPerMinute, 0)} against ${mm(b.ocrPagesPerMinute)} pages/min = ${f(b.textLayerOverOcr)} × | ${verdict(b.textLayerOverOcr >= 100)} |`,
  );
  if (activity) {
    lines.push(
      `| (text-layer page activity, last run) | median ${f(activity.pageActivityMs.median, 0)} ms inside the activity; e2e over ideal +${f(activity.overheadPercent, 0)} % | |`,
    );
  }
}
if (r.load) {
  const l = r.load;
  lines.push(
    `| Submission p99 ≤ 100 ms (5 MB, 50 clients) | p50 ${mm(l.submission.p50Ms, 0)} ms, p99 ${mm(l.submission.p99Ms, 0)} ms | ${verdict(l.submission.p99Ms.median <= 100)} |`,
    `| Status GET ≥ 3,000 req/s | ${mm(l.status.requestsPerSecond, 0)} req/s | ${verdict(l.status.requestsPerSecond.median >= 3000)} |`,
  );
}
if (r.memory) {
  const m = r.memory;
  lines.push(
    `| API RSS growth ≤ 50 MB on a ${m.upload.megabytes} MB upload | ${mm(m.upload.apiRssGrowthMb, 0)} MB | ${verdict(m.upload.apiRssGrowthMb.median <= 50)} |`,
    `| Worker peak RSS ${m.worker.long.pages} pages ≤ 1.1 × ${m.worker.short.pages} pages | ${f(m.worker.long.peakMb, 0)} against ${f(m.worker.short.peakMb, 0)} MB = ${f(m.worker.longOverShort, 2)} × | ${verdict(m.worker.longOverShort <= 1.1)} |`,
    `| Worker peak RSS ≤ 800 MB (two OCR workers) | ${f(Math.max(m.worker.long.peakMb, m.worker.short.peakMb), 0)} MB | ${verdict(Math.max(m.worker.long.peakMb, m.worker.short.peakMb) <= 800)} |`,
  );
}
console.log(lines.join('\n'));
