/**
 * Every activity the worker registers, built by one factory from injected dependencies: the document
 * activities (document.ts), the page pipeline (page.ts), the searchable PDF (searchable-pdf.ts) and the
 * maintenance schedules' (maintenance.ts).
 * src/worker.ts wires the real adapters; tests swap one for a deliberate fault.
 */
import type { Client } from '@temporalio/client';
import type { Sequelize } from 'sequelize';
import { Registry } from 'prom-client';
import type { PagePlan } from '../core/contracts.js';
import type { AppModels } from '../core/db/models.js';
import { JobStore } from '../core/job-store.js';
import type { DocumentStorage } from '../core/storage/storage.js';
import type { UploadStore } from '../core/uploads/upload-store.js';
import type { DocumentRunSettings } from '../core/workflow-client.js';
import { SharpImageEngine } from './adapters/sharp-image.js';
import type { ImageEngine, OcrEngine, PdfEngine } from './adapters/types.js';
import { passwordOpener } from './common.js';
import { createBatchActivities } from './batches.js';
import { createDocumentActivities } from './document.js';
import { createLegacyActivities } from './legacy.js';
import { createMaintenanceActivities } from './maintenance.js';
import { createPageActivities, type PageSettings } from './page.js';
import { createPageMetrics, type PageMetrics } from './page-metrics.js';
import { createSearchablePdfActivities, type SearchablePdfSettings } from './searchable-pdf.js';
import { createWebhookActivities, type WebhookDeliverySettings } from './webhooks.js';

/**
 * How much larger than the pixel cap (RENDER_MAX_PIXELS) an image may be and still be decoded, shrinking to
 * the cap as it is read; a larger one is refused with PAGE_TOO_LARGE before a pixel is decoded. Twice the
 * cap keeps a whole-image decode (WebP, interlaced PNG) within ~4 bytes × 2 × the cap.
 */
export const IMAGE_DECODE_HEADROOM = 2;

/** What the activities need from the process that hosts them. */
export interface ActivityDeps {
  models: AppModels;
  storage: DocumentStorage;
  pdf: PdfEngine;
  ocr: OcrEngine;
  /** Reads image documents; default: sharp, decoding frames of up to IMAGE_DECODE_HEADROOM × the pixel cap. */
  images?: ImageEngine;
  /** Where page metrics go; the worker passes the set on its /metrics registry. Default: a private registry. */
  metrics?: PageMetrics;
  /** Opens the sealed document passwords the workflows carry (DOCUMENT_SECRET_KEY). */
  documentSecretKey?: Buffer;
  /** For the reconciler: looking up workflows and starting those that never started. */
  temporal?: Client;
  /** Unfinished resumable uploads, whose expired ones the orphan sweep removes. */
  uploads?: Pick<UploadStore, 'deleteExpired'>;
  /** The legacy DB (guarded: insert and update only), for the legacy mirror; absent: its activities do nothing. */
  legacy?: Sequelize;
  settings: PageSettings & {
    /** MAX_PAGES. */
    maxPages: number;
    /** How the document's pages are run (core/page-plan.ts). */
    plan: PagePlan;
    /** Where documents run, for workflows the reconciler starts. */
    run?: DocumentRunSettings;
    /** The searchable PDF (SEARCHABLE_PDF, QPDF_PATH, GLYPHLESS_FONT_PATH); absent: not built. */
    searchablePdf?: SearchablePdfSettings;
    /** Webhook deliveries (WEBHOOK_*); absent: public addresses only, 10 s per attempt, 24 h secret overlap. */
    webhooks?: WebhookDeliverySettings;
    /** LEGACY_MIRROR: the reconciler repairs the legacy rows of Folio's jobs. */
    legacyMirror?: boolean;
  };
}

const DEFAULT_WEBHOOKS: WebhookDeliverySettings = {
  allowPrivate: false,
  timeoutMs: 10_000,
  secretOverlapSeconds: 24 * 3600,
};

const NO_SEARCHABLE_PDF: SearchablePdfSettings = { enabled: false, qpdf: 'qpdf', glyphlessFont: '' };

/** Builds the activities with their dependencies; the worker registers the returned object. */
export function createActivities(deps: ActivityDeps) {
  const { models, storage, pdf, ocr, settings } = deps;
  const jobs = new JobStore(models);
  const metrics = deps.metrics ?? createPageMetrics(new Registry());
  const openPassword = passwordOpener(deps.documentSecretKey);
  const images =
    deps.images ?? new SharpImageEngine({ maxInputPixels: settings.renderMaxPixels * IMAGE_DECODE_HEADROOM });
  return {
    ...createDocumentActivities({
      jobs,
      storage,
      pdf,
      images,
      metrics,
      openPassword,
      maxPages: settings.maxPages,
      plan: settings.plan,
      ...(settings.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: settings.heartbeatIntervalMs }),
    }),
    ...createPageActivities({ jobs, storage, pdf, images, ocr, metrics, openPassword, settings }),
    ...createSearchablePdfActivities({
      jobs,
      storage,
      images,
      openPassword,
      settings: settings.searchablePdf ?? NO_SEARCHABLE_PDF,
    }),
    ...createWebhookActivities({
      models,
      secretKey: deps.documentSecretKey,
      settings: settings.webhooks ?? DEFAULT_WEBHOOKS,
    }),
    ...createBatchActivities({ models }),
    ...createLegacyActivities({ models, jobs, legacy: deps.legacy, mirror: settings.legacyMirror ?? false }),
    ...createMaintenanceActivities({
      models,
      jobs,
      storage,
      uploads: deps.uploads,
      temporal: deps.temporal,
      run: settings.run,
    }),
  };
}

/** The activities' type, for proxyActivities in workflows (imported as a type only). */
export type Activities = ReturnType<typeof createActivities>;
