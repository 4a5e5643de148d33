/**
 * Where resumable (tus) uploads live until they are finished: one factory for the API, which receives them,
 * and the worker, whose orphan sweep removes the expired ones. Keyed by the storage kind, so each document
 * store has the tus store that sits beside it.
 */
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { DataStore } from '@tus/utils';

/** The folder under STORAGE_DIR that holds unfinished uploads (never under documents/, which the sweep reads). */
export const UPLOADS_FOLDER = 'uploads';

/** Which tus store, and how long an unfinished upload is kept. */
export type UploadStoreSettings = { kind: 'local'; dir: string; expiryMs: number };

/** A tus datastore whose finished uploads can be streamed back out (into DocumentStorage). */
export type UploadStore = DataStore & { read(id: string): Readable };

/** The tus datastore for these settings. */
export function createUploadStore(settings: UploadStoreSettings): UploadStore {
  switch (settings.kind) {
    case 'local':
      return new FileStore({ directory: settings.dir, expirationPeriodInMilliseconds: settings.expiryMs });
  }
}

/** The tus upload's id as Folio makes them: the id of the job it becomes. */
export const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
