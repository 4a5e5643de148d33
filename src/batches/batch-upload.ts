/**
 * Receives a batch: a multipart body with several `file` parts, each streamed to storage under a job id of
 * its own as it arrives, one after another (the body is never held in memory), each checked as a single
 * upload is — size limit while streaming, type by content. A bad file is kept as an error beside the
 * others; only a problem with the request itself (not multipart, too many files, a part of another name,
 * the store down, the client gone) fails the whole request, and then every stored file is removed.
 */
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import {
  documentKey,
  StorageUnavailable,
  type DocumentStorage,
  type StoredObject,
} from '../../core/storage/storage.js';
import type { DocumentMediaType } from '../../core/document-type.js';
import { ApiError } from '../common/errors.js';
import { MAX_FIELD_BYTES, MAX_FIELDS, multipartParser, storedDocumentType } from '../documents/upload.js';
import type { MalwareScanner } from '../malware/malware-scanner.js';

/** One file part of a batch: stored and typed, or refused with a stable code. */
export interface BatchFile {
  /** Its place in the request, from 0. */
  position: number;
  filename: string | null;
  /** The job id the file is stored under (documentKey(jobId)) and becomes if it is accepted. */
  jobId: string;
  stored?: StoredObject;
  mediaType?: DocumentMediaType;
  error?: { code: string; message: string };
}

/** A received batch: its files in order and the shared option fields. */
export interface ReceivedBatch {
  files: BatchFile[];
  fields: Record<string, string>;
}

/** Streams every `file` part of the request to storage; see the module comment. */
export async function receiveBatch(
  req: Request,
  storage: DocumentStorage,
  limits: { maxBytes: number; maxFiles: number },
  scanner?: MalwareScanner,
): Promise<ReceivedBatch> {
  const parser = multipartParser(
    req,
    'Send the batch as multipart/form-data with each PDF or image in a part named "file".',
    {
      files: limits.maxFiles,
      fileSize: limits.maxBytes,
      fields: MAX_FIELDS,
      fieldSize: MAX_FIELD_BYTES,
      parts: limits.maxFiles + MAX_FIELDS,
    },
  );

  const fields: Record<string, string> = {};
  const truncatedFields = new Set<string>();
  const files: BatchFile[] = [];
  const storing: Promise<void>[] = [];
  let otherPart: string | undefined;
  let tooMany = false;

  const finished = new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value, info) => {
      fields[name] = value;
      if (info.valueTruncated) truncatedFields.add(name);
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        otherPart = name;
        stream.resume();
        return;
      }
      const file: BatchFile = { position: files.length, filename: info.filename ?? null, jobId: randomUUID() };
      files.push(file);
      let tooLarge = false;
      // Past the limit busboy stops passing this part's bytes on and reads on to the next part.
      stream.on('limit', () => {
        tooLarge = true;
      });
      const key = documentKey(file.jobId);
      // Each file its own scan (with scanning on): an infected one is listed with MALWARE_FOUND.
      const scan = scanner?.start();
      const done = storage.put(key, scan ? scan.through(stream) : stream).then(
        async (stored) => {
          try {
            if (tooLarge) {
              scan?.abort();
              throw new ApiError(
                'UPLOAD_TOO_LARGE',
                `The file is larger than the limit of ${limits.maxBytes} bytes. Split the document or ask the operator to raise MAX_UPLOAD_BYTES.`,
              );
            }
            await scan?.confirm();
            file.mediaType = storedDocumentType(stored);
            file.stored = stored;
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            file.error = { code: err.code, message: err.message };
            await storage.remove(key).catch(() => undefined);
          }
        },
        (err: unknown) => {
          scan?.abort();
          // A store that fails mid-upload (down, unreachable) answers at once: the rest of the body is not read.
          if (err instanceof StorageUnavailable) {
            req.unpipe(parser);
            reject(err);
          }
          throw err;
        },
      );
      // Handled here too, so a rejection before the list is awaited is never an unhandled one.
      done.catch(() => undefined);
      storing.push(done);
    });
    parser.on('filesLimit', () => {
      tooMany = true;
      // Stop reading at once: the request is refused whole.
      req.unpipe(parser);
      resolve();
    });
    parser.on('close', () => resolve());
    parser.on('error', (err: Error) =>
      reject(new ApiError('BAD_REQUEST', `The multipart body is malformed: ${err.message}`)),
    );
    req.on('aborted', () =>
      reject(new ApiError('UPLOAD_ABORTED', 'The client closed the connection during the upload.')),
    );
    req.on('error', (err: Error) => reject(new ApiError('UPLOAD_ABORTED', `The upload failed: ${err.message}`)));
    req.pipe(parser);
  });

  const removeAll = () => Promise.all(files.map((f) => storage.remove(documentKey(f.jobId)).catch(() => undefined)));
  try {
    await finished;
    if (tooMany) {
      throw new ApiError(
        'BATCH_TOO_MANY_FILES',
        `A batch takes at most ${limits.maxFiles} files; split it into several batches (or ask the operator to raise MAX_BATCH_FILES).`,
        { maxFiles: limits.maxFiles },
        { Connection: 'close' },
      );
    }
    await Promise.all(storing);
    if (otherPart !== undefined) {
      throw new ApiError(
        'BAD_REQUEST',
        `The part "${otherPart.slice(0, 100)}" is a file but not named "file"; put every document in a part named "file".`,
      );
    }
    if (files.length === 0) {
      throw new ApiError('FILE_REQUIRED', 'No file was sent: put each PDF or image in a multipart part named "file".');
    }
    if (truncatedFields.has('password')) {
      throw new ApiError('PASSWORD_INVALID', `The password is longer than ${MAX_FIELD_BYTES} bytes.`);
    }
    return { files, fields };
  } catch (err) {
    await Promise.allSettled(storing);
    // With the store down this fails too; the orphan sweep removes what is left, and the first error is the answer.
    await removeAll();
    throw err;
  }
}
