/**
 * Where resumable (tus) uploads live until they are finished: one factory for the API, which receives them,
 * and the worker, whose orphan sweep removes the expired ones. Each document store has the tus store that
 * sits beside it: a folder's `uploads/` folder, or a bucket's `uploads/` prefix.
 */
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { DataStore } from '@tus/utils';
import { s3ClientConfig, type S3Location } from '../storage/s3-storage.js';
import { S3UploadStore } from './s3-upload-store.js';

/** The folder under STORAGE_DIR (or the key prefix in the bucket) that holds unfinished uploads (never under documents/, which the sweep reads). */
export const UPLOADS_FOLDER = 'uploads';

/** Which tus store, and how long an unfinished upload is kept. */
export type UploadStoreSettings =
  { kind: 'local'; dir: string; expiryMs: number } | { kind: 's3'; location: S3Location; expiryMs: number };

/** A tus datastore whose finished uploads can be streamed back out (into DocumentStorage). */
export type UploadStore = DataStore & { read(id: string): Readable | Promise<Readable> };

/** The tus datastore for these settings. */
export function createUploadStore(settings: UploadStoreSettings): UploadStore {
  switch (settings.kind) {
    case 'local':
      return new FileStore({ directory: settings.dir, expirationPeriodInMilliseconds: settings.expiryMs });
    case 's3':
      return new S3UploadStore({
        bucket: settings.location.bucket,
        keyPrefix: `${settings.location.prefix}${UPLOADS_FOLDER}/`,
        client: s3ClientConfig(settings.location),
        expiryMs: settings.expiryMs,
      });
  }
}

/** The tus upload's id as Folio makes them: the id of the job it becomes. */
export const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
