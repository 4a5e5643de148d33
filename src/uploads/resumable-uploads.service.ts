import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Server, type ServerOptions } from '@tus/server';
import { ERRORS, type Upload } from '@tus/utils';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import type { ServerRequest } from 'srvx';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { ApiError, type ApiErrorCode } from '../common/errors.js';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { DocumentsService } from '../documents/documents.service.js';
import { sealDocumentPassword } from '../jobs/passwords.js';
import { open } from '../../core/sealed-secret.js';
import { UPLOAD_ID, type UploadStore } from '../../core/uploads/upload-store.js';

/** Injection token of the tus datastore (core/uploads/upload-store.ts). */
export const UPLOAD_STORE = Symbol('UPLOAD_STORE');

/** Where the tus server answers; upload URLs are `${UPLOADS_PATH}/<id>`. */
export const UPLOADS_PATH = '/v1/uploads';

/** The answer header naming the job a finished upload became. */
export const JOB_ID_HEADER = 'Folio-Job-Id';

/** Upload-Metadata keys Folio reads: the file name and the options POST /v1/documents takes as form fields. */
const OPTION_KEYS = ['ocrMode', 'languages', 'pages', 'password', 'callbackUrl', 'priority'] as const;
/** Set by Folio, never by the client: the API key that created the upload (empty with auth disabled). */
const OWNER_KEY = 'folio-owner';

/** The tus server's refusals as Folio's error codes (status from core/failures.ts), by the error tus threw. */
const TUS_ERRORS = new Map<unknown, [ApiErrorCode, string]>([
  [ERRORS.MISSING_OFFSET, ['UPLOAD_HEADERS_INVALID', 'A PATCH must carry the Upload-Offset header.']],
  [
    ERRORS.INVALID_CONTENT_TYPE,
    ['UPLOAD_HEADERS_INVALID', 'A PATCH must carry Content-Type: application/offset+octet-stream.'],
  ],
  [
    ERRORS.INVALID_LENGTH,
    ['UPLOAD_HEADERS_INVALID', 'Send exactly one of Upload-Length (the file size in bytes) or Upload-Defer-Length: 1.'],
  ],
  [
    ERRORS.INVALID_METADATA,
    [
      'UPLOAD_METADATA_INVALID',
      'Upload-Metadata must be comma-separated "key base64(value)" pairs, e.g. "filename c2Nhbi5wZGY=".',
    ],
  ],
  [ERRORS.FILE_NOT_FOUND, ['UPLOAD_NOT_FOUND', 'No such upload: create one with POST /v1/uploads.']],
  [
    ERRORS.FILE_NO_LONGER_EXISTS,
    ['UPLOAD_EXPIRED', 'The upload expired before it was finished; start it again with POST /v1/uploads.'],
  ],
  [
    ERRORS.INVALID_OFFSET,
    ['UPLOAD_OFFSET_MISMATCH', "Upload-Offset is not the upload's offset: ask HEAD for it and resume from there."],
  ],
  [ERRORS.ERR_SIZE_EXCEEDED, ['UPLOAD_TOO_LARGE', 'The body goes past the Upload-Length the upload was created with.']],
  [ERRORS.ABORTED, ['UPLOAD_ABORTED', 'The upload was interrupted (by the client, or a newer request on it).']],
  [ERRORS.ERR_LOCK_TIMEOUT, ['SERVICE_UNAVAILABLE', 'The upload is busy with another request; retry shortly.']],
]);

/** A tus refusal that did not come through a hook (412, 400 on a malformed header), by status. */
function fromStatus(status: number, text: string): ApiError {
  if (status === 412) {
    return new ApiError('TUS_RESUMABLE_REQUIRED', 'Send the header Tus-Resumable: 1.0.0 (tus 1.0) with every request.');
  }
  if (status === 400) {
    return new ApiError('UPLOAD_HEADERS_INVALID', `A tus header is malformed: ${text.trim() || 'bad request'}.`);
  }
  if (status === 404) return new ApiError('UPLOAD_NOT_FOUND', 'No such upload: create one with POST /v1/uploads.');
  if (status === 501)
    return new ApiError('NOT_IMPLEMENTED', `${text.trim()}: Folio does not offer this tus extension.`);
  return new ApiError('INTERNAL_ERROR', 'The upload failed.');
}

/** The API request (with the guard's principal) behind a tus request. */
function nodeRequestOf(req: ServerRequest): AuthedRequest {
  const node = req.runtime?.node?.req;
  if (!node) throw new Error('tus runs on the Node adapter only');
  return node as AuthedRequest;
}

/** Where a hook's refusal waits for the controller, which answers it through the global error filter. */
const REFUSAL = Symbol('folio.uploadRefusal');
type WithRefusal = IncomingMessage & { [REFUSAL]?: Error };

/**
 * tus 1.0 (@tus/server) behind the API's own rules: the controller's guard (API keys, request rate), the
 * in-flight cap and option checks when an upload is created, each upload its creator's own, the size limit
 * as tus's max size; the PATCH that finishes an upload streams it into DocumentStorage through the
 * documents service (type by content, dedupe, the job, its workflow) and answers with Folio-Job-Id.
 */
@Injectable()
export class ResumableUploads {
  private readonly logger = new Logger(ResumableUploads.name);
  private readonly server: Server;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(UPLOAD_STORE) private readonly store: UploadStore,
    private readonly documents: DocumentsService,
  ) {
    const options: Omit<ServerOptions, 'locker'> & { datastore: UploadStore } = {
      path: UPLOADS_PATH,
      datastore: store,
      // Relative: right behind nginx or a load balancer whatever Host and scheme they pass on.
      relativeLocation: true,
      maxSize: config.limits.maxUploadBytes,
      // The upload's id is the id of the job it becomes (and of its stored document).
      namingFunction: () => randomUUID(),
      onUploadCreate: (req, upload) => this.onCreate(nodeRequestOf(req), upload),
      onIncomingRequest: (req, id) => this.checkOwner(nodeRequestOf(req), id),
      onUploadFinish: (req, upload) => this.onFinish(nodeRequestOf(req), upload),
      onResponseError: (req, err) => {
        (nodeRequestOf(req) as WithRefusal)[REFUSAL] = this.refusal(err);
        return undefined;
      },
    };
    this.server = new Server(options);
  }

  /**
   * Serves one tus request. Refusals are thrown as ApiErrors (the global filter answers them as every other
   * route does); the API's CORS settings, not tus's, govern cross-origin access, so tus's are dropped.
   */
  async handle(req: AuthedRequest, res: ServerResponse): Promise<void> {
    const response = await this.server.handleWeb(new NodeRequest({ req, res }));
    if (response.status >= 400) {
      const refusal = (req as WithRefusal)[REFUSAL];
      throw refusal === undefined ? fromStatus(response.status, await response.text()) : refusal;
    }
    for (const name of [...response.headers.keys()]) {
      if (name.startsWith('access-control-')) response.headers.delete(name);
    }
    await sendNodeResponse(res, response);
  }

  /**
   * What the request is answered with for an error tus reports (from its handlers or from Folio's hooks): a
   * Folio refusal, tus's own refusals by their codes, and any other error as it is — the global filter then
   * answers it as on every route (503 with Retry-After for a database that is away, else 500).
   */
  private refusal(err: unknown): Error {
    if (err instanceof ApiError || err instanceof Error) return err;
    const known = TUS_ERRORS.get(err);
    if (known) return new ApiError(known[0], known[1]);
    if (err === ERRORS.ERR_MAX_SIZE_EXCEEDED) {
      const maxBytes = this.config.limits.maxUploadBytes;
      return new ApiError(
        'UPLOAD_TOO_LARGE',
        `The file is larger than the limit of ${maxBytes} bytes. Split the document or ask the operator to raise MAX_UPLOAD_BYTES.`,
        { maxBytes },
      );
    }
    const tusError = err as { status_code?: number; body?: string };
    this.logger.warn(`A resumable upload was refused by tus: ${tusError.status_code} ${tusError.body}`);
    return fromStatus(tusError.status_code ?? 500, tusError.body ?? '');
  }

  /** At creation: the key's in-flight cap and every option checked, as POST /v1/documents checks them. */
  private async onCreate(req: AuthedRequest, upload: Upload): Promise<{ metadata: Record<string, string> }> {
    const owner = req.principal.apiKeyId;
    await this.documents.checkInFlight(owner);
    const metadata = upload.metadata ?? {};
    if (OWNER_KEY in metadata) {
      throw new ApiError('UPLOAD_METADATA_INVALID', `Upload-Metadata key "${OWNER_KEY}" is Folio's own; leave it out.`);
    }
    const fields = optionFields(metadata);
    await this.documents.parseOptions(fields);
    const kept: Record<string, string> = {};
    const filename = metadata.filename ?? metadata.name;
    if (filename) kept.filename = filename;
    for (const key of OPTION_KEYS) if (fields[key]) kept[key] = fields[key];
    // Never kept in clear beside the upload: sealed for the job the upload becomes (its id).
    if (fields.password) kept.password = sealDocumentPassword(this.config, upload.id, fields.password);
    kept[OWNER_KEY] = owner ?? '';
    return { metadata: kept };
  }

  /** HEAD, PATCH and DELETE reach only uploads of the key that created them. */
  private async checkOwner(req: AuthedRequest, id: string): Promise<void> {
    // tus calls this for a POST too, with the id it is about to create: nothing to own yet.
    if (req.method === 'POST') return;
    if (!UPLOAD_ID.test(id)) throw new ApiError('UPLOAD_NOT_FOUND', `No upload has the id ${id}.`);
    const upload = await this.store.getUpload(id);
    if ((upload.metadata?.[OWNER_KEY] ?? '') !== (req.principal.apiKeyId ?? '')) {
      throw new ApiError('FORBIDDEN', `Upload ${id} belongs to another API client.`);
    }
  }

  /**
   * The upload is complete: it becomes a job (or joins an identical live one) and the tus upload goes. A
   * refusal of the document or its options removes it; after a temporary one (429, 503, a database or store
   * that is away) the upload stays, and an empty PATCH at its final offset finishes it again.
   */
  private async onFinish(req: AuthedRequest, upload: Upload): Promise<{ headers: Record<string, string> }> {
    const metadata = upload.metadata ?? {};
    const fields = optionFields(metadata);
    try {
      if (fields.password) fields.password = this.openPassword(upload.id, fields.password);
      const { job, duplicateOf } = await this.documents.submitStream(
        req.principal,
        upload.id,
        await this.store.read(upload.id),
        metadata.filename ?? null,
        fields,
      );
      await this.store.remove(upload.id);
      return { headers: { [JOB_ID_HEADER]: job.id, ...(duplicateOf ? { 'Folio-Duplicate-Of': duplicateOf } : {}) } };
    } catch (err) {
      const refused = err instanceof ApiError && err.getStatus() !== 429 && err.getStatus() !== 503;
      if (refused) await this.store.remove(upload.id).catch(() => undefined);
      throw err;
    }
  }

  private openPassword(jobId: string, sealed: string): string {
    const key = this.config.documentPasswords.secretKey;
    if (!key) {
      throw new ApiError('PASSWORDS_UNAVAILABLE', 'This server has no DOCUMENT_SECRET_KEY to open the password with.');
    }
    return open(key, jobId, sealed);
  }
}

/** The document options among an upload's metadata, as the multipart form's text fields. */
function optionFields(metadata: Record<string, string | null>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const key of OPTION_KEYS) {
    const value = metadata[key];
    if (value) fields[key] = value;
  }
  return fields;
}
