/**
 * ImageEngine on sharp (libvips). Chosen for memory: libvips decodes PNG, JPEG and TIFF strip by strip and
 * shrinks as it decodes (JPEG and WebP at load), so a frame is never held at full size in grayscale, let
 * alone RGBA; its operation cache is off and its threads and the decodes running at once are bounded.
 */
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import pLimit from 'p-limit';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import {
  InputError,
  type PdfImage,
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

  pdfImage(path: string, pageNumber: number, options: { signal?: AbortSignal } = {}): Promise<PdfImage> {
    return this.#decodes(async () => {
      options.signal?.throwIfAborted();
      const page = pageNumber - 1;
      const meta = await this.#metadata(path, page);
      // A JPEG that needs no turn, in gray or RGB, goes into the PDF as it is: no decode, no loss, its bytes kept.
      if (
        meta.format === 'jpeg' &&
        (meta.orientation ?? 1) === 1 &&
        (meta.space === 'b-w' || meta.space === 'srgb') &&
        (meta.channels === 1 || meta.channels === 3)
      ) {
        const colorSpace = meta.channels === 1 ? 'DeviceGray' : 'DeviceRGB';
        const data = await fs.readFile(path);
        return { width: meta.width, height: meta.height, colorSpace, bitsPerComponent: 8, filter: 'DCTDecode', data };
      }
      const gray = meta.space === 'b-w' || (meta.channels ?? 3) <= 2;
      try {
        // Upright (EXIF), transparency flattened onto white as it is for OCR, 8 bits a sample.
        let pipeline = sharp(path, this.#input(page)).rotate().flatten({ background: '#ffffff' });
        pipeline = gray ? pipeline.toColourspace('b-w').extractChannel(0) : pipeline.toColourspace('srgb');
        const raw = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
        options.signal?.throwIfAborted();
        const { width, height } = raw.info;
        // Gray held as RGB (as scanners and joined frames often write it) is stored as the gray it is.
        const pixels = raw.info.channels === 3 ? (grayOfRgb(raw.data) ?? raw.data) : raw.data;
        const channels = pixels === raw.data ? raw.info.channels : 1;
        if (channels === 1 && isBilevel(pixels)) {
          // A black-and-white scan: one bit a pixel, as it was scanned, instead of eight.
          const data = await deflateAsync(packBits(pixels, width, height));
          return { width, height, colorSpace: 'DeviceGray', bitsPerComponent: 1, filter: 'FlateDecode', data };
        }
        // libvips's PNG encoder picks each row's filter; its compressed rows are a FlateDecode stream with PNG
        // predictors as they are.
        const png = await sharp(pixels, { raw: { width, height, channels } })
          .toColourspace(channels === 1 ? 'b-w' : 'srgb')
          .png({ compressionLevel: 6, adaptiveFiltering: true, palette: false })
          .toBuffer();
        return {
          width,
          height,
          colorSpace: channels === 1 ? 'DeviceGray' : 'DeviceRGB',
          bitsPerComponent: 8,
          filter: 'FlateDecode',
          predictor: { colors: channels },
          data: pngImageData(png, channels),
        };
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

const deflateAsync = promisify(deflate);

/** RGB pixels whose every pixel is gray as one gray channel; undefined when one has colour. */
function grayOfRgb(data: Buffer): Buffer | undefined {
  const gray = Buffer.alloc(data.length / 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j++) {
    const v = data[i]!;
    if (data[i + 1] !== v || data[i + 2] !== v) return undefined;
    gray[j] = v;
  }
  return gray;
}

/** Every pixel black or white. */
function isBilevel(data: Buffer): boolean {
  for (const v of data) if (v !== 0 && v !== 255) return false;
  return true;
}

/** 8-bit black-and-white pixels as 1-bit rows, each padded to a byte; 1 is white, as DeviceGray reads it. */
function packBits(data: Buffer, width: number, height: number): Buffer {
  const stride = Math.ceil(width / 8);
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x] === 255) out[y * stride + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return out;
}

/**
 * A PNG's compressed image data (its IDAT chunks joined): zlib data of rows that start with a filter byte,
 * checked to be 8-bit gray or RGB (`channels`), not interlaced, as the PDF image will say it is.
 */
function pngImageData(png: Buffer, channels: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IHDR') {
      const [depth, colourType, interlace] = [png[at + 16], png[at + 17], png[at + 20]];
      if (depth !== 8 || colourType !== (channels === 1 ? 0 : 2) || interlace !== 0) {
        throw new Error(`unexpected PNG encoding (depth ${depth}, colour type ${colourType}, interlace ${interlace})`);
      }
    }
    if (type === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
}
