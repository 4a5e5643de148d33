/** What POST /v1/documents (and the seed's POST /extract/pdf) accepts beside the file, checked and documented by one class. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { OCR_MODES, type OcrMode } from '../../core/lifecycle.js';
import { emptyAsAbsent, IsCallbackUrl, IsJobPriority, IsPageRange } from '../common/validation.js';
import { MAX_CALLBACK_URL_CHARS } from '../../core/webhooks.js';
import { MAX_PASSWORD_CHARS } from '../jobs/passwords.js';

/** The multipart fields beside the file. */
export class DocumentOptionsDto {
  @ApiPropertyOptional({
    enum: OCR_MODES,
    default: 'auto',
    description: 'For PDFs: whether to use the text layer. Images have none and are always read by OCR.',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsIn(OCR_MODES, {
    message: ({ value }) => `ocrMode must be one of ${OCR_MODES.join(', ')}; got "${String(value)}".`,
    context: { code: 'INVALID_OCR_MODE' },
  })
  ocrMode?: OcrMode;

  @ApiPropertyOptional({
    example: 'eng+kor',
    description:
      'Tesseract language codes joined by "+" (GET /v1/languages lists the installed ones), or "auto": each page read in the installed languages of the script detected on it; the default languages without it',
  })
  @IsOptional()
  @Transform(emptyAsAbsent)
  @IsString()
  languages?: string;

  @ApiPropertyOptional({
    example: '1-3,7',
    description: 'Pages to read; all by default. A multi-page TIFF has one page per frame.',
  })
  @IsOptional()
  @Transform(emptyAsAbsent)
  @IsPageRange({ context: { code: 'PAGE_RANGE_INVALID' } })
  pages?: string;

  @ApiPropertyOptional({
    format: 'password',
    maxLength: MAX_PASSWORD_CHARS,
    description:
      'The user password of an encrypted PDF. Sealed (AES-256-GCM) at once, never stored or logged in clear. ' +
      'Without it (or with a wrong one) such a job waits in `needs_password` for POST /v1/jobs/{id}/password. ' +
      'Ignored for an image, which has none.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_PASSWORD_CHARS, {
    message: `The password is longer than ${MAX_PASSWORD_CHARS} characters.`,
    context: { code: 'PASSWORD_INVALID' },
  })
  password?: string;

  @ApiPropertyOptional({
    example: 'https://example.com/hooks/folio',
    maxLength: MAX_CALLBACK_URL_CHARS,
    description:
      "Where this job's webhooks go (job.completed, job.partial, job.failed, job.cancelled, job.needs_password), " +
      "signed by Standard Webhooks with the API key's secret. Default: the key's webhook URL, if it has one.",
  })
  @IsOptional()
  @Transform(emptyAsAbsent)
  @IsCallbackUrl({ context: { code: 'WEBHOOK_INVALID' } })
  callbackUrl?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 5,
    default: 3,
    description:
      "1 (most urgent) to 5: the job's pages run before those of less urgent jobs waiting for the same workers " +
      "(Temporal's task priority). Editable while pages wait: PATCH /v1/jobs/{id}.",
  })
  @IsOptional()
  @Transform(emptyAsAbsent)
  @IsJobPriority()
  priority?: number;
}

/** The whole multipart body, for the OpenAPI document. */
export class UploadDocumentBody extends DocumentOptionsDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description: 'The PDF, PNG, JPEG, TIFF or WebP file (checked by content, not by name)',
  })
  file!: unknown;
}
