import { ObjectCache } from './object-cache.js';
import { S3Storage, type S3Location } from './s3-storage.js';
import { LocalStorage, type DocumentStorage } from './storage.js';

/** Which store holds the documents (STORAGE_URL), as the configuration validated it. */
export type StorageConfig =
  | { kind: 'local'; dir: string }
  | (S3Location & {
      kind: 's3';
      /** The local copies a worker's engines read (STORAGE_CACHE_DIR, STORAGE_CACHE_BYTES). */
      cache: { dir: string; maxBytes: number };
    });

/** The one place a store is chosen: the API, the worker and the tests' in-process worker all call it. */
export function createStorage(config: StorageConfig): DocumentStorage {
  if (config.kind === 'local') return new LocalStorage(config.dir);
  return new S3Storage(config, new ObjectCache(config.cache.dir, config.cache.maxBytes));
}

/** How a store is named in logs and errors: the folder, or s3://bucket/prefix at the endpoint. */
export function describeStorage(config: StorageConfig): string {
  if (config.kind === 'local') return `folder ${config.dir}`;
  return `s3://${config.bucket}/${config.prefix}${config.endpoint ? ` at ${config.endpoint}` : ''}`;
}
