/**
 * Reading pages in other languages through the page activity (activities/page.ts), on the real engines and
 * PostgreSQL: scans generated with their ground truth (test/support/script-pages.ts) in Korean, Korean mixed
 * with English, and Russian, each read with its languages named and with `languages=auto` (tesseract's OSD
 * picks them from the page's script), and a Greek page, whose script no installed language is written in.
 * Korean is scored without spaces (a space tesseract adds or drops between syllable blocks is no error).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PdfjsEngine } from '../../activities/adapters/pdfjs.js';
import { TesseractEngine } from '../../activities/adapters/tesseract.js';
import { createActivities } from '../../activities/index.js';
import { createPageMetrics } from '../../activities/page-metrics.js';
import type { Job, JobPage } from '../../core/db/models.js';
import { acceptJob, mockActivity, openActivityTestBed } from '../support/activities.js';
import { repoRoot } from '../support/harness.js';
import {
  cerWithoutSpaces,
  KOREAN_LINES,
  MIXED_LINES,
  RUSSIAN_LINES,
  scanOfLines,
  type ScriptPage,
} from '../support/script-pages.js';
import { characterErrorRate } from '../support/text-metrics.js';

const bed = await openActivityTestBed('page-languages');
const pdf = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 60_000 });
// Debian's tessdata_fast models as npm test's bootstrap installs them, exactly eng, kor and rus (what auto
// picks from depends on what is installed: a folder of the test's own, whatever else .tools/tessdata holds).
const tessdataDir = path.join(bed.storageDir, 'tessdata');
await fs.mkdir(tessdataDir);
for (const code of ['eng', 'kor', 'rus']) {
  await fs.copyFile(
    path.join(repoRoot, '.tools/tessdata', `${code}.traineddata`),
    path.join(tessdataDir, `${code}.traineddata`),
  );
}
const ocr = new TesseractEngine({ workers: 1, tessdataDir });
const registry = new Registry();
const { processPage } = createActivities({
  models: bed.models,
  storage: bed.storage,
  pdf,
  ocr,
  metrics: createPageMetrics(registry),
  settings: {
    dpi: 300,
    renderMaxPixels: 40_000_000,
    defaultLanguages: ['eng'],
    maxPages: 10,
    plan: { window: 1, pagesPerChild: 500, pageTimeoutSeconds: 120, pageMaxAttempts: 1 },
  },
});
after(async () => {
  await Promise.all([pdf.close(), ocr.close()]);
  await bed.close();
});

const GREEK_LINES = ['Καλημέρα σας. Σήμερα ο καιρός είναι καλός.', 'Η συνάντηση αρχίζει στις τρεις.'];

const scans = {} as Record<'korean' | 'mixed' | 'russian' | 'greek', ScriptPage & { file: string }>;
before(async () => {
  const all = { korean: KOREAN_LINES, mixed: MIXED_LINES, russian: RUSSIAN_LINES, greek: GREEK_LINES };
  for (const [name, lines] of Object.entries(all) as [keyof typeof scans, string[]][]) {
    const page = await scanOfLines(lines);
    const file = path.join(bed.storageDir, `${name}.pdf`);
    await fs.writeFile(file, page.pdf);
    scans[name] = { ...page, file };
  }
});

/** Reads page 1 of `file` with `languages` through the activity and returns its recorded row. */
async function read(file: string, languages: string[]): Promise<JobPage> {
  const job: Job = await acceptJob(bed, file, { languages, ocrMode: 'force' });
  await bed.jobs.recordInspection(job.id, {
    pageCount: 1,
    encrypted: false,
    pages: [{ number: 1, width: 612, height: 300 }],
  });
  const { run } = mockActivity();
  await run(processPage, { jobId: job.id, pageNumber: 1, storageKey: job.storageKey, options: job.options });
  const row = await bed.models.JobPage.findOne({ where: { jobId: job.id, pageNumber: 1 } });
  assert.ok(row?.text !== undefined && row.text !== null, 'the page was recorded');
  return row;
}

/** The count or sum of the page phase histogram for one phase. */
async function phaseValue(phase: string, suffix: '_count' | '_sum'): Promise<number> {
  const metric = registry.getSingleMetric('folio_page_phase_duration_seconds');
  assert.ok(metric);
  const { values } = await metric.get();
  return values
    .filter(
      (v) =>
        v.labels.phase === phase &&
        (v as { metricName?: string }).metricName === `folio_page_phase_duration_seconds${suffix}`,
    )
    .reduce((n, v) => n + v.value, 0);
}

/** The measured error rates, printed at the end for the note. */
const measured: string[] = [];
after(() => console.log(`CER per case (Korean without spaces):\n  ${measured.join('\n  ')}`));

describe('pages in other languages', () => {
  it('reads a Korean scan with kor', async () => {
    const page = await read(scans.korean.file, ['kor']);
    const cer = cerWithoutSpaces(page.text!, scans.korean.text);
    measured.push(`korean, kor: ${(cer * 100).toFixed(2)} %`);
    assert.ok(cer <= 0.05, `CER ${cer} on the Korean scan; read:\n${page.text}`);
    assert.deepEqual(page.languages, { used: ['kor'], auto: false });
  });

  it('reads a page of Korean and English with eng+kor', async () => {
    const page = await read(scans.mixed.file, ['eng', 'kor']);
    const cer = cerWithoutSpaces(page.text!, scans.mixed.text);
    measured.push(`mixed, eng+kor: ${(cer * 100).toFixed(2)} %`);
    assert.ok(cer <= 0.07, `CER ${cer} on the mixed scan; read:\n${page.text}`);
    // The English words come out as words, not as Hangul look-alikes.
    for (const word of ['Reader', 'Temporal', 'PostgreSQL', 'quarterly', 'Friday']) {
      assert.ok(page.text!.includes(word), `${word} in:\n${page.text}`);
    }
  });

  it('reads a Russian scan with rus', async () => {
    const page = await read(scans.russian.file, ['rus']);
    const cer = characterErrorRate(page.text!, scans.russian.text);
    measured.push(`russian, rus: ${(cer * 100).toFixed(2)} %`);
    assert.ok(cer <= 0.03, `CER ${cer} on the Russian scan; read:\n${page.text}`);
  });

  const autoCases = [
    // OSD names Hangul among Han characters "Korean".
    { name: 'korean', script: 'Korean', used: ['kor', 'eng'], bound: 0.05, spaces: false, mixed: undefined },
    // A page of two scripts: OSD names only the leading one (Latin: more letters than Hangul syllables), the
    // read in English is weak, and the read in every installed script's language (eng, kor, rus) is kept.
    { name: 'mixed', script: 'Latin', used: ['eng', 'kor', 'rus'], bound: 0.07, spaces: false, mixed: true },
    { name: 'russian', script: 'Cyrillic', used: ['rus', 'eng'], bound: 0.03, spaces: true, mixed: undefined },
  ] as const;
  for (const { name, script, used, bound, spaces, mixed } of autoCases) {
    it(`with languages=auto reads the ${name} scan in the languages of the script OSD detects on it`, async () => {
      const scan = scans[name];
      const page = await read(scan.file, ['auto']);
      measured.push(`${name}: OSD ${JSON.stringify(page.languages)}, confidence ${page.confidence?.toFixed(1)}`);
      assert.equal(page.languages?.auto, true);
      assert.ok((page.languages?.scriptConfidence ?? 0) > 0);
      assert.equal(page.languages?.script, script);
      assert.deepEqual(page.languages?.used, used);
      assert.equal(page.languages?.fallback, undefined);
      assert.equal(page.languages?.mixed, mixed);
      const cer = spaces ? characterErrorRate(page.text!, scan.text) : cerWithoutSpaces(page.text!, scan.text);
      measured.push(`${name}, auto (${used.join('+')}): ${(cer * 100).toFixed(2)} %`);
      assert.ok(cer <= bound, `CER ${cer} on ${name} with auto; read:\n${page.text}`);
    });
  }

  it('with languages=auto reads a page in a script no installed language is written in in the defaults, and says so', async () => {
    const page = await read(scans.greek.file, ['auto']);
    measured.push(`greek: OSD ${JSON.stringify(page.languages)}`);
    assert.equal(page.languages?.script, 'Greek');
    assert.deepEqual(page.languages?.used, ['eng']);
    assert.match(
      page.languages?.fallback ?? '',
      /no installed language is written in Greek.*default languages \(eng\)/,
    );
  });

  it('runs OSD once per auto page and reports its cost', async () => {
    const count = await phaseValue('orientation', '_count');
    const sum = await phaseValue('orientation', '_sum');
    const ocrCount = await phaseValue('ocr', '_count');
    const ocrSum = await phaseValue('ocr', '_sum');
    // Four auto pages, each detected once (upright and confident: no second detection for orientation).
    assert.equal(count, 4);
    measured.push(
      `OSD per page: ${((sum / count) * 1000).toFixed(0)} ms mean, against OCR ${((ocrSum / ocrCount) * 1000).toFixed(0)} ms per page`,
    );
  });
});
