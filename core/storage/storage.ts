import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What storing a stream measured on the way through. */
export interface StoredObject {
  key: string;
  bytes: number;
  sha256: string;
  /** The first and last bytes of the object, for content sniffing without a second read. */
  head: Buffer;
  tail: Buffer;
}

/**
 * Where uploaded documents live. Keys are chosen by Folio (never by the client).
 * LocalStorage serves one machine or a shared volume; S3Storage (s3-storage.ts) an S3-compatible bucket.
 */
export interface DocumentStorage {
  /** Streams `source` to `key`, hashing it on the way; never holds the whole object in memory. */
  put(key: string, source: Readable): Promise<StoredObject>;
  /**
   * A local file path holding the object, for engines that read files. Throws NotFoundInStorage. A store that
   * copies objects locally may evict that copy at any time after: to open it later, lease it (leaseLocalPath).
   */
  localPath(key: string): Promise<string>;
  /** localPath, held: the file stays until `release()` (a page's activity holds it while its engines read). */
  leaseLocalPath(key: string): Promise<LocalLease>;
  exists(key: string): Promise<boolean>;
  /** The object's length in bytes; undefined when there is none. */
  sizeOf(key: string): Promise<number | undefined>;
  /** Streams an object back with its length, for answers that send it. Throws NotFoundInStorage. */
  read(key: string): Promise<{ stream: Readable; bytes: number }>;
  /** Removes an object; a missing one is not an error. */
  remove(key: string): Promise<void>;
  /** A cheap check that the store is reachable and writable. */
  check(): Promise<void>;
  /** Every object (and unfinished write) whose key starts with `prefix`, with when it was last written. */
  list(prefix: string): AsyncIterable<StoredEntry>;
  /**
   * Drops any local copy localPath made of the object (the object itself stays): called when a document is
   * done with it. A no-op for a store whose objects are local files.
   */
  release(key: string): Promise<void>;
  /** Drops every local copy localPath made, a crashed process's too: a worker calls it at start. */
  clearLocalCopies(): Promise<void>;
}

/** A local file of a stored object, held until released. */
export interface LocalLease {
  path: string;
  release(): Promise<void>;
}

/** One object as listed: its key and its last write. Unfinished writes are listed with `partial`. */
export interface StoredEntry {
  key: string;
  modifiedAt: Date;
  partial: boolean;
}

/** What marks the key of an unfinished write, as list() reports it (remove() removes it like any key). */
export const PARTIAL_MARK = '.partial-';

export class NotFoundInStorage extends Error {
  override name = 'NotFoundInStorage';
}

/** The store cannot be reached or answers with a server error: worth retrying later, not the caller's fault. */
export class StorageUnavailable extends Error {
  override name = 'StorageUnavailable';
}

const HEAD_BYTES = 1024;
const TAIL_BYTES = 1024;
/** The keys Folio makes: lower-case names under folders, never `..`. */
export const KEY_PATTERN = /^[a-z0-9][a-z0-9/_.-]*$/;

/**
 * A pass-through stream that measures what flows through it: its sha256, its length, its first and last
 * bytes. Every store puts through one, so all of them report the same StoredObject.
 */
export function measure(): { stream: Transform; result(key: string): StoredObject } {
  const hash = createHash('sha256');
  let bytes = 0;
  const heads: Buffer[] = [];
  let headLength = 0;
  let tail: Buffer = Buffer.alloc(0);
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      if (headLength < HEAD_BYTES) {
        const part = chunk.subarray(0, HEAD_BYTES - headLength);
        heads.push(part);
        headLength += part.length;
      }
      tail =
        chunk.length >= TAIL_BYTES ? chunk.subarray(-TAIL_BYTES) : Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
      done(null, chunk);
    },
  });
  return {
    stream,
    result: (key) => ({ key, bytes, sha256: hash.digest('hex'), head: Buffer.concat(heads), tail: Buffer.from(tail) }),
  };
}

/** Files under one directory; writes go to a temporary name and are renamed into place when complete. */
export class LocalStorage implements DocumentStorage {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key) || key.includes('..')) throw new Error(`Invalid storage key: ${key}`);
    return path.join(this.root, key);
  }

  async put(key: string, source: Readable): Promise<StoredObject> {
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}${PARTIAL_MARK}${process.pid}-${Date.now()}`;
    const measured = measure();
    try {
      await pipeline(source, measured.stream, createWriteStream(partial, { flags: 'wx' }));
      await fs.rename(partial, target);
    } catch (err) {
      await fs.rm(partial, { force: true });
      throw err;
    }
    return measured.result(key);
  }

  async localPath(key: string): Promise<string> {
    const p = this.pathOf(key);
    try {
      await fs.access(p);
    } catch {
      throw new NotFoundInStorage(`No stored object ${key}`);
    }
    return p;
  }

  async leaseLocalPath(key: string): Promise<LocalLease> {
    // The objects are the local files: nothing evicts them.
    return { path: await this.localPath(key), release: () => Promise.resolve() };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  async sizeOf(key: string): Promise<number | undefined> {
    const stat = await fs.stat(this.pathOf(key)).catch(() => undefined);
    return stat?.isFile() ? stat.size : undefined;
  }

  async read(key: string): Promise<{ stream: Readable; bytes: number }> {
    const p = this.pathOf(key);
    // Opened before it is measured: an object replaced meanwhile (a rebuilt result) is renamed over, so the
    // open file keeps the bytes it had and its length is the one fstat gives.
    const file = await fs.open(p).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new NotFoundInStorage(`No stored object ${key}`) : err;
    });
    const { size } = await file.stat();
    return { stream: file.createReadStream(), bytes: size };
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  async check(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    const probe = path.join(this.root, `.ready-${process.pid}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  }

  async *list(prefix: string): AsyncIterable<StoredEntry> {
    const dir = path.join(this.root, prefix.slice(0, prefix.lastIndexOf('/') + 1));
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const key = path.relative(this.root, file).split(path.sep).join('/');
      if (!key.startsWith(prefix)) continue;
      // A file may go between listing and stat (an upload renamed into place, another sweep): skip it.
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat) yield { key, modifiedAt: stat.mtime, partial: key.includes(PARTIAL_MARK) };
    }
  }

  async release(): Promise<void> {
    // The objects are local files already: there is no copy to drop.
  }

  async clearLocalCopies(): Promise<void> {
    // Likewise: localPath makes no copies.
  }

  /** Streams an object back (used by tests and future download routes). */
  openRead(key: string): Readable {
    return createReadStream(this.pathOf(key));
  }
}

/** Where uploaded documents are stored. */
export const DOCUMENTS_PREFIX = 'documents/';
const DOCUMENT_KEY = /^documents\/([0-9a-f-]{36})\.pdf$/;

/** The storage key of a job's uploaded document. */
export function documentKey(jobId: string): string {
  return `${DOCUMENTS_PREFIX}${jobId}.pdf`;
}

/** Where the outputs built from a job's pages are stored (the searchable PDF). */
export const RESULTS_PREFIX = 'results/';

/** The storage key of a job's searchable PDF: derived from the job, so a rebuilt one replaces it. */
export function searchablePdfKey(jobId: string): string {
  return `${RESULTS_PREFIX}${jobId}.pdf`;
}

/** The job id a stored document's key names, or undefined for keys of other shapes. */
export function jobIdOfDocumentKey(key: string): string | undefined {
  return DOCUMENT_KEY.exec(key)?.[1];
}
