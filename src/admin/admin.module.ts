import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AdminModule, type AdminModuleOptions } from '@adminjs/nestjs';
import ConnectSessionSequelize from 'connect-session-sequelize';
import session from 'express-session';
import type { Sequelize } from 'sequelize';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { APP_DB, APP_MODELS, LEGACY_MODELS } from '../database/database.module.js';
import type { AppModels } from '../../core/db/models.js';
import type { LegacyModels } from '../legacy/models.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { JobControlService } from '../jobs/job-control.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { dashboardData } from './dashboard.js';
import { OperatorsService } from './operators.service.js';
import { PanelLoader } from './panel.loader.js';
import { PANEL_ROOT, PanelResultsController } from './panel-results.controller.js';
import { buildResources } from './resources.js';
import { schedulesResource } from './schedules.resource.js';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { SchedulesService } from '../schedules/schedules.service.js';
import { ApiKeysService } from '../auth/api-keys.service.js';
import type { Client } from '@temporalio/client';
import { DocumentsModule } from '../documents/documents.module.js';
import { DocumentsService } from '../documents/documents.service.js';
import { JobEditsService } from '../jobs/job-edits.service.js';
import { JobPriorityService } from '../jobs/job-priority.service.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';

/** Source folder of the panel's React components (bundled by AdminJS at start, not compiled by tsc). */
const componentsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/admin/components');

const SESSION_STORE = Symbol('SESSION_STORE');
type Store = session.Store & { stopExpiringSessions(): void };

/** Operators, the session store on the app DB and the job services the panel's actions call. */
@Module({
  imports: [JobsModule, SchedulesModule, DocumentsModule],
  controllers: [PanelResultsController],
  providers: [
    OperatorsService,
    {
      provide: SESSION_STORE,
      inject: [APP_DB, APP_MODELS],
      useFactory: (db: Sequelize, _models: AppModels): Store => {
        const SequelizeStore = ConnectSessionSequelize(session.Store);
        // The table comes from migrations/ (admin_sessions); the store never syncs it.
        return new SequelizeStore({ db, table: 'AdminSession', checkExpirationInterval: 15 * 60_000 });
      },
    },
  ],
  exports: [OperatorsService, SESSION_STORE, JobsModule, SchedulesModule, DocumentsModule],
})
class PanelSupportModule implements OnApplicationShutdown {
  constructor(@Inject(SESSION_STORE) private readonly store: Store) {}

  onApplicationShutdown(): void {
    this.store.stopExpiringSessions();
  }
}

/** Builds AdminJS's options; adminjs reads ADMIN_JS_TMP_DIR at import, which src/main.ts set at boot. */
async function panelOptions(
  config: Config,
  models: AppModels,
  legacy: LegacyModels,
  db: Sequelize,
  store: Store,
  operators: OperatorsService,
  control: JobControlService,
  jobs: JobsService,
  schedules: SchedulesService,
  keys: ApiKeysService,
  documents: DocumentsService,
  edits: JobEditsService,
  temporal: Client,
  priorities: JobPriorityService,
): Promise<AdminModuleOptions> {
  const adminjs = await import('adminjs');
  const AdminJSSequelize = await import('@adminjs/sequelize');
  adminjs.default.registerAdapter({ Database: AdminJSSequelize.Database, Resource: AdminJSSequelize.Resource });

  let secret = config.admin.sessionSecret;
  if (!secret) {
    // Production refuses to start without one (config validation).
    secret = randomBytes(32).toString('hex');
    new Logger('Admin').warn('SESSION_SECRET is unset: using a random one; panel sessions end with this process.');
  }

  const componentLoader = new adminjs.ComponentLoader();
  const dashboard = componentLoader.add('FolioDashboard', path.join(componentsDir, 'dashboard.jsx'));
  const workflowLink = componentLoader.add('FolioWorkflowLink', path.join(componentsDir, 'workflow-link.jsx'));
  const resultLinks = componentLoader.add('FolioResultLinks', path.join(componentsDir, 'result-links.jsx'));
  const component = (name: string, file: string) => componentLoader.add(name, path.join(componentsDir, file));
  const components = {
    workflowLink,
    resultLinks,
    jobStatus: component('FolioJobStatus', 'job-status.jsx'),
    jobProgress: component('FolioJobProgress', 'job-progress.jsx'),
    jobTags: component('FolioJobTags', 'job-tags.jsx'),
    jobPages: component('FolioJobPages', 'job-pages.jsx'),
    jobOptions: component('FolioJobOptions', 'job-options.jsx'),
    jobTimeline: component('FolioJobTimeline', 'job-timeline.jsx'),
    jobUpload: component('FolioJobUpload', 'job-upload.jsx'),
    auditChange: component('FolioAuditChange', 'audit-change.jsx'),
  };
  const maxUploadBytes = config.limits.maxUploadBytes;

  return {
    adminJsOptions: {
      rootPath: PANEL_ROOT,
      componentLoader,
      // Folio's name, not the framework's logo or its maker's credit.
      branding: { companyName: 'Folio', logo: false, withMadeWithLove: false },
      locale: {
        language: 'en',
        translations: {
          en: {
            resources: {
              jobs: {
                properties: {
                  workflowUrl: 'Temporal workflow',
                  tagList: 'Tags',
                  optionsText: 'Options',
                  pageTable: 'Pages',
                  retainUntil: 'Retain until',
                  createdBy: 'Uploaded by (operator)',
                },
                actions: {
                  cancel: 'Cancel job',
                  retryFailedPages: 'Retry failed pages',
                  new: 'Upload a document',
                  timeline: 'Timeline',
                },
              },
              audit_events: { properties: { change: 'Before → after' } },
            },
          },
        },
      },
      dashboard: { component: dashboard, handler: () => dashboardData(db) },
      resources: [
        ...buildResources({
          adminjs,
          models,
          legacy,
          control,
          jobs,
          keys,
          components,
          jobPanel: { models, documents, edits, priorities, temporal, maxUploadBytes },
          SequelizeResource: AdminJSSequelize.Resource,
        }),
        schedulesResource(adminjs, schedules),
      ],
    },
    auth: {
      authenticate: (email, password) => operators.authenticate(email, password),
      cookieName: 'folio_admin',
      cookiePassword: secret,
    },
    // The panel's upload form: formidable stops reading past the API's own size limit.
    formidableOptions: { maxFileSize: maxUploadBytes },
    sessionOptions: {
      // @adminjs/express sets the secret from cookiePassword too; both are the same value.
      secret,
      store,
      resave: false,
      saveUninitialized: false,
      // Secure cookies behind TLS; the proxy's X-Forwarded-Proto then says the request was https.
      proxy: config.admin.cookieSecure,
      cookie: { httpOnly: true, sameSite: 'lax', secure: config.admin.cookieSecure, maxAge: 8 * 3_600_000 },
    },
  };
}

/** AdminJS at /admin, mounted by PanelLoader with its own CSP and a login rate limit. */
export const PanelModule = AdminModule.createAdminAsync({
  imports: [PanelSupportModule],
  inject: [
    CONFIG,
    APP_MODELS,
    LEGACY_MODELS,
    APP_DB,
    SESSION_STORE,
    OperatorsService,
    JobControlService,
    JobsService,
    SchedulesService,
    ApiKeysService,
    DocumentsService,
    JobEditsService,
    TEMPORAL_CLIENT,
    JobPriorityService,
  ],
  useFactory: panelOptions,
  customLoader: PanelLoader,
});
