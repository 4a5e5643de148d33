/**
 * The image render step on the real decoder (sharp): frames read upright by every EXIF orientation, turned on
 * request, flattened onto white, as an 8-bit PGM; the scale policy (own pixels, OCR_DPI, the pixel cap) and
 * its refusals.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { SharpImageEngine } from '../../activities/adapters/sharp-image.js';
import { InputError } from '../../activities/adapters/types.js';
import { DEFAULT_IMAGE_DPI, imageDpi, imageScale, renderImageForOcr } from '../../activities/image-render.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-image-render-'));
const engine = new SharpImageEngine({ maxInputPixels: 2_000_000 });

/** A 3 × 2 gray image, every pixel distinct, so any turn or mirror shows. */
const PIXELS = Buffer.from([10, 50, 90, 130, 170, 210]);

async function write(name: string, image: Sharp): Promise<string> {
  const file = path.join(tmp, name);
  await image.toFile(file);
  return file;
}

/** The pixels of a PGM (P5) after its three header lines. */
function pgmPixels(pgm: Uint8Array): { width: number; height: number; pixels: number[] } {
  const text = Buffer.from(pgm.subarray(0, 32)).toString('latin1');
  const match = /^P5\n(\d+) (\d+)\n255\n/.exec(text);
  assert.ok(match, `not a PGM: ${JSON.stringify(text)}`);
  return { width: Number(match[1]), height: Number(match[2]), pixels: [...pgm.subarray(match[0].length)] };
}

describe('image render step (sharp)', () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads a frame upright under each of the eight EXIF orientations, as libvips autorotation does', async () => {
    for (let orientation = 1; orientation <= 8; orientation++) {
      const file = await write(
        `o${orientation}.png`,
        sharp(PIXELS, { raw: { width: 3, height: 2, channels: 1 } })
          .png()
          .withMetadata({ orientation }),
      );
      const reference = await sharp(file, { autoOrient: true }).extractChannel(0).raw().toBuffer();
      const frame = await engine.frame(file, 1);
      const drawn = pgmPixels((await engine.draw(file, 1, { scale: 1 })).pgm);
      assert.deepEqual(drawn.pixels, [...reference], `orientation ${orientation}`);
      assert.deepEqual([drawn.width, drawn.height], [frame.width, frame.height], `orientation ${orientation}`);
      assert.deepEqual([frame.width, frame.height], orientation >= 5 ? [2, 3] : [3, 2]);
    }
  });

  it('turns a frame clockwise on request, after its EXIF orientation', async () => {
    const file = await write(
      'turn.png',
      sharp(PIXELS, { raw: { width: 3, height: 2, channels: 1 } })
        .png()
        .withMetadata({ orientation: 3 }),
    );
    const drawn = pgmPixels((await engine.draw(file, 1, { scale: 1, rotation: 90 })).pgm);
    // Upright (orientation 3: turned 180°) is [210 170 130 / 90 50 10]; a quarter turn clockwise of that:
    assert.deepEqual([drawn.width, drawn.height], [2, 3]);
    assert.deepEqual(drawn.pixels, [90, 210, 50, 170, 10, 130]);
  });

  it('flattens transparency onto white and makes colour gray', async () => {
    const file = await write(
      'alpha.png',
      sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png(),
    );
    const drawn = pgmPixels((await engine.draw(file, 1, { scale: 1 })).pgm);
    assert.deepEqual(drawn.pixels, new Array<number>(16).fill(255));
  });

  it('reads a frame at its own resolution, shrunk to OCR_DPI and to the pixel cap, never enlarged', async () => {
    assert.equal(imageDpi({ density: undefined }), DEFAULT_IMAGE_DPI);
    assert.equal(imageDpi({ density: 72 }), 72);
    assert.equal(imageScale({ width: 1000, height: 1000, density: 72 }, 300, 50_000_000), 1);
    assert.equal(imageScale({ width: 1000, height: 1000, density: 600 }, 300, 50_000_000), 0.5);
    assert.equal(imageScale({ width: 2000, height: 2000, density: 300 }, 300, 1_000_000), 0.5);

    const file = await write(
      'page.png',
      sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#ffffff' } })
        .png()
        .withMetadata({ density: 600 }),
    );
    const page = await renderImageForOcr(engine, file, 1, { dpi: 300, maxPixels: 50_000_000 });
    assert.deepEqual([page.width, page.height, page.dpi], [600, 500, 300]);
    const capped = await renderImageForOcr(engine, file, 1, { dpi: 300, maxPixels: 75_000 });
    assert.ok(capped.width * capped.height <= 75_000 * 1.01, `${capped.width} × ${capped.height}`);
    assert.equal(Math.round(capped.dpi), 150);
  });

  it('refuses a frame over the decode limit, and one the cap would leave under 50 dpi, with PAGE_TOO_LARGE', async () => {
    const huge = await write(
      'huge.png',
      sharp({ create: { width: 2000, height: 1001, channels: 3, background: '#ffffff' } }).png(),
    );
    await assert.rejects(
      renderImageForOcr(engine, huge, 1, { dpi: 300, maxPixels: 50_000_000 }),
      (err: unknown) =>
        err instanceof InputError && err.code === 'PAGE_TOO_LARGE' && /at most 2000000/.test(err.message),
    );
    const coarse = await write(
      'coarse.png',
      sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#ffffff' } })
        .png()
        .withMetadata({ density: 100 }),
    );
    await assert.rejects(
      renderImageForOcr(engine, coarse, 1, { dpi: 300, maxPixels: 100_000 }),
      (err: unknown) => err instanceof InputError && err.code === 'PAGE_TOO_LARGE' && /32 dpi/.test(err.message),
    );
  });

  it('counts and sizes every frame of a multi-page TIFF, and reads only the count over maxPages', async () => {
    const frames = await Promise.all(
      [1, 2, 3].map((i) =>
        sharp({ create: { width: 40, height: 30, channels: 3, background: { r: i * 60, g: i * 60, b: i * 60 } } })
          .png()
          .toBuffer(),
      ),
    );
    const file = await write('three.tif', sharp(frames, { join: { animated: true } }).tiff());
    const inspection = await engine.inspect(file);
    assert.equal(inspection.pageCount, 3);
    assert.deepEqual(
      inspection.frames.map((f) => [f.width, f.height]),
      [
        [40, 30],
        [40, 30],
        [40, 30],
      ],
    );
    assert.deepEqual(await engine.inspect(file, { maxPages: 2 }), { pageCount: 3, frames: [] });
    const third = pgmPixels((await engine.draw(file, 3, { scale: 1 })).pgm);
    assert.ok(Math.abs(third.pixels[0]! - 180) <= 1, String(third.pixels[0]));
  });

  it('fails a damaged image with IMAGE_CORRUPT at its header, PAGE_UNREADABLE past it', async () => {
    const png = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const truncated = path.join(tmp, 'truncated.png');
    fs.writeFileSync(truncated, png.subarray(0, png.length / 2));
    await assert.rejects(
      engine.draw(truncated, 1, { scale: 1 }),
      (err: unknown) => err instanceof InputError && err.code === 'PAGE_UNREADABLE',
    );
    const damaged = path.join(tmp, 'damaged.png');
    fs.writeFileSync(damaged, Buffer.concat([png.subarray(0, 8), Buffer.alloc(64, 7)]));
    await assert.rejects(
      engine.inspect(damaged),
      (err: unknown) => err instanceof InputError && err.code === 'IMAGE_CORRUPT',
    );
  });
});
