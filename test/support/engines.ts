/**
 * A stand-in for tests that need the real PDF engine with one deliberate fault: extend it and override the
 * one call to misbehave.
 */
import type {
  DrawnPage,
  DrawOptions,
  InspectOptions,
  OpenOptions,
  PageGeometry,
  PageText,
  PdfEngine,
  PdfInspection,
} from '../../activities/adapters/types.js';

/** A PDF engine that forwards every call to a real one; `close` leaves the real one open for the next test. */
export class DelegatingPdf implements PdfEngine {
  constructor(protected readonly inner: PdfEngine) {}
  get maxImagePixels(): number {
    return this.inner.maxImagePixels;
  }
  inspect(path: string, options?: InspectOptions): Promise<PdfInspection> {
    return this.inner.inspect(path, options);
  }
  extractText(path: string, pageNumber: number, options?: OpenOptions): Promise<PageText> {
    return this.inner.extractText(path, pageNumber, options);
  }
  geometry(path: string, pageNumber: number, options?: OpenOptions): Promise<PageGeometry> {
    return this.inner.geometry(path, pageNumber, options);
  }
  draw(path: string, pageNumber: number, options: DrawOptions & OpenOptions): Promise<DrawnPage> {
    return this.inner.draw(path, pageNumber, options);
  }
  largestImagePixels(path: string, pageNumber: number, options?: OpenOptions): Promise<number> {
    return this.inner.largestImagePixels(path, pageNumber, options);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
