import { Controller, Delete, Head, HttpCode, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
  type ApiHeaderOptions,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeyGuard, type AuthedRequest } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { JOB_ID_HEADER, ResumableUploads } from './resumable-uploads.service.js';

const tusResumable: ApiHeaderOptions = {
  name: 'Tus-Resumable',
  required: true,
  description: 'The tus protocol version',
  schema: { type: 'string', enum: ['1.0.0'] },
};
const uploadId = { name: 'id', description: 'The upload (the id of the job it becomes)', format: 'uuid' } as const;
const offsetHeader = { 'Upload-Offset': { description: 'Bytes received so far', schema: { type: 'integer' } } };

/**
 * Resumable uploads (tus 1.0, creation, creation-with-upload, creation-defer-length, termination, expiration)
 * under the same key, rate and size rules as POST /v1/documents. The protocol itself is @tus/server's.
 */
@ApiTags('uploads')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 412, 429)
@Controller('v1/uploads')
export class UploadsController {
  constructor(private readonly uploads: ResumableUploads) {}

  @Post()
  @ApiOperation({
    summary: 'Create a resumable upload (tus 1.0)',
    description:
      'Upload-Length is the file size (at most MAX_UPLOAD_BYTES; or Upload-Defer-Length: 1). Upload-Metadata ' +
      'carries base64 values of `filename` and the options POST /v1/documents takes (`ocrMode`, `languages`, ' +
      '`pages`, `password`, `callbackUrl`, `priority`), checked here with the same error codes. The upload URL comes in Location; send ' +
      'the bytes with PATCH. An upload left unfinished expires after UPLOAD_EXPIRY_HOURS (Upload-Expires).',
  })
  @ApiHeader(tusResumable)
  @ApiHeader({ name: 'Upload-Length', required: false, schema: { type: 'integer', minimum: 0 } })
  @ApiHeader({ name: 'Upload-Defer-Length', required: false, schema: { type: 'string', enum: ['1'] } })
  @ApiHeader({
    name: 'Upload-Metadata',
    required: false,
    description: 'Comma-separated `key base64(value)` pairs, e.g. `filename c2Nhbi5wZGY=,languages ZW5n`',
  })
  @ApiCreatedResponse({
    description: 'The upload exists; send its bytes to Location',
    headers: {
      Location: { description: 'The upload URL, /v1/uploads/{id}' },
      'Upload-Expires': { description: 'When the unfinished upload is removed' },
    },
  })
  @ApiErrors(400, 413, 415, 422, 503)
  async create(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    await this.uploads.handle(req, res);
  }

  @Head(':id')
  @ApiOperation({ summary: "An upload's offset: where to resume" })
  @ApiParam(uploadId)
  @ApiHeader(tusResumable)
  @ApiOkResponse({
    description: 'Upload-Offset and Upload-Length of the upload',
    headers: { ...offsetHeader, 'Upload-Length': { description: 'The file size', schema: { type: 'integer' } } },
  })
  @ApiErrors(400, 403, 404, 410)
  async offset(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    await this.uploads.handle(req, res);
  }

  @Patch(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Append bytes at Upload-Offset',
    description:
      'The PATCH that completes the upload submits the document as POST /v1/documents does (type by content, ' +
      `dedupe, in-flight cap) and answers with ${JOB_ID_HEADER} (and Folio-Duplicate-Of when it joined a live ` +
      'identical job). After a 429 or 503 on that last PATCH the upload stays: send an empty PATCH at the final ' +
      'offset to finish it again; any other refusal removes it.',
  })
  @ApiParam(uploadId)
  @ApiHeader(tusResumable)
  @ApiHeader({ name: 'Upload-Offset', required: true, schema: { type: 'integer', minimum: 0 } })
  @ApiConsumes('application/offset+octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiNoContentResponse({
    description: 'The bytes were stored',
    headers: {
      ...offsetHeader,
      [JOB_ID_HEADER]: { description: 'The job the finished upload became', schema: { type: 'string' } },
    },
  })
  @ApiErrors(400, 403, 404, 409, 410, 413, 415, 422, 503)
  async append(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    await this.uploads.handle(req, res);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Abandon an upload (tus termination)' })
  @ApiParam(uploadId)
  @ApiHeader(tusResumable)
  @ApiNoContentResponse({ description: 'The upload and its bytes are gone' })
  @ApiErrors(400, 403, 404, 410)
  async terminate(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    await this.uploads.handle(req, res);
  }
}
