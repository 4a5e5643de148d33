import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { S3Store, type MetadataValue } from '@tus/s3-store';
import { ERRORS, type KvStore, type Upload } from '@tus/utils';

/** Where in the bucket unfinished uploads live, and how the store reaches it. */
export interface S3UploadLocation {
  bucket: string;
  /** Put before each of the store's keys, e.g. `folio/uploads/`: never empty, so the uploads keep to one folder. */
  keyPrefix: string;
  client: S3ClientConfig;
  /** An unfinished upload is expired this long after its creation. */
  expiryMs: number;
}

/**
 * @tus/s3-store's metadata cache, turned off: with the cache each API process kept what it had read of an
 * upload (its length, its multipart upload) and answered from it after another process had finished, removed
 * or declared the length of that upload. Every request reads the `.info` object instead (one small GET).
 */
const NO_CACHE: KvStore<MetadataValue> = {
  get: () => Promise.resolve(undefined),
  set: () => Promise.resolve(),
  delete: () => Promise.resolve(),
};

/** A request's keys, as the store names them (relative) or as the bucket does (with the prefix). */
interface KeyedInput {
  Key?: string;
  Prefix?: string;
  Delete?: { Objects?: { Key?: string }[] };
}
interface KeyedOutput {
  Key?: string;
  Uploads?: { Key?: string }[];
  Contents?: { Key?: string }[];
}

/**
 * tus uploads in an S3-compatible bucket (@tus/s3-store), so every API process behind a load balancer resumes
 * every upload and no folder is shared. These things differ from the store as published:
 * - its keys go under `keyPrefix` (it writes `<id>`, `<id>.info` and `<id>.part` at the bucket's root, and its
 *   deleteExpired lists every multipart upload of the bucket, Folio's documents being stored included): a
 *   middleware on its client adds the prefix to each request's keys and takes it off the listed ones;
 * - no metadata cache between requests (see NO_CACHE);
 * - an upload of zero bytes is completed when it is made (create());
 * - remove() removes an upload that is complete: the published one aborts the multipart upload first, which
 *   S3 answers NoSuchUpload once it was completed, and gives up before deleting the objects — so the PATCH
 *   that finished an upload answered 404 after the job was made;
 * - deleteExpired() removes, besides expired multipart uploads, every object under the prefix older than the
 *   expiry: the assembled object and `.info` of a complete upload that never became a job.
 */
export class S3UploadStore extends S3Store {
  private readonly keyPrefix: string;
  private readonly expiryMs: number;

  constructor(location: S3UploadLocation) {
    super({
      s3ClientConfig: { ...location.client, bucket: location.bucket },
      // The smallest part S3 takes: each PATCH's parts go through temporary files, never memory.
      partSize: 5 * 1024 * 1024,
      maxConcurrentPartUploads: 2,
      expirationPeriodInMilliseconds: location.expiryMs,
      cache: NO_CACHE,
    });
    if (!location.keyPrefix.endsWith('/'))
      throw new Error(`The uploads' key prefix must end in /: ${location.keyPrefix}`);
    this.keyPrefix = location.keyPrefix;
    this.expiryMs = location.expiryMs;
    const prefix = location.keyPrefix;
    this.client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as KeyedInput;
        const keyed: KeyedInput = { ...input };
        if (input.Key !== undefined) keyed.Key = prefix + input.Key;
        if (input.Prefix !== undefined) keyed.Prefix = prefix + input.Prefix;
        if (input.Delete?.Objects) {
          keyed.Delete = { ...input.Delete, Objects: input.Delete.Objects.map((o) => ({ ...o, Key: prefix + o.Key })) };
        }
        const result = await next({ ...args, input: keyed });
        const output = result.output as KeyedOutput;
        const strip = (o: { Key?: string }) => ({
          ...o,
          Key: o.Key?.startsWith(prefix) ? o.Key.slice(prefix.length) : o.Key,
        });
        if (output.Uploads) output.Uploads = output.Uploads.map(strip);
        if (output.Contents) output.Contents = output.Contents.map(strip);
        return result;
      },
      { step: 'initialize', name: 'folioUploadKeyPrefix' },
    );
  }

  /**
   * An upload of zero bytes is complete when it is made, and tus finishes it without a PATCH: the published
   * store completes its multipart upload only in write(), so there was no object to read.
   */
  override async create(upload: Upload): Promise<Upload> {
    const created = await super.create(upload);
    if (upload.size === 0) {
      const metadata = await this.getMetadata(upload.id);
      await this.finishMultipartUpload(metadata, []);
      await this.completeMetadata(metadata.file);
    }
    return created;
  }

  override async remove(id: string): Promise<void> {
    let uploadId: string | undefined;
    try {
      uploadId = (await this.getMetadata(id))['upload-id'];
    } catch (err) {
      // tus answers its own error objects (404 here), which are not Errors.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (isNotFound(err)) throw ERRORS.FILE_NOT_FOUND;
      throw err;
    }
    if (uploadId) {
      await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: uploadId }).catch((err) => {
        // Completed (the upload is whole) or already aborted: its objects go all the same.
        if (!isNotFound(err)) throw err;
      });
    }
    await this.client.deleteObjects({
      Bucket: this.bucket,
      Delete: { Objects: [{ Key: id }, { Key: this.infoKey(id) }, { Key: this.partKey(id, true) }] },
    });
  }

  /** Removes uploads past their expiry, finished or not; answers how many uploads went. */
  override async deleteExpired(): Promise<number> {
    const before = Date.now() - this.expiryMs;
    const ids = new Set<string>();
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      // Prefix '' is the uploads' folder (the middleware adds the prefix): never the rest of the bucket.
      const page = await this.client.listMultipartUploads({
        Bucket: this.bucket,
        Prefix: '',
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      });
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || (upload.Initiated?.getTime() ?? 0) > before) continue;
        await this.client
          .abortMultipartUpload({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId })
          .catch((err) => {
            if (!isNotFound(err)) throw err;
          });
        ids.add(upload.Key);
      }
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    let token: string | undefined;
    do {
      const page = await this.client.listObjectsV2({ Bucket: this.bucket, Prefix: '', ContinuationToken: token });
      const old = (page.Contents ?? []).filter((o) => o.Key && (o.LastModified?.getTime() ?? 0) <= before);
      if (old.length > 0) {
        await this.client.deleteObjects({
          Bucket: this.bucket,
          Delete: { Objects: old.map((o) => ({ Key: o.Key })) },
        });
      }
      for (const o of old) ids.add(o.Key!.replace(/\.(info|part)$/, ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return ids.size;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | null;
  return (
    ['NoSuchKey', 'NoSuchUpload', 'NotFound'].includes(e?.name ?? e?.Code ?? '') || e?.$metadata?.httpStatusCode === 404
  );
}
