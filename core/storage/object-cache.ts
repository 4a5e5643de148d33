import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

interface Entry {
  file: string;
  bytes: number;
}

/**
 * Local copies of remote objects, for engines that read files (pdf.js, qpdf): one folder, a limit in bytes,
 * least recently used copies evicted first. Each object is fetched once however many pages ask for it at the
 * same time; a copy is written under a temporary name and renamed into place, so a file under its final
 * name is always whole. The folder belongs to one process: clear() empties it at start, so what a crashed
 * process left behind goes.
 */
export class ObjectCache {
  /** In use order: the first is the least recently used (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  private readonly fetching = new Map<string, Promise<string>>();
  private bytes = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Empties the folder (a crashed process's copies and temporary files included). */
  async clear(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
    await fs.rm(this.dir, { recursive: true, force: true });
    await fs.mkdir(this.dir, { recursive: true });
  }

  /** The bytes the cache holds now. */
  get size(): number {
    return this.bytes;
  }

  /**
   * The path of a local copy of `key`, made with `download(file)` (which writes the object to `file`) unless
   * one is there or on its way.
   */
  async get(key: string, download: (file: string) => Promise<void>): Promise<string> {
    const entry = this.entries.get(key);
    if (entry) {
      // Touched: it moves to the end of the use order.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.file;
    }
    let pending = this.fetching.get(key);
    if (!pending) {
      pending = this.fetch(key, download).finally(() => this.fetching.delete(key));
      this.fetching.set(key, pending);
    }
    return pending;
  }

  /** Drops the copy of `key`, if there is one. */
  async drop(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    await fs.rm(entry.file, { force: true });
  }

  private async fetch(key: string, download: (file: string) => Promise<void>): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    // Named by a hash of the key (keys have folders), keeping the extension for engines that look at it.
    const file = path.join(this.dir, `${createHash('sha256').update(key).digest('hex')}${path.extname(key)}`);
    const partial = `${file}.tmp-${randomUUID()}`;
    try {
      await download(partial);
      const { size } = await fs.stat(partial);
      await fs.rename(partial, file);
      this.entries.set(key, { file, bytes: size });
      this.bytes += size;
    } catch (err) {
      await fs.rm(partial, { force: true });
      throw err;
    }
    await this.evict(key);
    return file;
  }

  /**
   * Removes the least recently used copies until the cache fits its limit again; never `keep`, the one just
   * asked for (an object larger than the limit stays until the next one comes).
   */
  private async evict(keep: string): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      if (key === keep) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
      // An engine that opened the file keeps reading it: unlinking does not cut an open file.
      await fs.rm(entry.file, { force: true });
    }
  }
}
