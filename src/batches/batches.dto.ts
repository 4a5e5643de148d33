/** What the batch routes accept and answer, checked and documented by the same classes. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { BATCH_STATUSES } from '../../core/batch-store.js';
import { JOB_STATUSES, OCR_MODES, type OcrMode } from '../../core/lifecycle.js';
import { IntegerQueryParam } from '../common/validation.js';
import { DocumentOptionsDto } from '../documents/documents.dto.js';

/** Documents listed per GET /v1/batches/{id} at most. */
export const MAX_BATCH_PAGE = 1000;

/** The whole multipart body of POST /v1/batches, for the OpenAPI document. */
export class UploadBatchBody extends DocumentOptionsDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', format: 'binary' },
    description:
      'The documents: one multipart part named "file" each (PDF, PNG, JPEG, TIFF or WebP, checked by content), ' +
      'streamed one after another. The options beside them apply to every document.',
  })
  file!: unknown[];
}

/** GET /v1/batches/{id}'s query string: which documents to list. */
export class BatchQueryDto {
  @IntegerQueryParam('limit', { min: 1, max: MAX_BATCH_PAGE, default: 100 })
  limit: number = 100;

  @IntegerQueryParam('offset', {
    min: 0,
    max: 1_000_000,
    default: 0,
    description: 'Documents to skip, in upload order',
  })
  offset: number = 0;
}

/** GET /v1/batches/{id}/results's query string. */
export class BatchResultsQueryDto {
  @ApiPropertyOptional({ enum: ['txt'], default: 'txt', description: 'txt: one text file per document' })
  @IsOptional()
  @IsIn(['txt'], { message: 'format must be txt' })
  format = 'txt' as const;
}

/** POST /v1/batches/{id}/retry-failed. */
export class BatchRetryBody {
  @ApiPropertyOptional({ enum: OCR_MODES, description: "Replaces each document's OCR mode for this run" })
  @IsOptional()
  @IsIn(OCR_MODES)
  ocrMode?: OcrMode;
}

class ErrorView {
  @ApiProperty() code!: string;
  @ApiProperty() message!: string;
}

/** A file part of a batch as POST /v1/batches answers it: the job it became, or why it was refused. */
export class BatchFileView {
  @ApiProperty({ description: 'Its place in the request, from 0' }) position!: number;
  @ApiProperty({ nullable: true, type: String }) fileName!: string | null;
  @ApiPropertyOptional({ format: 'uuid' }) jobId?: string;
  @ApiPropertyOptional({ enum: JOB_STATUSES }) status?: string;
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Set when a live job of yours had the same content and options: this document joined it',
  })
  duplicateOf?: string;
  @ApiPropertyOptional({ type: ErrorView, description: 'Why the file was refused (the others go on)' })
  error?: ErrorView;
}

export class BatchLinksView {
  @ApiProperty() self!: string;
  @ApiProperty() results!: string;
}

/** POST /v1/batches's answer. */
export class BatchSubmittedView {
  @ApiProperty({ format: 'uuid' }) batchId!: string;
  @ApiProperty({ enum: BATCH_STATUSES }) status!: string;
  @ApiProperty({ type: [BatchFileView] }) jobs!: BatchFileView[];
  @ApiProperty({ type: BatchLinksView }) links!: BatchLinksView;
}

class BatchDocumentCountsView {
  @ApiProperty() total!: number;
  @ApiProperty() completed!: number;
  @ApiProperty() partial!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() cancelled!: number;
  @ApiProperty({ description: 'Queued, processing or waiting for a password' }) inFlight!: number;
}

class BatchPagesView {
  @ApiProperty({ description: 'Pages selected in the documents inspected so far' }) total!: number;
  @ApiProperty() done!: number;
  @ApiProperty() failed!: number;
}

/** One document of a batch in GET /v1/batches/{id}. */
export class BatchDocumentView {
  @ApiProperty() position!: number;
  @ApiProperty({ nullable: true, type: String }) fileName!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) jobId!: string | null;
  @ApiProperty({ nullable: true, type: String, enum: JOB_STATUSES }) status!: string | null;
  @ApiProperty({ nullable: true, type: Number }) pageCount!: number | null;
  @ApiProperty() pagesDone!: number;
  @ApiProperty() pagesFailed!: number;
  @ApiProperty({ nullable: true, type: ErrorView, description: "The job's error, or why the file was refused" })
  error!: ErrorView | null;
}

/** GET /v1/batches/{id}. */
export class BatchView {
  @ApiProperty({ format: 'uuid' }) batchId!: string;
  @ApiProperty({
    enum: BATCH_STATUSES,
    description:
      'in_progress while a document is in flight; then cancelled (the batch was cancelled), completed (every ' +
      'document completed), failed (none gave text) or partial. Refused files do not count.',
  })
  status!: string;
  @ApiProperty({ type: BatchDocumentCountsView }) documents!: BatchDocumentCountsView;
  @ApiProperty({ description: 'File parts refused at submit' }) rejected!: number;
  @ApiProperty({ type: BatchPagesView }) pages!: BatchPagesView;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String, description: 'When its last document ended' }) endedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) cancelledAt!: string | null;
  @ApiProperty({ type: [BatchDocumentView], description: 'Documents in upload order, `limit` from `offset`' })
  jobs!: BatchDocumentView[];
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'offset of the next page; null on the last' })
  nextOffset!: number | null;
  @ApiProperty({ type: BatchLinksView }) links!: BatchLinksView;
}

/** POST /v1/batches/{id}/cancel's answer. */
export class BatchCancelView {
  @ApiProperty({ format: 'uuid' }) batchId!: string;
  @ApiProperty({ description: 'Documents whose cancellation was requested' }) cancelling!: number;
}

class RetriedView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty() workflowId!: string;
  @ApiProperty({ type: [Number] }) pages!: number[];
}

class SkippedView {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ type: ErrorView }) error!: ErrorView;
}

/** POST /v1/batches/{id}/retry-failed's answer. */
export class BatchRetryView {
  @ApiProperty({ format: 'uuid' }) batchId!: string;
  @ApiProperty({ type: [RetriedView] }) retried!: RetriedView[];
  @ApiProperty({ type: [SkippedView], description: 'Failed documents that could not be retried, and why' })
  skipped!: SkippedView[];
}
