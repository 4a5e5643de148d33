/**
 * ImageEngine on sharp (libvips). Chosen for memory: libvips decodes PNG, JPEG and TIFF strip by strip and
 * shrinks as it decodes (JPEG and WebP at load), so a frame is never held at full size in grayscale, let
 * alone RGBA; its operation cache is off and its threads and the decodes running at once are bounded.
 */
import pLimit from 'p-limit';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import {
  InputError,
  type ImageDrawOptions,
  type ImageEngine,
  type ImageFrame,
  type ImageInspection,
  type QuarterTurn,
  type RenderedPage,
} from './types.js';

// Process-wide libvips settings: no cache of decoded images between calls, one libvips thread per decode.
sharp.cache(false);
sharp.concurrency(1);

export interface SharpImageEngineOptions {
  /** Frames of more than this many pixels are refused before decoding (sharp's limitInputPixels). */
  maxInputPixels: number;
  /** Decodes that run at once; further ones wait. */
  maxDecodes?: number;
}

/** The turn and mirror that put a frame upright, by its EXIF Orientation (1–8), as sharp applies them. */
const EXIF_ORIENTATION: Record<number, { turn: QuarterTurn; mirror: boolean }> = {
  1: { turn: 0, mirror: false },
  2: { turn: 0, mirror: true },
  3: { turn: 180, mirror: false },
  4: { turn: 180, mirror: true },
  5: { turn: 270, mirror: true },
  6: { turn: 90, mirror: false },
  7: { turn: 90, mirror: true },
  8: { turn: 270, mirror: false },
};

/** Reads image documents with sharp, each frame decoded once, shrunk while decoding, to grayscale. */
export class SharpImageEngine implements ImageEngine {
  readonly maxInputPixels: number;
  readonly #decodes: ReturnType<typeof pLimit>;

  constructor(options: SharpImageEngineOptions) {
    this.maxInputPixels = options.maxInputPixels;
    this.#decodes = pLimit(options.maxDecodes ?? 2);
  }

  async inspect(path: string, options: { maxPages?: number; signal?: AbortSignal } = {}): Promise<ImageInspection> {
    const first = await this.#metadata(path, 0);
    const pageCount = first.pages ?? 1;
    if (options.maxPages !== undefined && pageCount > options.maxPages) return { pageCount, frames: [] };
    const frames = [uprightFrame(first)];
    for (let page = 1; page < pageCount; page++) {
      options.signal?.throwIfAborted();
      frames.push(uprightFrame(await this.#metadata(path, page)));
    }
    return { pageCount, frames };
  }

  async frame(path: string, pageNumber: number): Promise<ImageFrame> {
    return uprightFrame(await this.#metadata(path, pageNumber - 1));
  }

  draw(path: string, pageNumber: number, options: ImageDrawOptions): Promise<Omit<RenderedPage, 'dpi'>> {
    return this.#decodes(async () => {
      options.signal?.throwIfAborted();
      const page = pageNumber - 1;
      const meta = await this.#metadata(path, page);
      const width = Math.max(1, Math.round(meta.width * options.scale));
      const height = Math.max(1, Math.round(meta.height * options.scale));
      try {
        // Decoded, flattened onto white, scaled and made gray in one streaming pass, before any turn: a
        // turn needs the whole image in memory, so it is made on the small 8-bit result.
        const gray = await sharp(path, this.#input(page))
          .flatten({ background: '#ffffff' })
          .resize(width, height, { fit: 'fill' })
          .toColourspace('b-w')
          .extractChannel(0)
          .raw({ depth: 'uchar' })
          .toBuffer({ resolveWithObject: true });
        options.signal?.throwIfAborted();
        const upright = EXIF_ORIENTATION[meta.orientation ?? 1] ?? EXIF_ORIENTATION[1]!;
        let image: GrayImage = { data: gray.data, width: gray.info.width, height: gray.info.height };
        if (upright.turn !== 0 || upright.mirror) image = await turn(image, upright.turn, upright.mirror);
        if (options.rotation) image = await turn(image, options.rotation, false);
        return { pgm: toPgm(image), width: image.width, height: image.height };
      } catch (err) {
        if (err instanceof InputError || options.signal?.aborted) throw err;
        throw new InputError(
          'PAGE_UNREADABLE',
          `Page ${pageNumber} of the image cannot be decoded (${firstLine(err)}): the file is truncated or damaged. Upload it again or export it anew.`,
        );
      }
    });
  }

  #input(page: number): SharpOptions {
    // failOn 'error': a truncated or damaged file is an error, not a page padded with gray.
    return { page, limitInputPixels: this.maxInputPixels, failOn: 'error', sequentialRead: true };
  }

  async #metadata(path: string, page: number): Promise<Metadata> {
    try {
      return await sharp(path, { page, limitInputPixels: false }).metadata();
    } catch (err) {
      throw new InputError(
        'IMAGE_CORRUPT',
        `The image cannot be read (${firstLine(err)}): its header is damaged or it is not a complete PNG, JPEG, TIFF or WebP file. Upload it again or export it anew.`,
      );
    }
  }
}

/** A frame's size upright (EXIF orientations 5–8 swap width and height) and its declared resolution. */
function uprightFrame(meta: Metadata): ImageFrame {
  const swapped = (meta.orientation ?? 1) >= 5;
  const density = meta.density !== undefined && meta.density > 0 ? meta.density : undefined;
  return {
    width: swapped ? meta.height : meta.width,
    height: swapped ? meta.width : meta.height,
    density,
  };
}

/** 8-bit single-channel pixels, row by row. */
interface GrayImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Turns an 8-bit gray image clockwise, then mirrors it left to right when asked. */
async function turn(image: GrayImage, angle: QuarterTurn, mirror: boolean): Promise<GrayImage> {
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } }).rotate(angle);
  if (mirror) pipeline = pipeline.flop();
  const out = await pipeline.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data: out.data, width: out.info.width, height: out.info.height };
}

/** 8-bit grayscale pixels as a binary PGM (P5), the form the OCR engine takes. */
function toPgm(image: GrayImage): Uint8Array {
  const header = Buffer.from(`P5\n${image.width} ${image.height}\n255\n`, 'ascii');
  return Buffer.concat([header, image.data]);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
}
