/**
 * PdfjsEngine against every input of the shared corpus (../shared/corpus, see its README): each file must
 * end in a result or an InputError that matches the manifest's `expected`, and no file may take the
 * process or the engine down with it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PdfjsEngine } from '../../../activities/adapters/pdfjs.js';
import { InputError, type DrawnContent, type RenderedPage } from '../../../activities/adapters/types.js';
import {
  DPI,
  MAX_PIXELS,
  assertSanePgm,
  hasInk,
  outcome,
  rejectsWith,
  renderPage,
  type Outcome,
} from '../../support/rendering.js';
import { formFanOutPdf } from '../../support/synthetic.js';

interface ManifestEntry {
  file: string;
  category: string;
  pages: number | null;
  encrypted: boolean | null;
  requiresPassword?: boolean;
  password?: string;
  expected: string;
  tags: string[];
}

// Compiled, this file lives in dist/test/activities/adapters/.
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const corpusDir = process.env.FOLIO_CORPUS_DIR ?? path.resolve(repoRoot, '../shared/corpus');
const manifest = JSON.parse(await readFile(path.join(corpusDir, 'manifest.json'), 'utf8')) as ManifestEntry[];

const engine = new PdfjsEngine({ threads: 2, maxHeapMb: 512, taskTimeoutMs: 20_000 });
after(() => engine.close());

const corpusFile = (file: string): string => path.join(corpusDir, file);

// A page that never finishes drawing, for the time, memory and abort tests. (The corpus's
// operator_list_cycle.pdf did this until pdf.js 6.0 learnt to break its cycle.)
const scratch = await mkdtemp(path.join(tmpdir(), 'folio-pdfjs-'));
const endlessPage = path.join(scratch, 'form-fan-out.pdf');
await writeFile(endlessPage, await formFanOutPdf());
after(() => rm(scratch, { recursive: true, force: true }));

async function hasPdfHeader(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(1024), 0, 1024, 0);
    return buffer.subarray(0, bytesRead).includes('%PDF-');
  } finally {
    await handle.close();
  }
}

describe('PdfjsEngine on the corpus', () => {
  for (const entry of manifest) {
    it(`${entry.file}: ${entry.expected}`, async () => {
      const file = corpusFile(entry.file);
      const expected = entry.expected;

      if (!(await hasPdfHeader(file))) {
        // Not a PDF by its first bytes; pdf.js still gets a go, as some real PDFs lack the header.
        if (expected.startsWith('reject:')) await rejectsWith(engine.inspect(file), 'PDF_CORRUPT');
        else assert.equal((await engine.inspect(file)).pageCount, entry.pages);
        return;
      }

      let password: string | undefined;
      if (entry.requiresPassword) {
        await rejectsWith(engine.inspect(file), 'PDF_PASSWORD_REQUIRED');
        await rejectsWith(engine.inspect(file, { password: 'not the password' }), 'PDF_PASSWORD_INCORRECT');
        password = entry.password;
      }

      if (/^reject: (invalid PDF|truncated)/.test(expected)) {
        await rejectsWith(engine.inspect(file, { password }), 'PDF_CORRUPT');
        return;
      }
      if (expected === 'reject: document has no pages') {
        await rejectsWith(engine.inspect(file, { password }), 'PDF_NO_PAGES');
        await rejectsWith(engine.extractText(file, 1, { password }), 'PDF_NO_PAGES');
        return;
      }

      const inspection = await engine.inspect(file, { password });
      if (entry.pages !== null) assert.equal(inspection.pageCount, entry.pages);
      if (entry.encrypted !== null) assert.equal(inspection.encrypted, entry.encrypted);
      assert.equal(inspection.pages.length, inspection.pageCount);
      inspection.pages.forEach((page, index) => assert.equal(page.number, index + 1));

      const texts = new Map<number, Outcome<Awaited<ReturnType<typeof engine.extractText>>>>();
      for (let number = 1; number <= Math.min(3, inspection.pageCount); number++) {
        const text = await outcome(engine.extractText(file, number, { password }));
        texts.set(number, text);
      }

      const pageRejected = expected.startsWith('reject: page 1 cannot be parsed');
      let render: Outcome<RenderedPage> | undefined;
      if (expected === 'ocr' || entry.category === 'huge' || expected.startsWith('partial:') || pageRejected) {
        render = await outcome(renderPage(engine, file, 1, { password, dpi: DPI, maxPixels: MAX_PIXELS }));
        if (render.ok) {
          const page1 = inspection.pages[0];
          assert.ok(page1);
          assertSanePgm(render.value, page1.width, page1.height, entry.tags.includes('userunit') ? 5 : 50);
        }
      }

      if (entry.requiresPassword) {
        // `expected` is about the missing password, checked above; with it the file must read cleanly.
        assert.ok(texts.get(1)?.ok, 'page 1 did not open with the password');
      } else if (expected === 'text-layer') {
        const usable = [...texts.values()].some((text) => text.ok && text.value.usable);
        assert.ok(usable, 'no usable text layer on the first pages');
      } else if (expected === 'ocr') {
        const text = texts.get(1);
        assert.ok(text?.ok, 'page 1 text could not be read');
        const sample = JSON.stringify(text.value.text.slice(0, 80));
        assert.equal(text.value.usable, false, `page 1 text counted as usable: ${sample}`);
        assert.ok(render?.ok, `page 1 did not render: ${render && !render.ok ? render.error.message : ''}`);
        assert.ok(hasInk(render.value), 'page 1 rendered blank');
      } else if (pageRejected) {
        const unreadable = [texts.get(1), render].some(
          (result) =>
            result?.ok === false && result.error.code === 'PAGE_UNREADABLE' && /Page 1\b/.test(result.error.message),
        );
        assert.ok(unreadable, 'page 1 was not reported as unreadable');
      } else {
        // partial: any clean outcome (already enforced by `outcome`); say what happened for the record.
        assert.match(expected, /^partial:/);
      }

      if (entry.tags.includes('resource-exhaustion') || entry.tags.includes('render-bomb')) {
        if (render && !render.ok) assert.match(render.error.code, /^PAGE_(RESOURCE_LIMIT|TOO_LARGE)$/);
        // Whatever that file did to its thread, the engine still reads the next file.
        const next = await engine.extractText(corpusFile('born-digital/ocrmypdf-tagged.pdf'), 2);
        assert.match(next.text, /Body text/);
      }
    });
  }
});

describe('PdfjsEngine specifics', () => {
  it('turns a page a quarter on request, on top of its /Rotate', async () => {
    const file = corpusFile('rotated/tess-phototest-rotated-L.pdf');
    const plain = await renderPage(engine, file, 1, { dpi: 150, maxPixels: MAX_PIXELS });
    const turned = await renderPage(engine, file, 1, { dpi: 150, maxPixels: MAX_PIXELS, rotation: 90 });
    assert.deepEqual([turned.width, turned.height], [plain.height, plain.width]);
  });

  it('settles the scale of a drawing from what the page holds, then draws the page once at it', async () => {
    const file = corpusFile('scanned/scribe-multicol_05.pdf');
    const seen: DrawnContent[] = [];
    const page = await engine.draw(file, 1, {
      scale: DPI / 72,
      rescale: (content) => (seen.push(content), 150 / 72),
    });
    // A 1200 × 1461 px scan drawn over 576 × 701.28 pt: 150 dpi.
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.vector, false);
    assert.ok(Math.abs((seen[0]?.finestImageScale ?? 0) * 72 - 150) < 0.01, `${seen[0]?.finestImageScale}`);
    assert.deepEqual([page.scale, page.width, page.height], [150 / 72, 1200, 1461]);
    const plain = await engine.draw(file, 1, { scale: 150 / 72 });
    assert.ok(Buffer.from(page.pgm).equals(Buffer.from(plain.pgm)), 'not the same pixels as a plain drawing');
    // Vector content is seen as such.
    const born: DrawnContent[] = [];
    await engine.draw(corpusFile('born-digital/ocrmypdf-tagged.pdf'), 1, {
      scale: 1,
      rescale: (content) => (born.push(content), 1),
    });
    assert.equal(born[0]?.vector, true);
  });

  it("reads an image's own resolution exactly however small the page is asked for", async () => {
    // Drawn at 36 dpi, pdf.js would hand over the 150 dpi scan halved twice: painted, it would look like 72 dpi.
    const seen: DrawnContent[] = [];
    await engine.draw(corpusFile('scanned/scribe-multicol_05.pdf'), 1, {
      scale: 0.5,
      rescale: (content) => (seen.push(content), 0.5),
    });
    assert.ok(Math.abs((seen[0]?.finestImageScale ?? 0) * 72 - 150) < 0.01, `${seen[0]?.finestImageScale}`);
  });

  it('fails a drawing with the error of its rescale, and keeps drawing', async () => {
    const file = corpusFile('scanned/tess-phototest.pdf');
    await assert.rejects(
      engine.draw(file, 1, {
        scale: 1,
        rescale: () => {
          throw new Error('no scale for you');
        },
      }),
      /no scale for you/,
    );
    await assert.rejects(engine.draw(file, 1, { scale: 1, rescale: () => Number.NaN }), RangeError);
    assert.equal((await engine.draw(file, 1, { scale: 1, rescale: () => 2 })).scale, 2);
  });

  it('answers an over-limit page count from the count alone', async () => {
    const inspection = await engine.inspect(corpusFile('huge/pdfjs-freeculture.pdf'), { maxPages: 100 });
    assert.equal(inspection.pageCount, 352);
    assert.deepEqual(inspection.pages, []);
  });

  it('extracts Japanese with the cMaps', async () => {
    const { text, usable } = await engine.extractText(corpusFile('born-digital/pdfjs-issue16538.pdf'), 1);
    const cjk = text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu) ?? [];
    assert.ok(cjk.length > 300, `${cjk.length} CJK characters`);
    assert.equal(usable, true);
  });

  it('places words in PDF points from the top-left corner', async () => {
    const { text, words } = await engine.extractText(corpusFile('born-digital/ocrmypdf-tagged.pdf'), 2);
    assert.equal(text, 'Page 2 Heading\nBody text.');
    assert.deepEqual(
      words.map((word) => word.text),
      ['Page', '2', 'Heading', 'Body', 'text.'],
    );
    const [page, two, heading, body] = words;
    assert.ok(page && two && heading && body);
    for (const word of words) {
      assert.equal(word.confidence, 100);
      assert.ok(word.bbox.x0 < word.bbox.x1 && word.bbox.y0 < word.bbox.y1, JSON.stringify(word));
      assert.ok(word.bbox.x0 >= 0 && word.bbox.x1 <= 595.3 && word.bbox.y0 >= 0 && word.bbox.y1 <= 841.89);
    }
    // Left to right on the heading line, and the body line below it, near the top of an A4 page.
    assert.ok(page.bbox.x1 <= two.bbox.x0 && two.bbox.x1 <= heading.bbox.x0);
    assert.ok(body.bbox.y0 >= page.bbox.y1 - 1);
    assert.ok(page.bbox.y1 < 200);
  });

  it('keeps word boxes inside a page turned by /Rotate', async () => {
    const inspection = await engine.inspect(corpusFile('rotated/pdfjs-hello_world_rotated.pdf'));
    assert.deepEqual(inspection.pages[0], { number: 1, width: 792, height: 612, rotation: 90 });
    const { words } = await engine.extractText(corpusFile('rotated/pdfjs-hello_world_rotated.pdf'), 1);
    assert.deepEqual(
      words.map((word) => word.text),
      ['Hello', 'world'],
    );
    for (const word of words) {
      const { x0, y0, x1, y1 } = word.bbox;
      assert.ok(x0 >= 0 && x1 <= 792 && y0 >= 0 && y1 <= 612, JSON.stringify(word));
    }
  });

  it('keeps reading a cached document after another one was opened on the same thread', async () => {
    const single = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 20_000 });
    try {
      const twoPages = corpusFile('born-digital/ocrmypdf-tagged.pdf');
      const onePage = corpusFile('corrupt/pdfjs-xref_command_missing.pdf');
      assert.equal((await single.inspect(twoPages)).pageCount, 2);
      assert.equal((await single.inspect(onePage)).pageCount, 1);
      // Page 2 of the first file, from the cache, after a one-page document became pdf.js's latest.
      assert.match((await single.extractText(twoPages, 2)).text, /Body text/);
      await assert.rejects(single.extractText(onePage, 2), RangeError);
    } finally {
      await single.close();
    }
  });

  it('opens an AES-256 file with a password that needs SASLprep', async () => {
    // U+00AA and a soft hyphen: SASLprep turns this into "SaSLprep".
    const password = 'SªSL\u00ADprep';
    const inspection = await engine.inspect(corpusFile('encrypted/pdfjs-saslprep-r6.pdf'), { password });
    assert.equal(inspection.pageCount, 1);
    assert.equal(inspection.encrypted, true);
  });

  it('opens an owner-password-only file whatever password is supplied', async () => {
    const inspection = await engine.inspect(corpusFile('encrypted/pdfjs-bug900822.pdf'), { password: 'unrelated' });
    assert.equal(inspection.encrypted, true);
    assert.equal(inspection.pageCount, 1);
    const text = await engine.extractText(corpusFile('encrypted/pdfjs-bug900822.pdf'), 1, { password: 'unrelated' });
    assert.equal(text.usable, true);
  });

  it('names the missing password field in its message', async () => {
    const inspecting = engine.inspect(corpusFile('encrypted/pdfjs-pr6531_1.pdf'));
    const error = await rejectsWith(inspecting, 'PDF_PASSWORD_REQUIRED');
    assert.match(error.message, /`password`/);
  });

  it('stops a call that runs past its time limit with PAGE_RESOURCE_LIMIT, and keeps working', async () => {
    // With this much heap the endless page runs until the clock stops it.
    const hurried = new PdfjsEngine({ threads: 1, maxHeapMb: 2048, taskTimeoutMs: 1500 });
    try {
      const error = await rejectsWith(
        renderPage(hurried, endlessPage, 1, { dpi: DPI, maxPixels: MAX_PIXELS }),
        'PAGE_RESOURCE_LIMIT',
      );
      assert.match(error.message, /1500 ms time limit/);
      const next = await hurried.inspect(corpusFile('rotated/pdfjs-hello_world_rotated.pdf'));
      assert.equal(next.pageCount, 5);
    } finally {
      await hurried.close();
    }
  });

  it('stops a call that exhausts the heap of its thread with PAGE_RESOURCE_LIMIT', async () => {
    // A small heap and a generous time limit, so the heap limit is what trips even on a loaded machine.
    const small = new PdfjsEngine({ threads: 1, maxHeapMb: 128, taskTimeoutMs: 300_000 });
    try {
      const error = await rejectsWith(
        renderPage(small, endlessPage, 1, { dpi: DPI, maxPixels: MAX_PIXELS }),
        'PAGE_RESOURCE_LIMIT',
      );
      assert.match(error.message, /128 MB memory limit/);
    } finally {
      await small.close();
    }
  });

  it('runs at most maxRenders renders at once, leaving the other threads to text extraction', async () => {
    const limited = new PdfjsEngine({ threads: 2, maxHeapMb: 512, taskTimeoutMs: 20_000, maxRenders: 1 });
    try {
      // The endless page never finishes drawing on its own: it holds the only render slot until aborted.
      const running = new AbortController();
      const endless = renderPage(limited, endlessPage, 1, {
        dpi: DPI,
        maxPixels: MAX_PIXELS,
        signal: running.signal,
      });
      const rejected = assert.rejects(endless, (error: Error) => error.name === 'AbortError');
      let settled = false;
      const queued = renderPage(limited, corpusFile('scanned/tess-phototest.pdf'), 1, {
        dpi: DPI,
        maxPixels: MAX_PIXELS,
      }).finally(() => (settled = true));
      // The second thread is free for text while the second render waits for the slot.
      assert.match((await limited.extractText(corpusFile('born-digital/ocrmypdf-tagged.pdf'), 2)).text, /Body text/);
      assert.equal(settled, false, 'the second render ran beside the first');
      running.abort();
      await rejected;
      assertSanePgm(await queued, 230.4, 172.8);
    } finally {
      await limited.close();
    }
    assert.throws(
      () => new PdfjsEngine({ threads: 2, maxHeapMb: 512, taskTimeoutMs: 1000, maxRenders: 0 }),
      RangeError,
    );
  });

  it('rejects with an AbortError, not an InputError, when the caller aborts', async () => {
    const single = new PdfjsEngine({ threads: 1, maxHeapMb: 512, taskTimeoutMs: 20_000 });
    const isAbort = (error: Error): boolean => error.name === 'AbortError' && !(error instanceof InputError);
    try {
      const phototest = corpusFile('scanned/tess-phototest.pdf');
      await assert.rejects(single.inspect(phototest, { signal: AbortSignal.abort() }), isAbort);

      // Aborted while running (the endless page never finishes on its own before its limits): the thread is stopped.
      const running = new AbortController();
      const first = renderPage(single, endlessPage, 1, { dpi: DPI, maxPixels: MAX_PIXELS, signal: running.signal });
      // Aborted while waiting behind it for the only thread.
      const waiting = new AbortController();
      const queued = single.inspect(phototest, { signal: waiting.signal });
      const next = renderPage(single, phototest, 1, { dpi: DPI, maxPixels: MAX_PIXELS });
      waiting.abort();
      await assert.rejects(queued, isAbort);
      await delay(500);
      running.abort();
      await assert.rejects(first, isAbort);
      assertSanePgm(await next, 230.4, 172.8);
    } finally {
      await single.close();
    }
  });
});
