/**
 * S3Storage and its local cache on the harness's real S3-compatible server (versitygw): streaming multipart
 * puts measured like the folder store's, reads with their length, unfinished uploads listed as partial and
 * aborted by remove, a bounded cache that downloads an object once, and a store that is down named as such.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { CreateMultipartUploadCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ObjectCache } from '../../core/storage/object-cache.js';
import { S3Storage, type S3Location } from '../../core/storage/s3-storage.js';
import { LocalStorage, StorageUnavailable, type StoredEntry } from '../../core/storage/storage.js';
import { freePort } from '../../scripts/lib/services.js';
import { loadConfig } from '../../src/config/config.js';
import { harnessEnv } from '../support/harness.js';

const MB = 1024 * 1024;

/** `total` bytes of a repeating pattern, produced in 1 MB chunks (never held whole). */
function generated(total: number, failAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) {
        this.destroy(new Error('the client went away'));
        return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(MB, total - sent);
      const chunk = Buffer.alloc(n, (sent / MB) % 251);
      sent += n;
      this.push(chunk);
    },
  });
}

async function all(entries: AsyncIterable<StoredEntry>): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const e of entries) out.push(e);
  return out;
}

describe('S3Storage on a real S3-compatible server', () => {
  const env = harnessEnv();
  const config = loadConfig(env).storage;
  if (config.kind !== 's3') throw new Error('the harness keeps documents in its bucket: STORAGE_URL=s3://…');
  // A prefix of this file's own: other files' objects are never listed here.
  const location: S3Location = { ...config, prefix: `s3-storage-test-${randomUUID().slice(0, 8)}/` };
  let cacheDir: string;
  let client: S3Client;
  let gets = 0;

  before(() => {
    cacheDir = fs.mkdtempSync(path.join(env.FOLIO_TEST_TMP ?? os.tmpdir(), 'cache-'));
    client = new S3Client({ endpoint: location.endpoint, region: location.region, forcePathStyle: true });
    // Counts the reads of object bodies, to see the cache download each object once.
    client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'GetObjectCommand') gets++;
        return next(args);
      },
      { step: 'initialize' },
    );
  });
  after(() => client.destroy());

  const store = (maxBytes = 64 * MB) => new S3Storage(location, new ObjectCache(cacheDir, maxBytes), client);

  it('streams a multipart put, measured as the folder store measures it, and reads it back with its length', async () => {
    const s3 = store();
    const folder = new LocalStorage(fs.mkdtempSync(path.join(env.FOLIO_TEST_TMP ?? os.tmpdir(), 'folder-')));
    // 20 MB: three parts of 8 MB; the folder store measures the same bytes.
    const total = 20 * MB + 123;
    const stored = await s3.put('documents/big.pdf', generated(total));
    const local = await folder.put('documents/big.pdf', generated(total));
    assert.equal(stored.bytes, total);
    assert.equal(stored.sha256, local.sha256);
    assert.deepEqual([stored.head, stored.tail], [local.head, local.tail]);

    const { stream, bytes } = await s3.read('documents/big.pdf');
    assert.equal(bytes, total);
    assert.equal(
      createHash('sha256')
        .update(await buffer(stream))
        .digest('hex'),
      stored.sha256,
    );
    assert.equal(await s3.sizeOf('documents/big.pdf'), total);
    assert.equal(await s3.exists('documents/big.pdf'), true);
    assert.deepEqual(
      (await all(s3.list('documents/'))).map((e) => [e.key, e.partial]),
      [['documents/big.pdf', false]],
    );
    await s3.remove('documents/big.pdf');
    assert.equal(await s3.exists('documents/big.pdf'), false);
    assert.equal(await s3.sizeOf('documents/big.pdf'), undefined);
    await assert.rejects(s3.read('documents/big.pdf'), { name: 'NotFoundInStorage' });
    await s3.remove('documents/big.pdf'); // a missing object is not an error
  });

  it('puts of every shape around the 5 MiB part: empty, one byte, one part exactly, two parts and a byte', async () => {
    const s3 = store();
    for (const total of [0, 1, 5 * MB, 10 * MB + 1]) {
      const key = `documents/size-${total}.pdf`;
      const stored = await s3.put(key, generated(total));
      assert.equal(stored.bytes, total);
      const { stream, bytes } = await s3.read(key);
      assert.equal(bytes, total);
      assert.equal(
        createHash('sha256')
          .update(await buffer(stream))
          .digest('hex'),
        stored.sha256,
        `${total} bytes`,
      );
      await s3.remove(key);
    }
    assert.deepEqual(await all(s3.list('documents/size-')), [], 'no unfinished multipart upload is left');
  });

  it('a put cut off mid-stream fails and leaves no object; an unfinished upload is listed as partial and remove aborts it', async () => {
    const s3 = store();
    await assert.rejects(s3.put('documents/cut.pdf', generated(30 * MB, 17 * MB)), /went away/);
    assert.equal(await s3.exists('documents/cut.pdf'), false);

    // What an API killed mid-upload leaves: a multipart upload never completed.
    const started = await client.send(
      new CreateMultipartUploadCommand({ Bucket: location.bucket, Key: `${location.prefix}documents/orphan.pdf` }),
    );
    const listed = await all(s3.list('documents/'));
    const partial = listed.find((e) => e.partial);
    assert.ok(partial, `an unfinished upload is listed: ${JSON.stringify(listed)}`);
    assert.ok(partial.key.startsWith('documents/orphan.pdf') && partial.key.endsWith(started.UploadId!));
    await s3.remove(partial.key);
    assert.deepEqual(await all(s3.list('documents/')), []);
  });

  it('localPath: one download for concurrent asks, least recently used copies evicted past the limit, release and clear', async () => {
    const s3 = store(250 * 1024);
    await s3.clearLocalCopies();
    for (const name of ['a', 'b', 'c']) await s3.put(`documents/${name}.pdf`, generated(100 * 1024));
    gets = 0;
    const paths = await Promise.all(Array.from({ length: 5 }, () => s3.localPath('documents/a.pdf')));
    assert.equal(new Set(paths).size, 1);
    assert.equal(gets, 1, 'five asks at once, one download');
    assert.equal(fs.statSync(paths[0]!).size, 100 * 1024);
    assert.ok(paths[0]!.endsWith('.pdf'));

    const b = await s3.localPath('documents/b.pdf');
    await s3.localPath('documents/a.pdf'); // a is used again: b is now the least recently used
    const c = await s3.localPath('documents/c.pdf');
    assert.equal(fs.existsSync(b), false, 'b evicted: three copies exceed 250 KB');
    assert.ok(fs.existsSync(paths[0]!) && fs.existsSync(c));
    assert.equal(gets, 3);
    assert.deepEqual(
      fs.readdirSync(cacheDir).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary file left',
    );

    await s3.release('documents/c.pdf');
    assert.equal(fs.existsSync(c), false);
    // A file that is not the cache's (a folder named by mistake) stays.
    fs.writeFileSync(path.join(cacheDir, 'notes.txt'), 'keep me');
    await s3.clearLocalCopies();
    assert.deepEqual(fs.readdirSync(cacheDir), ['notes.txt']);
    fs.rmSync(path.join(cacheDir, 'notes.txt'));
    await assert.rejects(s3.localPath('documents/missing.pdf'), { name: 'NotFoundInStorage' });
    assert.deepEqual(fs.readdirSync(cacheDir), [], 'a failed download leaves nothing');
  });

  it('a store that does not answer is StorageUnavailable, for every operation', async () => {
    const down = new S3Storage(
      { ...location, endpoint: `http://127.0.0.1:${await freePort()}` },
      new ObjectCache(cacheDir, MB),
    );
    await assert.rejects(down.check(), StorageUnavailable);
    await assert.rejects(down.put('documents/x.pdf', generated(MB)), StorageUnavailable);
    await assert.rejects(down.read('documents/x.pdf'), StorageUnavailable);
    await assert.rejects(down.exists('documents/x.pdf'), StorageUnavailable);
    await assert.rejects(all(down.list('documents/')), StorageUnavailable);
  });

  it('objects stay under the prefix: another prefix of the same bucket sees none of them', async () => {
    const s3 = store();
    await s3.put('documents/mine.pdf', generated(1000));
    const other = new S3Storage(
      { ...location, prefix: `${location.prefix}other/` },
      new ObjectCache(cacheDir, MB),
      client,
    );
    assert.deepEqual(await all(other.list('documents/')), []);
    const raw = await client.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: `${location.prefix}documents/mine.pdf` }),
    );
    assert.equal(raw.ContentLength, 1000);
    await s3.remove('documents/mine.pdf');
  });
});
