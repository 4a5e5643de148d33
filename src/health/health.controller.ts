import { Controller, Get, HttpCode, Inject, Module, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Client, Connection } from '@temporalio/client';
import type { Response } from 'express';
import type { Sequelize } from 'sequelize';
import { APP_DB, LEGACY_DB } from '../database/database.module.js';
import { STORAGE } from '../storage/storage.module.js';
import type { DocumentStorage } from '../../core/storage/storage.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { MalwareScanner } from '../malware/malware-scanner.js';

const CHECK_TIMEOUT_MS = 3000;

async function probe(check: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

class LiveView {
  @ApiProperty({ enum: ['ok'] }) status!: string;
}

class CheckView {
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional() error?: string;
}

class ChecksView {
  @ApiProperty({ type: CheckView }) appDb!: CheckView;
  @ApiProperty({ type: CheckView }) legacyDb!: CheckView;
  @ApiProperty({ type: CheckView }) temporal!: CheckView;
  @ApiProperty({ type: CheckView }) storage!: CheckView;
  @ApiPropertyOptional({ type: CheckView, description: 'Only with MALWARE_SCAN=clamav: clamd answers PING.' })
  clamd?: CheckView;
}

class ReadyView {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status!: string;
  @ApiProperty({ type: ChecksView }) checks!: ChecksView;
}

/** Liveness (the process answers) and readiness (both DBs, Temporal, storage and, when scanning, clamd answer). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(APP_DB) private readonly app: Sequelize,
    @Inject(LEGACY_DB) private readonly legacy: Sequelize,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(STORAGE) private readonly storage: DocumentStorage,
    private readonly scanner: MalwareScanner,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOkResponse({ type: LiveView })
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOkResponse({ type: ReadyView })
  @ApiServiceUnavailableResponse({ type: ReadyView, headers: { 'Retry-After': { schema: { type: 'integer' } } } })
  async ready(@Res({ passthrough: true }) res: Response): Promise<Record<string, unknown>> {
    const clamdCheck = this.scanner.check();
    const [appDb, legacyDb, temporal, storage, clamd] = await Promise.all([
      probe(() => this.app.query('SELECT 1')),
      probe(() => this.legacy.query('SELECT 1')),
      probe(() => (this.temporal.connection as Connection).healthService.check({})),
      probe(() => this.storage.check()),
      clamdCheck ? probe(clamdCheck) : undefined,
    ]);
    const checks = { appDb, legacyDb, temporal, storage, ...(clamd ? { clamd } : {}) };
    const ok = Object.values(checks).every((c) => c.ok);
    if (!ok) {
      res.status(503);
      res.setHeader('Retry-After', '5');
    }
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}

@Module({ controllers: [HealthController] })
export class HealthModule {}
