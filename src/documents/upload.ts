import busboy from 'busboy';
import type { Request } from 'express';
import { StorageUnavailable, type DocumentStorage, type StoredObject } from '../../core/storage/storage.js';
import { ApiError } from '../common/errors.js';
import type { UploadScan } from '../malware/malware-scanner.js';
import {
  ACCEPTED_MEDIA_TYPES,
  acceptedTypesSentence,
  imageTypeOf,
  type DocumentMediaType,
} from '../../core/document-type.js';

/** A multipart upload as received: the one stored file and the text fields beside it. */
export interface ReceivedUpload {
  stored: StoredObject;
  filename: string | null;
  contentType: string | null;
  /** What the content is, by its first bytes: a PDF or one of the accepted image formats. */
  mediaType: DocumentMediaType;
  fields: Record<string, string>;
}

const PDF_MAGIC = Buffer.from('%PDF-');
const PDF_EOF = Buffer.from('%%EOF');
const XREF_MARK = Buffer.from('startxref');

/**
 * Type by content, never by name or declared type: a `%PDF-` header within the first 1024 bytes; or,
 * for files that lost their header line but are otherwise PDFs (readers recover them), a first byte of
 * `%` together with a PDF trailer (`startxref` … `%%EOF`) at the end. Images, archives and markup have neither.
 */
export function looksLikePdf(head: Buffer, tail: Buffer): boolean {
  if (head.indexOf(PDF_MAGIC) !== -1) return true;
  return head[0] === 0x25 && tail.indexOf(XREF_MARK) !== -1 && tail.indexOf(PDF_EOF) !== -1;
}

/** The document's type by content: an accepted image format by its signature, else a PDF; undefined for neither. */
export function documentTypeOf(head: Buffer, tail: Buffer): DocumentMediaType | undefined {
  return imageTypeOf(head) ?? (looksLikePdf(head, tail) ? 'application/pdf' : undefined);
}

/** The longest form field an upload takes (a password, a page range, a language list…). */
export const MAX_FIELD_BYTES = 4096;
/** The form fields an upload takes at most, beside its files. */
export const MAX_FIELDS = 16;

/**
 * A streaming multipart/form-data parser for an upload route, with its limits: a body of another type is
 * refused with 400 MULTIPART_REQUIRED and `howToSend`, an unreadable header with 400 BAD_REQUEST. The client's
 * file names are kept verbatim as data (e.g. "../../etc/passwd"); they never name a stored file: storage keys
 * come from job ids.
 */
export function multipartParser(req: Request, howToSend: string, limits: busboy.Limits): busboy.Busboy {
  if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
    throw new ApiError('MULTIPART_REQUIRED', howToSend);
  }
  try {
    return busboy({ headers: req.headers, preservePath: true, limits });
  } catch (err) {
    throw new ApiError('BAD_REQUEST', `The multipart body cannot be read: ${(err as Error).message}`);
  }
}

/**
 * What a stored upload is, by its first and last bytes (whichever way it arrived: multipart or tus): a PDF
 * or an accepted image; EMPTY_FILE or NOT_PDF otherwise.
 */
export function storedDocumentType(stored: StoredObject): DocumentMediaType {
  if (stored.bytes === 0) throw new ApiError('EMPTY_FILE', 'The uploaded file is empty (0 bytes).');
  const mediaType = documentTypeOf(stored.head, stored.tail);
  if (mediaType === undefined) {
    // The code stays NOT_PDF, the one clients already handle; the message and details name every type.
    throw new ApiError(
      'NOT_PDF',
      `The file is neither a PDF (no "%PDF-" header in its first 1024 bytes) nor a PNG, JPEG, TIFF or WebP image. ${acceptedTypesSentence()}.`,
      { accepted: ACCEPTED_MEDIA_TYPES },
    );
  }
  return mediaType;
}

/**
 * Streams the `file` part of a multipart request to storage under `key` while it is hashed; the body is
 * never held whole in memory. Enforces the size limit while streaming: past it, reading stops, the
 * partial file is removed and the request fails with UPLOAD_TOO_LARGE. With a malware `scan`, the same bytes
 * go to the scanner as they are stored, and its verdict comes before anything else is checked. Checks the
 * type by content.
 */
export async function receiveUpload(
  req: Request,
  storage: DocumentStorage,
  key: string,
  maxBytes: number,
  scan?: UploadScan,
): Promise<ReceivedUpload> {
  const parser = multipartParser(
    req,
    'Send the document as multipart/form-data with the PDF or image in a part named "file".',
    { files: 1, fileSize: maxBytes, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: 20 },
  );

  const fields: Record<string, string> = {};
  const truncatedFields = new Set<string>();
  let filename: string | null = null;
  let contentType: string | null = null;
  let storing: Promise<StoredObject> | undefined;
  let tooLarge = false;
  let extraFiles = false;

  const finished = new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value, info) => {
      fields[name] = value;
      if (info.valueTruncated) truncatedFields.add(name);
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || storing) {
        extraFiles = true;
        stream.resume();
        return;
      }
      filename = info.filename ?? null;
      contentType = info.mimeType ?? null;
      stream.on('limit', () => {
        tooLarge = true;
        // Stop reading the body at once: nothing past the limit is read to memory or disk.
        req.unpipe(parser);
        stream.destroy(new Error('upload exceeds the size limit'));
        resolve();
      });
      storing = storage.put(key, scan ? scan.through(stream) : stream);
      // A store that fails mid-upload (down, unreachable) answers at once: the rest of the body is not read.
      storing.catch((err: unknown) => {
        if (!(err instanceof StorageUnavailable)) return;
        req.unpipe(parser);
        reject(err);
      });
    });
    parser.on('filesLimit', () => {
      extraFiles = true;
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

  try {
    await finished;
    if (tooLarge) {
      throw new ApiError(
        'UPLOAD_TOO_LARGE',
        `The file is larger than the limit of ${maxBytes} bytes. Split the document or ask the operator to raise MAX_UPLOAD_BYTES.`,
        { maxBytes },
        { Connection: 'close' },
      );
    }
    if (!storing) {
      throw new ApiError('FILE_REQUIRED', 'No file was sent: put the PDF or image in a multipart part named "file".');
    }
    const stored = await storing;
    // An infected file is refused as such, whatever else is wrong with it.
    await scan?.confirm();
    if (extraFiles) {
      throw new ApiError('TOO_MANY_FILES', 'Send exactly one file, in the part named "file".');
    }
    const mediaType = storedDocumentType(stored);
    if (truncatedFields.has('password')) {
      throw new ApiError('PASSWORD_INVALID', `The password is longer than ${MAX_FIELD_BYTES} bytes.`);
    }
    return { stored, filename, contentType, mediaType, fields };
  } catch (err) {
    scan?.abort();
    if (storing) await storing.catch(() => undefined);
    // With the store down this fails too; the orphan sweep removes what is left, and the first error is the answer.
    await storage.remove(key).catch(() => undefined);
    throw err;
  }
}
