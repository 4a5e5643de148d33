import { Controller, Get, Header, Inject, Module, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { ApiErrors } from '../common/openapi.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import {
  AUTO_LANGUAGES,
  installCommand,
  installedLanguages,
  languageInfo,
  modelOrigins,
} from '../../core/languages.js';

/** Which kind of tesseract model OCR_MODEL reads. */
const MODEL_KINDS = { fast: 'tessdata_fast', best_int: 'tessdata_best_int', default: 'legacy+lstm' } as const;

export class LanguageView {
  @ApiProperty({ example: 'kor', description: "Tesseract's code, as `languages` takes it" }) code!: string;
  @ApiProperty({ example: 'Korean' }) name!: string;
  @ApiProperty({
    example: 'Hangul',
    description: 'The script tesseract\'s OSD names for its text (what languages=auto matches); "" when not catalogued',
  })
  script!: string;
  @ApiProperty({ enum: Object.values(MODEL_KINDS), description: 'The model kind (OCR_MODEL)' }) model!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'debian tesseract-ocr-kor=1:4.1.0-2',
    description: 'Where the model came from, when recorded',
  })
  source!: string | null;
}

export class LanguagesView {
  @ApiProperty({ type: [LanguageView] }) languages!: LanguageView[];
  @ApiProperty({ type: [String], example: ['eng'], description: 'DEFAULT_LANGUAGES: used when a request names none' })
  defaults!: string[];
  @ApiProperty({
    example: 'bash scripts/install-languages.sh <code>',
    description: 'The command that installs another language where the API and the workers run',
  })
  install!: string;
  @ApiProperty({
    example: AUTO_LANGUAGES,
    description: 'The `languages` value that reads each page in the installed languages of the script detected on it',
  })
  auto!: string;
}

/** The OCR languages installed: what `languages` may name. */
@ApiTags('languages')
@ApiSecurity('apiKey')
@ApiSecurity('bearer')
@UseGuards(ApiKeyGuard)
@ApiErrors(401, 429)
@Controller('v1/languages')
export class LanguagesController {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: LanguagesView })
  index(): LanguagesView {
    const { models, ocrModel, defaultLanguages } = this.config.pipeline;
    // Read from the folder (or the packages) on every call: a model installed since the start is listed.
    const origins = models.tessdataDir === undefined ? undefined : modelOrigins(models.tessdataDir);
    return {
      languages: installedLanguages(models).map((code) => ({
        ...languageInfo(code),
        model: MODEL_KINDS[ocrModel],
        source: origins === undefined ? `npm @tesseract.js-data/${code}` : (origins.get(code) ?? null),
      })),
      defaults: defaultLanguages,
      install: installCommand(['<code>'], models),
      auto: AUTO_LANGUAGES,
    };
  }
}

@Module({ controllers: [LanguagesController] })
export class LanguagesModule {}
