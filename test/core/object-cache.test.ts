/**
 * ObjectCache's leases on real files: a copy in use is never evicted between being chosen and being opened
 * (the evict-before-open race), goes once its last lease ends, and a dropped copy's late release touches
 * nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { ObjectCache } from '../../core/storage/object-cache.js';

describe('ObjectCache leases', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-object-cache-'));
  let downloads: string[];
  /** Writes 100 bytes of `key` to the file, counting downloads. */
  const download = (key: string) => async (file: string) => {
    downloads.push(key);
    await fs.promises.writeFile(file, Buffer.alloc(100, key.charCodeAt(0)), { flag: 'wx' });
  };
  beforeEach(() => {
    downloads = [];
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a leased copy outlives the limit until released; an unleased one is evicted before it is opened', async () => {
    // Room for one copy and a half.
    const cache = new ObjectCache(path.join(dir, 'race'), 150);
    await cache.clear();

    // The race as it was: a copy chosen (get), another arrives before the engine opens the first, which is gone.
    const chosen = await cache.get('documents/a.pdf', download('a'));
    await cache.get('documents/b.pdf', download('b'));
    assert.equal(fs.existsSync(chosen), false, 'get() gives no hold: the copy went before it was opened');

    // Leased, the copy stays however many others come, and is opened whole.
    const lease = await cache.acquire('documents/a.pdf', download('a'));
    for (const key of ['documents/c.pdf', 'documents/d.pdf']) await cache.get(key, download(key[10]!));
    assert.deepEqual(fs.readFileSync(lease.file), Buffer.alloc(100, 'a'.charCodeAt(0)));
    assert.ok(cache.size > 150, 'past its limit while the lease is out');

    // Released, it goes (the most recently used copy stays, as when it came in).
    await lease.release();
    await lease.release(); // a second release changes nothing
    assert.equal(fs.existsSync(lease.file), false);
    assert.equal(cache.size, 100);
    assert.deepEqual(downloads, ['a', 'b', 'a', 'c', 'd']);
  });

  it('concurrent leases share one download; the copy stays until the last is released', async () => {
    const cache = new ObjectCache(path.join(dir, 'shared'), 150);
    await cache.clear();
    const leases = await Promise.all([1, 2, 3].map(() => cache.acquire('documents/a.pdf', download('a'))));
    assert.deepEqual(downloads, ['a']);
    assert.equal(new Set(leases.map((l) => l.file)).size, 1);
    await cache.get('documents/b.pdf', download('b'));
    await leases[0]!.release();
    await leases[1]!.release();
    await cache.get('documents/c.pdf', download('c'));
    assert.ok(fs.existsSync(leases[2]!.file), 'one lease is still out');
    await leases[2]!.release();
    await cache.get('documents/d.pdf', download('d'));
    assert.equal(fs.existsSync(leases[2]!.file), false);
  });

  it("a dropped copy's late release leaves the next copy of the same key alone", async () => {
    const cache = new ObjectCache(path.join(dir, 'drop'), 150);
    await cache.clear();
    const first = await cache.acquire('documents/a.pdf', download('a'));
    await cache.drop('documents/a.pdf');
    assert.equal(fs.existsSync(first.file), false);
    assert.equal(cache.size, 0);
    const second = await cache.acquire('documents/a.pdf', download('a'));
    await first.release();
    await cache.get('documents/b.pdf', download('b'));
    assert.ok(fs.existsSync(second.file), 'the new copy is leased');
    assert.equal(cache.size, 200);
    await second.release();
    assert.equal(cache.size, 100);
  });
});
