import { Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { StorageModule } from './storage/storage.module.js';
import { TemporalModule } from './temporal/temporal.module.js';
import { DocumentsModule } from './documents/documents.module.js';
import { BatchesModule } from './batches/batches.module.js';
import { UploadsModule } from './uploads/uploads.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { LanguagesModule } from './languages/languages.controller.js';
import { SeedModule } from './seed/seed.module.js';
import { AuthModule } from './auth/auth.module.js';
import { HealthModule } from './health/health.controller.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { PanelModule } from './admin/admin.module.js';
import { LoggingModule } from './telemetry/logging.module.js';
import { MetricsModule } from './telemetry/metrics.module.js';
import { MalwareModule } from './malware/malware-scanner.js';

/** The API process's modules. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    StorageModule,
    MalwareModule,
    TemporalModule,
    AuthModule,
    JobsModule,
    DocumentsModule,
    BatchesModule,
    UploadsModule,
    LanguagesModule,
    SeedModule,
    HealthModule,
    SchedulesModule,
    PanelModule,
    LoggingModule.forProcess('api'),
    MetricsModule,
  ],
})
export class AppModule {}
