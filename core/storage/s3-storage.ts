import { createWriteStream } from 'node:fs';
import { pipeline as connect, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { putInParts } from './multipart-put.js';
import type { ObjectCache } from './object-cache.js';
import {
  KEY_PATTERN,
  measure,
  NotFoundInStorage,
  PARTIAL_MARK,
  StorageUnavailable,
  type DocumentStorage,
  type LocalLease,
  type StoredEntry,
  type StoredObject,
} from './storage.js';

/** Where a bucket is and how to reach it; credentials come from the AWS SDK's standard chain (AWS_* variables). */
export interface S3Location {
  bucket: string;
  /** Put before every key: `folio/` keeps Folio's objects under one folder of a shared bucket; may be empty. */
  prefix: string;
  /** An S3-compatible server's URL (MinIO, versitygw, …); absent: AWS itself. */
  endpoint?: string;
  region: string;
  /** Bucket in the path (http://host/bucket/key), as most S3-compatible servers want, not in the host name. */
  forcePathStyle: boolean;
}

/** Parts of a multipart upload (S3's smallest): two buffers of this size per upload, one sent while the other fills. */
const PART_BYTES = 5 * 1024 * 1024;

/** Node's codes for a server that cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload' || statusOf(err) === 404;
}

/**
 * The store's failures that say nothing about the request: the server is down, unreachable, too slow or
 * failing (5xx). They become StorageUnavailable (the API answers 503, activities retry); others pass as they are.
 */
function classified(err: unknown, what: string): unknown {
  if (err instanceof StorageUnavailable || err instanceof NotFoundInStorage) return err;
  const e = err as { code?: string; name?: string; $retryable?: unknown; cause?: { code?: string } } | null;
  const status = statusOf(err);
  const unreachable =
    NETWORK_CODES.has(e?.code ?? '') ||
    NETWORK_CODES.has(e?.cause?.code ?? '') ||
    e?.name === 'TimeoutError' ||
    e?.$retryable !== undefined ||
    (status !== undefined && status >= 500);
  if (!unreachable) return err;
  return new StorageUnavailable(`The object store is unavailable (${what}): ${String((err as Error).message ?? err)}`, {
    cause: err,
  });
}

/** How Folio's S3 clients (the document store's, the tus uploads') reach the bucket. */
export function s3ClientConfig(location: S3Location): S3ClientConfig {
  return {
    region: location.region,
    forcePathStyle: location.forcePathStyle,
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
    // A store that is down answers quickly with an error instead of hanging a request; the callers
    // (the API's upload, the activities' retry policy) decide when to try again.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
  };
}

/**
 * Objects in an S3-compatible bucket. put() streams through a multipart upload (putInParts: two 5 MiB part
 * buffers per upload, never the whole object); an upload cut off leaves an unfinished multipart upload that
 * list() reports as partial, so the orphan sweep aborts it. localPath() and leaseLocalPath() copy an object into a
 * bounded local cache, since the engines read files.
 */
export class S3Storage implements DocumentStorage {
  private readonly client: S3Client;

  constructor(
    private readonly location: S3Location,
    private readonly cache: ObjectCache,
    client?: S3Client,
  ) {
    this.client = client ?? new S3Client(s3ClientConfig(location));
  }

  private objectKey(key: string): string {
    if (!KEY_PATTERN.test(key) || key.includes('..')) throw new Error(`Invalid storage key: ${key}`);
    return `${this.location.prefix}${key}`;
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw classified(err, what);
    }
  }

  async put(key: string, source: Readable): Promise<StoredObject> {
    const measured = measure();
    // The callback form hands back the last stream; a failing source (a cut upload) fails the put too.
    const body = connect(source, measured.stream, () => undefined);
    try {
      await putInParts(this.client, { Bucket: this.location.bucket, Key: this.objectKey(key) }, body, PART_BYTES);
    } catch (err) {
      // The rest of the source is not wanted: let its producer stop.
      source.destroy();
      throw classified(err, `storing ${key}`);
    }
    return measured.result(key);
  }

  async localPath(key: string): Promise<string> {
    return this.cache.get(key, (file) => this.download(key, file));
  }

  async leaseLocalPath(key: string): Promise<LocalLease> {
    const lease = await this.cache.acquire(key, (file) => this.download(key, file));
    return { path: lease.file, release: () => lease.release() };
  }

  private async download(key: string, file: string): Promise<void> {
    const { stream } = await this.read(key);
    await this.send(`reading ${key}`, () => pipeline(stream, createWriteStream(file, { flags: 'wx' })));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.sizeOf(key)) !== undefined;
  }

  async sizeOf(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }),
      );
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw classified(err, `looking for ${key}`);
    }
  }

  async read(key: string): Promise<{ stream: Readable; bytes: number }> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }),
      );
      return { stream: res.Body as Readable, bytes: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundInStorage(`No stored object ${key}`);
      throw classified(err, `reading ${key}`);
    }
  }

  async remove(key: string): Promise<void> {
    const mark = key.lastIndexOf(PARTIAL_MARK);
    if (mark !== -1) {
      // An unfinished multipart upload, as list() names it: its key and upload id.
      try {
        await this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.location.bucket,
            Key: this.objectKey(key.slice(0, mark)),
            UploadId: key.slice(mark + PARTIAL_MARK.length),
          }),
        );
      } catch (err) {
        if (!isNotFound(err)) throw classified(err, `removing ${key}`);
      }
      return;
    }
    await this.cache.drop(key);
    await this.send(`removing ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) })),
    );
  }

  async check(): Promise<void> {
    await this.send('checking the bucket', () =>
      this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket })),
    );
  }

  async *list(prefix: string): AsyncIterable<StoredEntry> {
    const { bucket, prefix: root } = this.location;
    let token: string | undefined;
    do {
      const page = await this.send(`listing ${prefix}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root + prefix, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield { key: object.Key.slice(root.length), modifiedAt: object.LastModified ?? new Date(0), partial: false };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.send(`listing unfinished uploads under ${prefix}`, () =>
        this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: root + prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        ),
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId) continue;
        yield {
          key: `${upload.Key.slice(root.length)}${PARTIAL_MARK}${upload.UploadId}`,
          modifiedAt: upload.Initiated ?? new Date(0),
          partial: true,
        };
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async release(key: string): Promise<void> {
    await this.cache.drop(key);
  }

  async clearLocalCopies(): Promise<void> {
    await this.cache.clear();
  }
}
