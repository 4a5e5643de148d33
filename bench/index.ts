/**
 * `npm run bench`: Folio against OCRmyPDF and the native tesseract CLI, in one run on this machine, each
 * figure repeated (min and median). Starts its own Temporal and PostgreSQL; installs the Debian packages it
 * compares against when missing. Results: bench/results/bench-<time>.json (summarised in docs/benchmarks.md).
 *
 *   npm run bench -- --quick                 one repetition, small sizes (checks the bench itself)
 *   npm run bench -- --runs 5                repetitions of each timed figure (default 3)
 *   npm run bench -- --only scanned,load     suites: profile, scanned, born, load, memory, searchable, storage
 *                                            (default all)
 *   npm run bench -- --worker-pages 1000     pages of the long scanned document for the worker's peak RSS
 *   npm run bench -- --searchable-pages 3000 pages of the long document the searchable PDF is built for alone
 *   npm run bench -- --upload-mb 500         size of the upload for the API's RSS
 *   npm run bench -- --read-pages 200,50     pages of the born-digital and the scanned document the storage
 *                                            suite runs through the pipeline on each store
 *   npm run bench -- --stacks lean,best-int  the scanned suite's other Folio stacks (default: best-int, lean,
 *                                            one-worker, two-workers; an empty value for none)
 *   npm run bench -- --compare ../other      the scanned suite also runs another checkout's build (built),
 *                                            interleaved with this one: before and after in one run
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startServices } from '../scripts/lib/services.js';
import { corpusPath } from '../test/support/corpus.js';
import { repeatFirstPage } from '../test/support/synthetic.js';
import {
  DEBIAN_TESSDATA,
  bestIntTessdata,
  combinedPdf,
  nativeTesseract,
  ocrmypdf,
  type EnginePass,
} from './baselines.js';
import { ensureDebianPackages, gitHead, machine, pooledCer, scannedWithTruth, summary } from './lib.js';
import type { FolioStack } from './folio.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    'worker-pages': { type: 'string' },
    'searchable-pages': { type: 'string' },
    'upload-mb': { type: 'string' },
    'read-pages': { type: 'string' },
    stacks: { type: 'string' },
    compare: { type: 'string' },
  },
});
const quick = args.quick;
const runs = Number(args.runs ?? (quick ? 1 : 3));
const suites = new Set((args.only ?? 'profile,scanned,born,load,memory,searchable,storage').split(','));
const workerPages = Number(args['worker-pages'] ?? (quick ? 20 : 100));
const searchablePages = Number(args['searchable-pages'] ?? (quick ? 100 : 1000));
const uploadMb = Number(args['upload-mb'] ?? (quick ? 50 : 500));
const [bornReadPages, scannedReadPages] = (args['read-pages'] ?? (quick ? '20,5' : '200,50'))
  .split(',')
  .map(Number) as [number, number];
// The scanned suite's Folio stacks beside the default one (all unless named).
const stackNames = new Set((args.stacks ?? 'best-int,lean,one-worker,two-workers').split(',').filter(Boolean));
// Another checkout of Folio, built (npm run build), run as the scanned suite's `baseline` stack.
const compareRoot = args.compare ? path.resolve(args.compare) : undefined;
const cores = os.cpus().length;
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

const debian = ensureDebianPackages(log);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-bench-'));
fs.chmodSync(tmp, 0o755);
const services = await startServices(root, tmp, () => undefined);
// Folio runs as in production; the panel's secrets are made per run, never stored.
Object.assign(process.env, services.env, {
  // The folder store, as the figures before the bucket were taken; the storage suite compares both.
  STORAGE_URL: services.env.STORAGE_DIR,
  NODE_ENV: 'production',
  SESSION_SECRET: randomBytes(32).toString('hex'),
  ADMIN_EMAIL: 'bench@folio.invalid',
  ADMIN_PASSWORD: randomBytes(24).toString('base64url'),
  ADMIN_JS_TMP_DIR: path.join(tmp, 'adminjs'),
});
// Imported after the environment is set: the stack helpers read it.
const folio = await import('./folio.js');
const load = await import('./load.js');
const { authHeaders } = await import('../test/support/stack.js');
const connection = await Connection.connect({ address: services.env.TEMPORAL_ADDRESS! });
const client = new Client({ connection });
folio.useTemporal(client);

const result: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  options: { quick, runs, suites: [...suites], workerPages, searchablePages, uploadMb },
  machine: { ...machine(), debian },
};

const pages = scannedWithTruth();
const truths = pages.map((p) => p.truth);
const scannedDocs = pages.map((p) => ({ name: path.basename(p.file), bytes: fs.readFileSync(p.path) }));

/** Pages per minute and CER (%) of repeated passes, each pass's texts in page order. */
function figures(passes: { seconds: number; texts: string[] }[]) {
  return {
    pagesPerMinute: summary(passes.map((p) => (60 * p.texts.length) / p.seconds)),
    secondsPerPage: summary(passes.map((p) => p.seconds / p.texts.length)),
    cerPercent: summary(passes.map((p) => pooledCer(p.texts.map((text, i) => ({ text, truth: truths[i]! }))))),
  };
}

/** One page at a time on one thread: each step's seconds per page, Folio's engines against native tesseract. */
async function profileSuite() {
  log(`profile: ${pages.length} scanned pages, one at a time, each step timed`);
  const { profilePages } = await import('./profile.js');
  const secondsPerPage = await profilePages(pages, bestIntTessdata(tmp), tmp);
  const p = secondsPerPage;
  const folioPage = p.render! + p.orientation! + p.ocrBestInt!;
  log(
    `profile: ${Object.entries(p)
      .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
      .join(', ')}`,
  );
  return {
    secondsPerPage,
    ratios: {
      // tesseract.js (WebAssembly) against the native CLI on the same image and model.
      wasmOverNativeBestInt: p.ocrBestInt! / p.nativeBestInt!,
      wasmOverNativeFast: p.ocrFast! / p.nativeFast!,
      // The steps Folio adds around OCR, as shares of its page time.
      renderShare: p.render! / folioPage,
      orientationShare: p.orientation! / folioPage,
      deskewShare: (p.ocrBestInt! - p.ocrBestIntWithoutDeskew!) / folioPage,
      // The best Folio could do with the same model on these cores: native time over Folio's page time.
      nativeBestIntOverFolioPage: p.nativeBestInt! / folioPage,
    },
  };
}

/** The shapes in which the scanned pages are submitted to Folio: as OCRmyPDF gets them, and as clients send them. */
type Shape = 'tenDocuments' | 'oneDocument' | 'twoDocuments';

async function scannedSuite() {
  log(
    `scanned: ${pages.length} pages with ground truth, ${runs} runs, ${cores} cores, stacks ${[...stackNames].join(',') || 'none'}`,
  );
  const bestInt = bestIntTessdata(tmp);
  const combined = path.join(tmp, 'scanned-combined.pdf');
  await combinedPdf(pages, combined);
  const half = Math.ceil(pages.length / 2);
  const halves = [path.join(tmp, 'scanned-first.pdf'), path.join(tmp, 'scanned-second.pdf')] as const;
  await combinedPdf(pages.slice(0, half), halves[0]);
  await combinedPdf(pages.slice(half), halves[1]);
  const shapes: Record<Shape, { name: string; bytes: Uint8Array }[]> = {
    tenDocuments: scannedDocs,
    oneDocument: [{ name: 'scanned-combined.pdf', bytes: fs.readFileSync(combined) }],
    twoDocuments: halves.map((file) => ({ name: path.basename(file), bytes: fs.readFileSync(file) })),
  };
  // Folio with its defaults (one worker, OCR_WORKERS = cores); and the scale-out pair: one worker with
  // one OCR thread against two such workers on one task queue.
  // One at a time: each API bundles the panel's components at start.
  const stacks = [];
  const defaults = { OCR_WORKERS: String(cores) };
  const main = await folio.startStack('scanned', 1, defaults);
  stacks.push(main);
  // The same defaults on another checkout's build (--compare): before and after, in the same run.
  const baseline = compareRoot ? await folio.startStack('baseline', 1, defaults, {}, compareRoot) : undefined;
  if (baseline) stacks.push(baseline);
  const extra: [string, FolioStack][] = [];
  const extraStack = async (engine: string, name: string, workers: number, env: NodeJS.ProcessEnv) => {
    if (!stackNames.has(name)) return;
    const stack = await folio.startStack(name, workers, env);
    stacks.push(stack);
    extra.push([engine, stack]);
  };
  try {
    // Folio on the npm packages' best_int model (the default until issue 12), against native best_int.
    await extraStack('folioBestInt', 'best-int', 1, { ...defaults, OCR_MODEL: 'best_int' });
    // And doing only what the native CLI does: no orientation detection, no deskew (what those cost, end to end).
    await extraStack('folioLean', 'lean', 1, {
      ...defaults,
      OCR_DETECT_ORIENTATION: 'false',
      OCR_DESKEW: 'false',
    });
    await extraStack('folioOneWorker', 'one-worker', 1, { OCR_WORKERS: '1' });
    await extraStack('folioTwoWorkers', 'two-workers', 2, { OCR_WORKERS: '1' });
    // Warm-up: each worker starts its OCR threads on first use.
    for (const stack of stacks) await folio.submitAndWait(stack, scannedDocs.slice(0, cores));
    const passes: Record<string, EnginePass[]> = {};
    const push = (engine: string, pass: EnginePass) => (passes[engine] ??= []).push(pass);
    const overheads: ReturnType<typeof folio.orchestrationOverhead>[] = [];
    // The orchestration overhead on the cores, and each pass's timeline, per stack (main, baseline) and shape.
    const onCores: Record<string, ReturnType<typeof folio.coreOverhead>[]> = {};
    const timelines: Record<string, ReturnType<typeof folio.compactTimeline>[]> = {};
    // Where the page time went, per stack: each phase's seconds summed over the pass's pages.
    const phases: Record<string, Record<string, number>[]> = {};
    const folioPass = async (stack: FolioStack, documents = scannedDocs) => {
      const before = await stack.phaseSeconds();
      const pass = await folio.measuredPass(stack, documents);
      const after = await stack.phaseSeconds();
      if (documents === scannedDocs) {
        (phases[stack.name] ??= []).push(
          Object.fromEntries(Object.entries(after).map(([phase, sum]) => [phase, sum - (before[phase] ?? 0)])),
        );
      }
      return { pass, texts: await folio.pageTexts(stack, pass) };
    };
    // The main stack (and the baseline) in each shape; the overhead and timeline of each pass kept.
    const shapedPasses = async (stack: FolioStack, prefix: string) => {
      for (const [shape, documents] of Object.entries(shapes) as [Shape, typeof scannedDocs][]) {
        const { pass, texts } = await folioPass(stack, documents);
        const engine = shape === 'tenDocuments' ? prefix : `${prefix}${shape[0]!.toUpperCase()}${shape.slice(1)}`;
        push(engine, { seconds: pass.seconds, texts });
        const timeline = await folio.passTimeline(client, pass.jobIds);
        (onCores[engine] ??= []).push(folio.coreOverhead(pass, timeline));
        (timelines[engine] ??= []).push(folio.compactTimeline(pass, timeline));
        if (stack === main && shape === 'tenDocuments') {
          overheads.push(folio.orchestrationOverhead(pass.seconds, folio.pageIntervals(timeline), main.pageSlots));
        }
      }
    };
    for (let i = 0; i < runs; i++) {
      // Before and after alternate which goes first, so neither always meets the machine warmer.
      const pair: [FolioStack, string][] = [
        [main, 'folio'],
        ...(baseline ? [[baseline, 'baseline'] as [FolioStack, string]] : []),
      ];
      for (const [stack, prefix] of i % 2 === 0 ? pair : pair.reverse()) await shapedPasses(stack, prefix);
      push('ocrmypdf', await ocrmypdf(combined, pages.length, cores, tmp));
      push('tesseractBestInt', await nativeTesseract(pages, cores, bestInt, tmp));
      push('tesseractFast', await nativeTesseract(pages, cores, DEBIAN_TESSDATA, tmp));
      for (const [engine, stack] of extra) {
        const one = await folioPass(stack);
        push(engine, { seconds: one.pass.seconds, texts: one.texts });
      }
      log(
        `scanned run ${i + 1}: ` +
          Object.entries(passes)
            .map(([name, list]) => `${name} ${(list.at(-1)!.seconds / pages.length).toFixed(2)} s/page`)
            .join(', ') +
          '; overhead on the cores ' +
          Object.entries(onCores)
            .map(([name, list]) => `${name} ${list.at(-1)!.overheadPercent.toFixed(1)} %`)
            .join(', '),
      );
    }
    const engines = Object.fromEntries(Object.entries(passes).map(([name, list]) => [name, figures(list)]));
    const median = (name: string) => engines[name]?.pagesPerMinute.median ?? NaN;
    const cerMedian = (name: string) => engines[name]?.cerPercent.median ?? NaN;
    // Ratios of the same pass order in each run, then their median: what the load did to both cancels out.
    const pairedRatio = (a: string, b: string) =>
      passes[a] && passes[b] ? summary(passes[a].map((p, i) => passes[b]![i]!.seconds / p.seconds)) : undefined;
    return {
      pages: pages.map((p) => p.file),
      shapes: {
        tenDocuments: 'the 10 pages as 10 one-page documents, submitted at once',
        oneDocument: 'the 10 pages as one 10-page document (the PDF OCRmyPDF reads)',
        twoDocuments: `pages 1-${half} and ${half + 1}-${pages.length} as two documents, submitted at once`,
      },
      compare: compareRoot
        ? { root: path.relative(root, compareRoot), commit: gitHead(compareRoot), branchCommit: gitHead(root) }
        : undefined,
      engines,
      models: {
        folio:
          'its default: Debian tesseract-ocr-eng (tessdata_fast) in .tools/tessdata (tesseract.js 7, LSTM only, PSM 3)',
        folioBestInt: '@tesseract.js-data/eng 4.0.0_best_int through OCR_MODEL=best_int',
        folioLean: 'the default model, with OCR_DETECT_ORIENTATION=false and OCR_DESKEW=false',
        tesseractBestInt: 'the same best_int file, native tesseract CLI (--oem 1 --psm 3 --dpi 300)',
        tesseractFast: `Debian tesseract-ocr-eng (tessdata_fast), ${DEBIAN_TESSDATA}`,
        ocrmypdf: 'Debian tesseract-ocr-eng (tessdata_fast), its default',
      },
      ratios: {
        folioOverOcrmypdf: median('folio') / median('ocrmypdf'),
        folioOneDocumentOverOcrmypdf: median('folioOneDocument') / median('ocrmypdf'),
        folioTwoDocumentsOverOneDocument: median('folioTwoDocuments') / median('folioOneDocument'),
        baselineOverOcrmypdf: median('baseline') / median('ocrmypdf'),
        baselineOneDocumentOverOcrmypdf: median('baselineOneDocument') / median('ocrmypdf'),
        folioOverTesseractFast: median('folio') / median('tesseractFast'),
        cerPointsOverTesseractFast: cerMedian('folio') - cerMedian('tesseractFast'),
        cerPointsOverOcrmypdf: cerMedian('folio') - cerMedian('ocrmypdf'),
        folioBestIntOverOcrmypdf: median('folioBestInt') / median('ocrmypdf'),
        folioBestIntOverTesseractBestInt: median('folioBestInt') / median('tesseractBestInt'),
        folioLeanOverTesseractFast: median('folioLean') / median('tesseractFast'),
        cerPointsLeanOverTesseractFast: cerMedian('folioLean') - cerMedian('tesseractFast'),
        twoWorkersOverOne: median('folioTwoWorkers') / median('folioOneWorker'),
        cerPointsBestIntOverTesseractBestInt: cerMedian('folioBestInt') - cerMedian('tesseractBestInt'),
      },
      // Speed of this build over the baseline's, pass by pass in the same run (baseline seconds / ours).
      overBaseline: compareRoot
        ? {
            tenDocuments: pairedRatio('folio', 'baseline'),
            oneDocument: pairedRatio('folioOneDocument', 'baselineOneDocument'),
            twoDocuments: pairedRatio('folioTwoDocuments', 'baselineTwoDocuments'),
          }
        : undefined,
      orchestration: {
        // As before (comparable with earlier results): end to end against the page activities' summed
        // time over the activity slots; it counts a page's wait for an OCR thread as page work.
        overheadPercent: summary(overheads.map((o) => o.overheadPercent)),
        outsidePageActivitiesPercent: summary(overheads.map((o) => o.outsidePageActivitiesPercent)),
        runs: overheads,
        // On the cores: the workers' CPU time is the page work; see bench/folio.ts coreOverhead.
        onCores: Object.fromEntries(
          Object.entries(onCores).map(([engine, list]) => [
            engine,
            { overheadPercent: summary(list.map((o) => o.overheadPercent)), runs: list },
          ]),
        ),
      },
      // Seconds per phase summed over each pass's pages (from the workers' metrics), by stack.
      phaseSeconds: phases,
      // Each pass's document workflows, ms from the pass's first upload (bench/folio.ts compactTimeline).
      timelines,
    };
  } finally {
    await Promise.all(stacks.map((s) => s.stop()));
  }
}

async function bornSuite() {
  const file = corpusPath('born-digital/pdfjs-tracemonkey.pdf');
  const copies = quick ? 2 : 20;
  const { repeatDocument } = await import('../test/support/synthetic.js');
  const text = { name: 'born-text.pdf', bytes: await repeatDocument(file, copies) };
  const ocr = { name: 'born-ocr.pdf', bytes: fs.readFileSync(file), fields: { ocrMode: 'force' } };
  const textPages = 14 * copies;
  log(`born-digital: ${textPages} pages through the text layer against 14 through OCR, ${runs} runs`);
  const stack = await folio.startStack('born', 1, { OCR_WORKERS: String(cores) });
  try {
    await folio.submitAndWait(stack, [{ ...ocr, name: 'warm-up.pdf', fields: { ocrMode: 'force', pages: '1' } }]);
    const textRuns: number[] = [];
    const ocrRuns: number[] = [];
    let methods: Record<string, Record<string, number>> = {};
    const textProfiles = [];
    for (let i = 0; i < runs; i++) {
      const t = await folio.submitAndWait(stack, [text]);
      const o = await folio.submitAndWait(stack, [ocr]);
      textRuns.push((60 * textPages) / t.seconds);
      // Where a text-layer page's time goes: inside its activity, or between activities.
      const intervals = await folio.pageActivityIntervals(client, t.jobIds);
      const durations = intervals.map(([a, b]) => b - a);
      textProfiles.push({
        ...folio.orchestrationOverhead(t.seconds, intervals, stack.pageSlots),
        pageActivityMs: summary(durations),
      });
      ocrRuns.push((60 * 14) / o.seconds);
      methods = { textLayer: await folio.methods(stack, t), ocr: await folio.methods(stack, o) };
      log(`born run ${i + 1}: text layer ${textRuns.at(-1)!.toFixed(0)} pages/min, OCR ${ocrRuns.at(-1)!.toFixed(1)}`);
    }
    return {
      textLayerPagesPerMinute: summary(textRuns),
      ocrPagesPerMinute: summary(ocrRuns),
      textLayerOverOcr: summary(textRuns).median / summary(ocrRuns).median,
      methodsOfLastRun: methods,
      textLayerActivities: textProfiles.map(({ pageActivityMs, ...rest }) => ({
        ...rest,
        pageActivityMs: { min: pageActivityMs.min, median: pageActivityMs.median, max: pageActivityMs.max },
      })),
    };
  } finally {
    await stack.stop();
  }
}

async function loadSuite() {
  const megabytes = 5;
  const amount = quick ? 50 : 250;
  log(`load: ${amount} submissions of ${megabytes} MB with 50 clients; status GETs; ${runs} runs`);
  // No worker on this queue: the submissions' workflows wait in Temporal, as under a burst.
  // The per-key rate limit and in-flight cap would answer most of this load with 429 (one key sends it all):
  // raised here, so what is measured is the API's own capacity, the limiter's DB round trip included.
  const stack = await folio.startStack(
    'load',
    0,
    {},
    { MAX_UPLOAD_BYTES: String(64 * 1024 * 1024), RATE_LIMIT_REQUESTS: '100000000', MAX_IN_FLIGHT_PER_KEY: '1000000' },
  );
  try {
    const submissions = [];
    const statuses = [];
    for (let i = 0; i < runs; i++) {
      submissions.push(await load.submissionLatency(stack, megabytes, 50, amount));
      // A job these submissions created (queued: the status view reads its job and pages).
      const res = await fetch(`${stack.api.url}/v1/jobs?limit=1`, { headers: authHeaders(stack.api.url) });
      const { jobs } = (await res.json()) as { jobs: { jobId: string }[] };
      if (!jobs[0]) throw new Error(`no submission of run ${i + 1} was accepted (HTTP ${res.status})`);
      statuses.push(await load.statusThroughput(stack, jobs[0].jobId, 50, quick ? 3 : 10));
      log(
        `load run ${i + 1}: submit p50 ${submissions.at(-1)!.latencyMs.p50} ms p99 ${submissions.at(-1)!.latencyMs.p99} ms; status ${statuses.at(-1)!.requestsPerSecond.toFixed(0)} req/s`,
      );
    }
    return {
      submission: {
        p50Ms: summary(submissions.map((s) => s.latencyMs.p50)),
        p99Ms: summary(submissions.map((s) => s.latencyMs.p99)),
        runs: submissions,
      },
      status: { requestsPerSecond: summary(statuses.map((s) => s.requestsPerSecond)), runs: statuses },
    };
  } finally {
    await stack.stop();
  }
}

async function memorySuite() {
  log(`memory: API RSS on a ${uploadMb} MB upload (${runs} runs); worker peak RSS on 10 and ${workerPages} pages`);
  const bigFile = path.join(tmp, 'big.pdf');
  load.writeLargePdf(bigFile, uploadMb);
  const stack = await folio.startStack('upload', 0, {}, { MAX_UPLOAD_BYTES: String((uploadMb + 10) * 1024 * 1024) });
  const uploads = [];
  try {
    for (let i = 0; i < runs; i++) {
      uploads.push(await load.uploadRss(stack, bigFile, uploadMb));
      log(`upload run ${i + 1}: API RSS +${uploads.at(-1)!.growthMb.toFixed(0)} MB`);
    }
  } finally {
    await stack.stop();
    fs.rmSync(bigFile, { force: true });
  }
  const page = pages.find((p) => p.file === 'scanned/scribe-filing_01.pdf')!;
  const short = await load.workerPeakRss(page, 10, client);
  log(`worker peak RSS, 10 pages: ${short.peakMb.toFixed(0)} MB (${JSON.stringify(short.searchablePdf)})`);
  const long = await load.workerPeakRss(page, workerPages, client);
  log(`worker peak RSS, ${workerPages} pages: ${long.peakMb.toFixed(0)} MB (${JSON.stringify(long.searchablePdf)})`);
  const building = (r: typeof short) => r.searchablePdf.peakRssMb ?? NaN;
  return {
    upload: { megabytes: uploadMb, apiRssGrowthMb: summary(uploads.map((u) => u.growthMb)), runs: uploads },
    worker: {
      short,
      long,
      longOverShort: long.peakMb / short.peakMb,
      // The worker (with its qpdf) while it builds the searchable PDF: the long document's against the short's.
      searchablePdfLongOverShort: building(long) / building(short),
    },
  };
}

/**
 * The searchable PDF's builder alone (bench/searchable-pdf.ts, in processes of its own): time, peak RSS of the
 * building process and of qpdf, and size, for a 10-page scan and a `searchablePages` one.
 */
function searchableSuite() {
  log(`searchable: the searchable PDF built alone for 10 and ${searchablePages} pages`);
  const script = path.join(root, 'dist/bench/searchable-pdf.js');
  const run = spawnSync(process.execPath, [script, '--pages', `10,${searchablePages}`], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bench/searchable-pdf.ts failed: ${run.stderr}`);
  const file = run.stdout.trim().split('\n').at(-1)!;
  const { results, images } = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    results: { peakRssMb: number }[];
    images: unknown[];
  };
  fs.rmSync(file);
  log(run.stderr.trim());
  return { results, longOverShort: results.at(-1)!.peakRssMb / results[0]!.peakRssMb, images };
}

/**
 * The two stores side by side: upload throughput and the API's RSS growth on an `uploadMb` upload into the
 * folder and into the bucket (the harness's versitygw), and what a page pays to read its document: the folder's
 * path at once, the bucket's a download into the worker's cache for the first page of a document (cold) and a
 * cache hit for the others (warm).
 */
async function storageSuite() {
  const stores = { folder: services.env.STORAGE_DIR!, bucket: services.env.STORAGE_URL! };
  log(`storage: ${uploadMb} MB uploads into the folder and the bucket (${runs} runs each); page reads`);
  const bigFile = path.join(tmp, 'big-storage.pdf');
  load.writeLargePdf(bigFile, uploadMb);
  const uploads: Record<string, Awaited<ReturnType<typeof load.uploadRss>>[]> = { folder: [], bucket: [] };
  try {
    for (let i = 0; i < runs; i++) {
      // Interleaved, so that the machine's drift falls on both alike.
      for (const [name, url] of Object.entries(stores)) {
        const stack = await folio.startStack(
          `storage-${name}`,
          0,
          {},
          {
            STORAGE_URL: url,
            MAX_UPLOAD_BYTES: String((uploadMb + 10) * 1024 * 1024),
          },
        );
        try {
          const run = await load.uploadRss(stack, bigFile, uploadMb);
          uploads[name]!.push(run);
          log(
            `${name} upload ${i + 1}: ${(uploadMb / run.seconds).toFixed(0)} MB/s, API RSS +${run.growthMb.toFixed(0)} MB`,
          );
        } finally {
          await stack.stop();
        }
      }
    }
  } finally {
    fs.rmSync(bigFile, { force: true });
  }
  const reads = await load.pageReadCosts(
    corpusPath('scanned/tess-phototest.pdf'),
    stores,
    path.join(tmp, 'read-cache'),
    runs,
  );
  const upload = Object.fromEntries(
    Object.entries(uploads).map(([name, list]) => [
      name,
      {
        megabytesPerSecond: summary(list.map((u) => uploadMb / u.seconds)),
        apiRssGrowthMb: summary(list.map((u) => u.growthMb)),
        runs: list,
      },
    ]),
  );
  return {
    megabytes: uploadMb,
    upload,
    bucketOverFolderThroughput: upload.bucket!.megabytesPerSecond.median / upload.folder!.megabytesPerSecond.median,
    pageRead: reads,
    pipeline: await pipelinePerStore(stores),
  };
}

/**
 * What reading from the bucket costs a large document through the whole pipeline: a born-digital and a
 * scanned document (the first page of a corpus file repeated), each run once on each store by a stack of one
 * API and one worker (the worker downloads the document into its cache once, its pages read the copy);
 * seconds per page from the upload to the finished job, side by side, and the bucket's over the folder's.
 */
async function pipelinePerStore(stores: Record<string, string>) {
  const documents = [
    { kind: 'bornDigital', source: 'born-digital/pdfjs-tracemonkey.pdf', pages: bornReadPages },
    { kind: 'scanned', source: 'scanned/tess-phototest.pdf', pages: scannedReadPages },
  ];
  const out: Record<string, unknown> = {};
  for (const doc of documents) {
    const bytes = await repeatFirstPage(corpusPath(doc.source), doc.pages);
    const secondsPerPage: Record<string, number> = {};
    for (const [name, url] of Object.entries(stores)) {
      const stack = await folio.startStack(`read-${name}`, 1, { STORAGE_URL: url }, { STORAGE_URL: url });
      try {
        const pass = await folio.submitAndWait(stack, [{ name: `${doc.kind}-${doc.pages}.pdf`, bytes }]);
        secondsPerPage[name] = pass.seconds / doc.pages;
        log(`${doc.kind} ${doc.pages} pages on the ${name}: ${secondsPerPage[name].toFixed(3)} s/page`);
      } finally {
        await stack.stop();
      }
    }
    out[doc.kind] = {
      source: doc.source,
      pages: doc.pages,
      megabytes: bytes.length / 1024 / 1024,
      secondsPerPage,
      bucketOverFolder: secondsPerPage.bucket! / secondsPerPage.folder!,
    };
  }
  return out;
}

const out = path.join(root, 'bench/results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
/** Written after each suite, so a later suite's failure keeps the figures already taken. */
function save(): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
}
try {
  if (suites.has('profile')) result.profile = await profileSuite();
  save();
  if (suites.has('scanned')) result.scanned = await scannedSuite();
  save();
  if (suites.has('born')) result.bornDigital = await bornSuite();
  save();
  if (suites.has('load')) result.load = await loadSuite();
  save();
  if (suites.has('memory')) result.memory = await memorySuite();
  save();
  if (suites.has('searchable')) result.searchablePdf = searchableSuite();
  save();
  if (suites.has('storage')) result.storage = await storageSuite();
  result.finishedAt = new Date().toISOString();
  save();
  console.log(JSON.stringify(result, null, 2));
  log(`written to ${path.relative(root, out)}`);
} finally {
  await connection.close();
  await services.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
