/**
 * What the document and page activities share: classifying an adapter's error into a failure the retry
 * policy understands, opening the sealed document password, and heartbeating through long work.
 */
import { open as openFile } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { IMAGE_SIGNATURE_BYTES, imageTypeOf, type ImageMediaType } from '../core/document-type.js';
import { open as openSealed, SealedSecretError } from '../core/sealed-secret.js';
import {
  NotFoundInStorage,
  StorageUnavailable,
  type DocumentStorage,
  type LocalLease,
} from '../core/storage/storage.js';
import type { SealedPassword } from '../core/contracts.js';
import { InputError } from './adapters/types.js';

/** Turns an adapter's input problem into a non-retryable failure with its stable type; anything else as it is. */
export function asFailure(err: unknown): unknown {
  if (err instanceof InputError) return ApplicationFailure.nonRetryable(err.message, err.code);
  if (err instanceof NotFoundInStorage) {
    return ApplicationFailure.nonRetryable(
      'The uploaded file is no longer in storage; upload it again.',
      'FILE_MISSING',
    );
  }
  return err;
}

/** How long a page waits between asks of an object store that is away: doubling from the first to the last. */
const STORE_WAIT_MS = { first: 2_000, last: 30_000 };
/** Heartbeats while waiting, well inside the shortest page heartbeat timeout (4 s). */
const STORE_WAIT_BEAT_MS = 1_000;

/**
 * A local copy of a stored document (storage.leaseLocalPath), held until its release() (call it in a
 * `finally`: a bucket's cache never evicts a held copy, so it cannot go between being chosen and being opened),
 * waiting out an object store that is away (StorageUnavailable): asked again after 2 s, doubling to 30 s,
 * heartbeating meanwhile, until it answers or the activity is cancelled or times out. An outage costs the
 * page time, not one of its attempts, so a store that is down for minutes does not fail documents whose pages
 * have three attempts.
 */
export async function localCopy(storage: DocumentStorage, key: string): Promise<LocalLease> {
  const ctx = Context.current();
  for (let wait = STORE_WAIT_MS.first; ; wait = Math.min(wait * 2, STORE_WAIT_MS.last)) {
    try {
      return await storage.leaseLocalPath(key);
    } catch (err) {
      if (!(err instanceof StorageUnavailable)) throw err;
      ctx.log.warn('The object store is unavailable; asking again', { key, waitMs: wait, error: err.message });
      for (let waited = 0; waited < wait; waited += STORE_WAIT_BEAT_MS) {
        ctx.heartbeat({ waitingForStore: err.message });
        await ctx.sleep(STORE_WAIT_BEAT_MS);
      }
    }
  }
}

/** Opens sealed document passwords at the last moment; the clear text never leaves this process. */
export function passwordOpener(secretKey: Buffer | undefined) {
  return (jobId: string, sealed: SealedPassword | undefined): string | undefined => {
    if (sealed === undefined) return undefined;
    if (!secretKey) {
      throw ApplicationFailure.nonRetryable(
        'This worker has no DOCUMENT_SECRET_KEY, so it cannot open the document password.',
        'PASSWORD_KEY_MISSING',
      );
    }
    try {
      return openSealed(secretKey, jobId, sealed);
    } catch (err) {
      if (!(err instanceof SealedSecretError)) throw err;
      throw ApplicationFailure.nonRetryable(
        'The document password was sealed with another DOCUMENT_SECRET_KEY; every API and worker process must share one.',
        'PASSWORD_KEY_MISMATCH',
      );
    }
  };
}

export type PasswordOpener = ReturnType<typeof passwordOpener>;

/**
 * Heartbeats on a timer while `work` runs, so a long OCR call is seen alive and learns of cancellation.
 * The first one after `intervalMs`, not at the start: the heartbeat timeout runs from the attempt's start
 * anyway, and a page read within the interval then costs Temporal no heartbeat at all.
 */
export async function withHeartbeat<T>(intervalMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), intervalMs);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Whether a stored document is an image, and which format, by its first bytes as the API sniffed it at
 * upload; anything else the API accepted is a PDF.
 */
export async function imageTypeOfFile(path: string): Promise<ImageMediaType | undefined> {
  const file = await openFile(path, 'r');
  try {
    const head = Buffer.alloc(IMAGE_SIGNATURE_BYTES);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return imageTypeOf(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
