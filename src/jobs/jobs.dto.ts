/** What the job routes accept: query strings and JSON bodies, checked and documented by the same classes. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { RESULT_FORMATS, type ResultFormat } from '../../core/outputs/formats.js';
import { JOB_STATUSES, OCR_MODES, type JobStatus, type OcrMode } from '../../core/lifecycle.js';
import { commaList, digits, IntegerQueryParam, IsJobPriority, IsPageRange } from '../common/validation.js';
import { SORTS, type JobListQuery, type JobSort, type SortOrder } from './jobs-list.service.js';
import { MAX_PASSWORD_CHARS } from './passwords.js';
import { MAX_TAGS, parseTags, TAG_PATTERN } from '../../core/tags.js';
import { MAX_NOTE_CHARS } from './job-edits.service.js';

export const MAX_LIMIT = 200;
const MAX_OFFSET = 1_000_000;

/** GET /v1/jobs's query string. */
export class JobListQueryDto {
  @ApiPropertyOptional({ enum: JOB_STATUSES, isArray: true, description: 'Comma-separated or repeated' })
  @IsOptional()
  @Transform(commaList)
  @IsArray()
  @ArrayNotEmpty({ message: 'status must name at least one status' })
  @IsIn(JOB_STATUSES, { each: true, message: `status must be among ${JOB_STATUSES.join(', ')}` })
  status?: JobStatus[];

  @ApiPropertyOptional({
    type: 'integer',
    isArray: true,
    minimum: 1,
    maximum: 5,
    description: 'Priorities, comma-separated or repeated (1 most urgent … 5)',
  })
  @IsOptional()
  @Transform((params) => {
    const list = commaList(params);
    return Array.isArray(list) ? list.map((value: unknown) => digits({ value })) : list;
  })
  @IsArray()
  @ArrayNotEmpty({ message: 'priority must name at least one priority' })
  @IsIn([1, 2, 3, 4, 5], {
    each: true,
    message: 'priority must be whole numbers from 1 (most urgent) to 5, e.g. priority=1,2',
  })
  priority?: number[];

  @ApiPropertyOptional({ format: 'date-time', description: 'ISO 8601; inclusive' })
  @IsOptional()
  @IsISO8601({}, { message: 'createdFrom must be an ISO 8601 date-time' })
  createdFrom?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'ISO 8601; exclusive' })
  @IsOptional()
  @IsISO8601({}, { message: 'createdTo must be an ISO 8601 date-time' })
  createdTo?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 200, description: 'Case-insensitive substring' })
  @IsOptional()
  @IsString({ message: 'filename may be given once' })
  @Length(1, 200, { message: 'filename must be 1–200 characters' })
  filename?: string;

  @ApiPropertyOptional({ pattern: '^[0-9a-fA-F]{64}$', description: 'Content hash, 64 hex digits' })
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'sha256 must be 64 hex digits' })
  sha256?: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'Repeated (?tag=a&tag=b) or comma-separated; the job must carry every one',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === undefined ? undefined : parseTags(value)))
  @IsArray()
  @ArrayNotEmpty({ message: 'tag must name at least one tag' })
  @Matches(TAG_PATTERN, { each: true, message: 'each tag is 1–64 letters, digits or - _ . : /' })
  tag?: string[];

  @ApiPropertyOptional({ enum: SORTS, default: 'created' })
  @IsOptional()
  @IsIn(SORTS, { message: `sort must be one of ${SORTS.join(', ')}` })
  sort: JobSort = 'created';

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' })
  @IsOptional()
  @IsIn(['asc', 'desc'], { message: 'order must be asc or desc' })
  order: SortOrder = 'desc';

  @IntegerQueryParam('limit', { min: 1, max: MAX_LIMIT, default: 50 })
  limit: number = 50;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page (keyset)' })
  @IsOptional()
  @IsString({ message: 'cursor may be given once' })
  cursor?: string;

  @IntegerQueryParam('offset', { min: 0, max: MAX_OFFSET, description: 'Rows to skip; not with cursor' })
  offset?: number;

  /** The query the list service runs. */
  toQuery(): JobListQuery {
    return {
      statuses: this.status,
      priorities: this.priority,
      createdFrom: this.createdFrom === undefined ? undefined : new Date(this.createdFrom),
      createdTo: this.createdTo === undefined ? undefined : new Date(this.createdTo),
      filename: this.filename,
      sha256: this.sha256,
      tags: this.tag,
      sort: this.sort,
      order: this.order,
      limit: this.limit,
      offset: this.offset,
      cursor: this.cursor,
    };
  }
}

/** POST /v1/jobs/{id}/retry. */
export class RetryBody {
  @ApiPropertyOptional({ enum: OCR_MODES, description: "Replaces the job's OCR mode for this run" })
  @IsOptional()
  @IsIn(OCR_MODES)
  ocrMode?: OcrMode;

  @ApiPropertyOptional({ example: '2-4', description: 'Only failed pages in this range are run again' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @IsPageRange({ context: { code: 'PAGE_RANGE_INVALID' } })
  pages?: string;
}

/** POST /v1/jobs/{id}/password. */
export class PasswordBody {
  @ApiProperty({
    format: 'password',
    minLength: 1,
    maxLength: MAX_PASSWORD_CHARS,
    description: 'The user password of the encrypted PDF; sealed at once, never stored or logged in clear',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_PASSWORD_CHARS)
  password!: string;
}

/** GET /v1/jobs/{id}/result's query string. */
export class ResultQueryDto {
  @ApiPropertyOptional({
    enum: RESULT_FORMATS,
    default: 'json',
    description:
      'json: pages with words and boxes; txt: plain text, pages separated by form feeds; hocr: hOCR 1.2; ' +
      'alto: ALTO v4; tsv: tesseract-style TSV. hOCR, ALTO and TSV are in pixels of the page image (text-layer ' +
      'and unread pages at 300 dpi) and list every page, unread ones empty. pdf: the searchable PDF (the original ' +
      "PDF with an invisible text layer on its OCR'd pages; for an image, a PDF of its frames with their words).",
  })
  @IsOptional()
  @IsIn(RESULT_FORMATS, { message: `format must be one of ${RESULT_FORMATS.join(', ')}` })
  format: ResultFormat = 'json';
}

/**
 * PATCH /v1/jobs/{id}, each field optional: the priority (the job's owner or an admin), and the labels, note and
 * retention date (an admin only).
 */
export class JobPatchBody {
  @ApiPropertyOptional({ type: [String], maxItems: MAX_TAGS, description: 'Replaces the tags; stored lower-case' })
  @IsOptional()
  @IsArray({ message: 'tags must be an array of strings' })
  @IsString({ each: true, message: 'tags must be an array of strings' })
  tags?: string[];

  @ApiPropertyOptional({ nullable: true, type: String, maxLength: MAX_NOTE_CHARS, description: 'null clears it' })
  @IsOptional()
  @IsString({ message: 'note must be a string or null' })
  note?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'date-time',
    description: "Keep the job's file until then, instead of the cleanup schedule's retention; null: the default",
  })
  @IsOptional()
  @IsISO8601({}, { message: 'retainUntil must be an ISO 8601 date-time or null' })
  retainUntil?: string | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 5,
    description:
      '1 (most urgent) to 5. Accepted while the job is queued, waiting for a password, or has pages not yet ' +
      'started (409 JOB_NOT_QUEUED after): pages scheduled from then on run with it.',
  })
  @IsOptional()
  @IsJobPriority()
  priority?: number;
}
