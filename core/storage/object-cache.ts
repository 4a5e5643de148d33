import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** The names of the cache's files: a key's sha256, its extension, and a temporary suffix while being written. */
const CACHE_FILE = /^[0-9a-f]{64}(\.[A-Za-z0-9]+)?(\.tmp-[0-9a-f-]{36})?$/;

interface Entry {
  file: string;
  bytes: number;
  /** Leases out on this copy: while any is, eviction passes it by. */
  pins: number;
}

/** A local copy held for use: never evicted until released (an engine may open the file any time before). */
export interface CacheLease {
  file: string;
  /** Ends this use; a copy the limit wanted gone is evicted once its last lease ends. */
  release(): Promise<void>;
}

/**
 * Local copies of remote objects, for engines that read files (pdf.js, qpdf): one folder, a limit in bytes,
 * least recently used copies evicted first. Each object is fetched once however many pages ask for it at the
 * same time; a copy is written under a temporary name and renamed into place, so a file under its final
 * name is always whole. A copy in use is leased (acquire): eviction passes over it until its leases end, so
 * no copy goes between being chosen and being opened. The folder belongs to one process: clear() empties it at start, so what a crashed
 * process left behind goes.
 */
export class ObjectCache {
  /** In use order: the first is the least recently used (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  private readonly fetching = new Map<string, Promise<void>>();
  private bytes = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /**
   * Removes every copy from the folder, a crashed process's copies and temporary files included. Only files
   * named as the cache names them go: a folder named by mistake (STORAGE_CACHE_DIR=/var/lib/folio) keeps the rest.
   */
  async clear(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
    await fs.mkdir(this.dir, { recursive: true });
    for (const name of await fs.readdir(this.dir)) {
      if (CACHE_FILE.test(name)) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  /** The bytes the cache holds now. */
  get size(): number {
    return this.bytes;
  }

  /**
   * The path of a local copy of `key`, made with `download(file)` (which writes the object to `file`) unless
   * one is there or on its way. Not leased: a copy may be evicted before the caller opens it (use acquire).
   */
  async get(key: string, download: (file: string) => Promise<void>): Promise<string> {
    const lease = await this.acquire(key, download);
    await lease.release();
    return lease.file;
  }

  /**
   * A leased local copy of `key` (see get): it stays until `release()`, however far the cache is past its
   * limit meanwhile.
   */
  async acquire(key: string, download: (file: string) => Promise<void>): Promise<CacheLease> {
    for (;;) {
      const entry = this.entries.get(key);
      if (entry) {
        // Touched: it moves to the end of the use order; pinned in the same tick it was found in.
        this.entries.delete(key);
        this.entries.set(key, entry);
        entry.pins += 1;
        let released = false;
        return {
          file: entry.file,
          release: async () => {
            if (released) return;
            released = true;
            entry.pins -= 1;
            // The most recently used copy stays, as when it came in.
            if (entry.pins === 0 && this.bytes > this.maxBytes) await this.evict([...this.entries.keys()].at(-1));
          },
        };
      }
      let pending = this.fetching.get(key);
      if (!pending) {
        pending = this.fetch(key, download).finally(() => this.fetching.delete(key));
        this.fetching.set(key, pending);
      }
      // Once it is in, the loop leases it; evicted again in between (by another copy's arrival), it is fetched again.
      await pending;
    }
  }

  /**
   * Drops the copy of `key`, if there is one, leased or not (called when its document is done with: a lease
   * still out keeps its open file readable, and its release touches nothing).
   */
  async drop(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    await fs.rm(entry.file, { force: true });
  }

  private async fetch(key: string, download: (file: string) => Promise<void>): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    // Named by a hash of the key (keys have folders), keeping the extension for engines that look at it.
    const file = path.join(this.dir, `${createHash('sha256').update(key).digest('hex')}${path.extname(key)}`);
    const partial = `${file}.tmp-${randomUUID()}`;
    try {
      await download(partial);
      const { size } = await fs.stat(partial);
      await fs.rename(partial, file);
      this.entries.set(key, { file, bytes: size, pins: 0 });
      this.bytes += size;
    } catch (err) {
      await fs.rm(partial, { force: true });
      throw err;
    }
    await this.evict(key);
  }

  /**
   * Removes the least recently used copies until the cache fits its limit again; never `keep`, the one just
   * fetched (an object larger than the limit stays until the next one comes), nor a leased copy (it goes when
   * its last lease ends).
   */
  private async evict(keep?: string): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      if (key === keep || entry.pins > 0) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
      // An engine that opened the file keeps reading it: unlinking does not cut an open file.
      await fs.rm(entry.file, { force: true });
    }
  }
}
