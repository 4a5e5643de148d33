/**
 * PdfEngine on pdf.js. All pdf.js work runs in a pool of worker threads (pdfjs-thread.ts), each with a heap
 * limit, and every call has a time limit: a file that makes pdf.js loop or grow without bound fails with
 * PAGE_RESOURCE_LIMIT and costs one thread, which piscina replaces.
 */
import { fileURLToPath } from 'node:url';
import { MessageChannel, type Transferable } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { MAX_IMAGE_PIXELS, type Rescale, type ThreadReply, type ThreadTask } from './pdfjs-thread.js';
import {
  InputError,
  type DrawnContent,
  type DrawnPage,
  type DrawOptions,
  type InspectOptions,
  type OpenOptions,
  type PageGeometry,
  type PageText,
  type PdfEngine,
  type PdfInspection,
} from './types.js';

export interface PdfjsEngineOptions {
  /** Worker threads, and so the number of calls that run at once; further calls wait their turn. */
  threads: number;
  /** Heap limit of each thread (V8 old generation). Canvases and decoded images live outside it. */
  maxHeapMb: number;
  /** Limit on one call's running time, not counting the wait for a free thread. */
  taskTimeoutMs: number;
  /**
   * Renders that run at once (default: one per thread). A render of a scanned letter page holds ~250 MB
   * while it runs (decoded image, canvases), so fewer than `threads` bounds the peak; text extraction
   * still uses every thread.
   */
  maxRenders?: number;
}

/** Reads PDFs with pdf.js in worker threads that a hostile file can exhaust without taking the process down. */
export class PdfjsEngine implements PdfEngine {
  readonly maxImagePixels = MAX_IMAGE_PIXELS;
  readonly #pool: Piscina<ThreadTask, ThreadReply<unknown>>;
  readonly #slots: Slots;
  readonly #renders: Slots;
  readonly #options: PdfjsEngineOptions;

  constructor(options: PdfjsEngineOptions) {
    const { threads, maxRenders = threads } = options;
    if (!Number.isInteger(maxRenders) || maxRenders < 1) {
      throw new RangeError(`maxRenders must be a positive integer, got ${maxRenders}`);
    }
    this.#options = options;
    this.#slots = new Slots(threads);
    this.#renders = new Slots(maxRenders);
    this.#pool = new Piscina({
      filename: fileURLToPath(new URL('./pdfjs-thread.js', import.meta.url)),
      minThreads: options.threads,
      maxThreads: options.threads,
      // Threads keep open documents between calls; an idle thread must not be retired with its cache.
      idleTimeout: Infinity,
      // pdf.js finishes cleanup work after a call returns, so the thread's event loop must keep running.
      atomics: 'disabled',
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb },
    });
    // A thread that dies between calls has no task to fail; piscina replaces it. Without a listener the
    // 'error' event would be thrown and end the process.
    this.#pool.on('error', () => undefined);
  }

  inspect(path: string, options: InspectOptions = {}): Promise<PdfInspection> {
    const { password, maxPages, signal } = options;
    return this.#run<PdfInspection>({ op: 'inspect', path, password, maxPages }, signal);
  }

  extractText(path: string, pageNumber: number, options: OpenOptions = {}): Promise<PageText> {
    return this.#run<PageText>({ op: 'extractText', path, pageNumber, password: options.password }, options.signal);
  }

  geometry(path: string, pageNumber: number, options: OpenOptions = {}): Promise<PageGeometry> {
    return this.#run<PageGeometry>({ op: 'geometry', path, pageNumber, password: options.password }, options.signal);
  }

  async draw(path: string, pageNumber: number, options: DrawOptions & OpenOptions): Promise<DrawnPage> {
    const { scale, password, signal, rotation = 0, rescale } = options;
    await this.#renders.acquire(signal);
    try {
      const task = { op: 'draw', path, pageNumber, password, scale, rotation } as const;
      if (!rescale) return await this.#run<DrawnPage>(task, signal);
      // The thread asks for the scale between looking at the page and drawing it, within one call: the page
      // stays open on that thread, and a call that can only wait for this one never takes its place.
      const { port1, port2 } = new MessageChannel();
      let failure: { error: unknown } | undefined;
      port1.on('message', ({ content }: { content: DrawnContent }) => {
        let reply: Rescale;
        try {
          reply = { scale: validScale(rescale(content)) };
        } catch (error) {
          failure = { error };
          reply = { scale: undefined };
        }
        port1.postMessage(reply);
      });
      try {
        return await this.#run<DrawnPage>({ ...task, rescale: port2 }, signal, [port2]);
      } catch (error) {
        throw failure ? failure.error : error;
      } finally {
        port1.close();
      }
    } finally {
      this.#renders.release();
    }
  }

  largestImagePixels(path: string, pageNumber: number, options: OpenOptions = {}): Promise<number> {
    return this.#run<number>({ op: 'largestImage', path, pageNumber }, options.signal);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  async #run<T>(task: ThreadTask, signal: AbortSignal | undefined, transferList?: Transferable[]): Promise<T> {
    await this.#slots.acquire(signal);
    try {
      // The clock starts once a thread is free, so a long queue never looks like a slow file.
      const timeout = AbortSignal.timeout(this.#options.taskTimeoutMs);
      let reply: ThreadReply<unknown>;
      try {
        reply = await this.#pool.run(task, {
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          transferList,
        });
      } catch (error) {
        // The caller's cancellation wins over a limit that happened to trip at the same moment.
        if (signal?.aborted) throw error;
        if (timeout.aborted) {
          throw new InputError(
            'PAGE_RESOURCE_LIMIT',
            `Reading the PDF took longer than the ${this.#options.taskTimeoutMs} ms time limit and was stopped; the file is too complex or malformed. Simplify or re-export it.`,
          );
        }
        if (error instanceof Error && 'code' in error && error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          throw new InputError(
            'PAGE_RESOURCE_LIMIT',
            `Reading the PDF needed more than the ${this.#options.maxHeapMb} MB memory limit and was stopped; the file is too complex or malformed. Simplify or re-export it.`,
          );
        }
        throw error;
      }
      if (!reply.ok) throw new InputError(reply.code, reply.message);
      return reply.value as T;
    } finally {
      this.#slots.release();
    }
  }
}

function validScale(scale: number): number {
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`rescale returned ${scale}, not a positive scale`);
  return scale;
}

/** A FIFO of call slots, one per thread, that a waiting caller can leave by aborting. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(count: number) {
    this.#free = count;
  }

  acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(grant);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(abortError(signal?.reason));
      };
      this.#waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands the slot straight to the next waiter, if any. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** The same shape as piscina's rejection for a call aborted while running. */
function abortError(reason: unknown): Error {
  const error = new Error('The operation was aborted', { cause: reason });
  error.name = 'AbortError';
  return error;
}
