import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
} from 'sequelize';
import type { DocumentOptions, PageLanguages, PageLayout, WebhookSettings, Word } from '../contracts.js';
import type { JobStatus, JobStep, PageMethod, PageStatus } from '../lifecycle.js';

/** A document submitted for extraction. */
export class Job extends Model<InferAttributes<Job>, InferCreationAttributes<Job>> {
  declare id: string;
  declare status: JobStatus;
  declare step: JobStep;
  declare filename: string | null;
  declare contentType: string | null;
  declare sizeBytes: number;
  declare sha256: string;
  declare storageKey: string;
  declare options: DocumentOptions;
  declare workflowId: string;
  declare pageCount: CreationOptional<number | null>;
  declare pagesSelected: CreationOptional<number | null>;
  declare encrypted: CreationOptional<boolean | null>;
  declare errorCode: CreationOptional<string | null>;
  declare errorMessage: CreationOptional<string | null>;
  declare errorPage: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare startedAt: CreationOptional<Date | null>;
  declare finishedAt: CreationOptional<Date | null>;
  declare archivedAt: CreationOptional<Date | null>;
  /** The API key that submitted the job; null for jobs from before keys existed or with auth disabled. */
  declare apiKeyId: CreationOptional<string | null>;
  declare idempotencyKey: CreationOptional<string | null>;
  /** Canonical options: with sha256 and the owner, the dedupe key. */
  declare optionsKey: CreationOptional<string | null>;
  /** Failed-page retries run so far; names the next retry workflow. */
  declare retryCount: CreationOptional<number>;
  /** The document's password sealed with DOCUMENT_SECRET_KEY for this job (never the clear text), for retries. */
  declare passwordSealed: CreationOptional<string | null>;
  /** Where the job's webhooks go: the callbackUrl it was submitted with, else its key's default; null: none. */
  declare callbackUrl: CreationOptional<string | null>;
  /** 1 (most urgent) to 5; 3 by default. Carried by Temporal's task priority to the job's workflow and pages. */
  declare priority: CreationOptional<number>;
  /** The batch that submitted the job; null for a job submitted on its own. */
  declare batchId: CreationOptional<string | null>;
  /** Operators' labels; GET /v1/jobs?tag=… and the panel filter by them (every tag given must match). */
  declare tags: CreationOptional<string[]>;
  /** An operator's note on the job. */
  declare note: CreationOptional<string | null>;
  /** Kept until then, whatever the cleanup schedule's retention (earlier or later); null: the default. */
  declare retainUntil: CreationOptional<Date | null>;
  /** The operator (email) who uploaded the document from the panel; null for API submissions. */
  declare createdBy: CreationOptional<string | null>;
}

/** Documents submitted together with shared options (POST /v1/batches); never deleted. */
export class Batch extends Model<InferAttributes<Batch>, InferCreationAttributes<Batch>> {
  declare id: string;
  declare apiKeyId: string | null;
  declare options: DocumentOptions;
  declare callbackUrl: string | null;
  /** Where and how batch.completed is delivered; null: the batch has no callback URL. */
  declare webhook: WebhookSettings | null;
  /** File parts the request carried, accepted or not. */
  declare fileCount: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  /** Every document recorded: the batch may end only once it is set. */
  declare sealedAt: CreationOptional<Date | null>;
  declare cancelledAt: CreationOptional<Date | null>;
  declare endedAt: CreationOptional<Date | null>;
  /** Who ended it (the last document's workflow run, or the API request that sealed it): a retried end finds it again. */
  declare endedBy: CreationOptional<string | null>;
}

/** One file part of a batch, in the order sent: the job it became, or why it was refused. */
export class BatchDocument extends Model<InferAttributes<BatchDocument>, InferCreationAttributes<BatchDocument>> {
  declare batchId: string;
  declare position: number;
  declare fileName: string | null;
  declare jobId: string | null;
  declare errorCode: string | null;
  declare errorMessage: string | null;
}

/** An API client's key: only its SHA-256 is stored; revoked, never deleted. */
export class ApiKey extends Model<InferAttributes<ApiKey>, InferCreationAttributes<ApiKey>> {
  declare id: string;
  declare name: string;
  declare role: 'client' | 'admin';
  declare prefix: string;
  declare keyHash: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare revokedAt: CreationOptional<Date | null>;
  declare lastUsedAt: CreationOptional<Date | null>;
  /** The callback URL of this key's jobs submitted without one. */
  declare webhookUrl: CreationOptional<string | null>;
  /** The Standard Webhooks signing secret (`whsec_…`), sealed with DOCUMENT_SECRET_KEY for this key. */
  declare webhookSecretSealed: CreationOptional<string | null>;
  /** The secret before the last rotation, sealed; it still signs for WEBHOOK_SECRET_OVERLAP_SECONDS. */
  declare webhookSecretPreviousSealed: CreationOptional<string | null>;
  declare webhookSecretRotatedAt: CreationOptional<Date | null>;
}

/** One attempt at delivering a webhook: kept for the record, never deleted. */
export class WebhookDelivery extends Model<InferAttributes<WebhookDelivery>, InferCreationAttributes<WebhookDelivery>> {
  declare id: CreationOptional<number>;
  declare jobId: string;
  declare event: string;
  /** The Standard Webhooks message id: the same for every attempt at one event, so receivers dedupe by it. */
  declare webhookId: string;
  declare attempt: number;
  declare url: string;
  declare outcome: 'delivered' | 'gone' | 'failed' | 'refused';
  declare statusCode: number | null;
  declare error: string | null;
  declare durationMs: number;
  declare attemptedAt: Date;
}

/** One page of a job: its state and, once done, its text. Keyed by (job, page). */
export class JobPage extends Model<InferAttributes<JobPage>, InferCreationAttributes<JobPage>> {
  declare jobId: string;
  declare pageNumber: number;
  declare status: PageStatus;
  declare method: CreationOptional<PageMethod | null>;
  declare width: CreationOptional<number | null>;
  declare height: CreationOptional<number | null>;
  declare hasTextLayer: CreationOptional<boolean | null>;
  declare text: CreationOptional<string | null>;
  declare confidence: CreationOptional<number | null>;
  declare words: CreationOptional<Word[] | null>;
  /** Blocks, paragraphs, lines and the image read; null on pages read before layouts were stored. */
  declare layout: CreationOptional<PageLayout | null>;
  declare renderDpi: CreationOptional<number | null>;
  /** OCR pages: the languages they were read in; null for text-layer pages. */
  declare languages: CreationOptional<PageLanguages | null>;
  declare attempts: CreationOptional<number>;
  declare durationMs: CreationOptional<number | null>;
  declare errorCode: CreationOptional<string | null>;
  declare errorMessage: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** One change to a Temporal Schedule made through Folio: who did what, when. */
export class ScheduleAudit extends Model<InferAttributes<ScheduleAudit>, InferCreationAttributes<ScheduleAudit>> {
  declare id: CreationOptional<number>;
  declare scheduleId: string;
  declare action: string;
  declare actor: string;
  declare details: CreationOptional<Record<string, unknown> | null>;
  declare createdAt: CreationOptional<Date>;
}

/** Who acted: a panel operator, an API key, or the system (a script, a schedule). */
export type AuditActorType = 'operator' | 'api_key' | 'system';

/** One operator or key action: who, what, on what, when, before and after. Append-only (a trigger refuses changes). */
export class AuditEvent extends Model<InferAttributes<AuditEvent>, InferCreationAttributes<AuditEvent>> {
  declare id: CreationOptional<number>;
  declare actorType: AuditActorType;
  declare actorId: string | null;
  declare actor: string;
  declare action: string;
  declare targetType: string;
  declare targetId: string | null;
  declare before: Record<string, unknown> | null;
  declare after: Record<string, unknown> | null;
  declare createdAt: CreationOptional<Date>;
}

/** A person who signs in to the admin panel. Never deleted: disabled instead. */
export class Operator extends Model<InferAttributes<Operator>, InferCreationAttributes<Operator>> {
  declare id: CreationOptional<string>;
  declare email: string;
  declare name: CreationOptional<string | null>;
  declare passwordHash: string;
  declare disabled: CreationOptional<boolean>;
  declare lastLoginAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** An admin panel session, stored by connect-session-sequelize. */
export class AdminSession extends Model<InferAttributes<AdminSession>, InferCreationAttributes<AdminSession>> {
  declare sid: string;
  declare expires: Date | null;
  declare data: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** Binds the app models to the 'app' connection. The schema itself comes from migrations/. */
export function initAppModels(sequelize: Sequelize): {
  Job: typeof Job;
  JobPage: typeof JobPage;
  ScheduleAudit: typeof ScheduleAudit;
  ApiKey: typeof ApiKey;
  Operator: typeof Operator;
  AdminSession: typeof AdminSession;
  WebhookDelivery: typeof WebhookDelivery;
  Batch: typeof Batch;
  BatchDocument: typeof BatchDocument;
  AuditEvent: typeof AuditEvent;
} {
  Job.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      status: { type: DataTypes.STRING(16), allowNull: false },
      step: { type: DataTypes.STRING(24), allowNull: false },
      filename: DataTypes.TEXT,
      contentType: DataTypes.TEXT,
      // BIGINT comes back from pg as a string; uploads stay far below 2^53.
      sizeBytes: {
        type: DataTypes.BIGINT,
        allowNull: false,
        get(this: Job) {
          return Number(this.getDataValue('sizeBytes'));
        },
      },
      sha256: { type: DataTypes.CHAR(64), allowNull: false },
      storageKey: { type: DataTypes.TEXT, allowNull: false },
      options: { type: DataTypes.JSONB, allowNull: false },
      workflowId: { type: DataTypes.TEXT, allowNull: false },
      pageCount: DataTypes.INTEGER,
      pagesSelected: DataTypes.INTEGER,
      encrypted: DataTypes.BOOLEAN,
      errorCode: DataTypes.STRING(48),
      errorMessage: DataTypes.TEXT,
      errorPage: DataTypes.INTEGER,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
      startedAt: DataTypes.DATE,
      finishedAt: DataTypes.DATE,
      archivedAt: DataTypes.DATE,
      apiKeyId: DataTypes.UUID,
      idempotencyKey: DataTypes.TEXT,
      optionsKey: DataTypes.TEXT,
      retryCount: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      passwordSealed: DataTypes.TEXT,
      callbackUrl: DataTypes.TEXT,
      priority: { type: DataTypes.SMALLINT, allowNull: false, defaultValue: 3 },
      batchId: DataTypes.UUID,
      tags: { type: DataTypes.ARRAY(DataTypes.TEXT), allowNull: false, defaultValue: [] },
      note: DataTypes.TEXT,
      retainUntil: DataTypes.DATE,
      createdBy: DataTypes.TEXT,
    },
    { sequelize, tableName: 'jobs', underscored: true },
  );
  Batch.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      apiKeyId: DataTypes.UUID,
      options: { type: DataTypes.JSONB, allowNull: false },
      callbackUrl: DataTypes.TEXT,
      webhook: DataTypes.JSONB,
      fileCount: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
      sealedAt: DataTypes.DATE,
      cancelledAt: DataTypes.DATE,
      endedAt: DataTypes.DATE,
      endedBy: DataTypes.TEXT,
    },
    { sequelize, tableName: 'batches', underscored: true },
  );
  BatchDocument.init(
    {
      batchId: { type: DataTypes.UUID, primaryKey: true },
      position: { type: DataTypes.INTEGER, primaryKey: true },
      fileName: DataTypes.TEXT,
      jobId: DataTypes.UUID,
      errorCode: DataTypes.STRING(48),
      errorMessage: DataTypes.TEXT,
    },
    { sequelize, tableName: 'batch_documents', underscored: true, timestamps: false },
  );
  JobPage.init(
    {
      jobId: { type: DataTypes.UUID, primaryKey: true },
      pageNumber: { type: DataTypes.INTEGER, primaryKey: true },
      status: { type: DataTypes.STRING(16), allowNull: false },
      method: DataTypes.STRING(16),
      width: DataTypes.REAL,
      height: DataTypes.REAL,
      hasTextLayer: DataTypes.BOOLEAN,
      text: DataTypes.TEXT,
      confidence: DataTypes.REAL,
      words: DataTypes.JSONB,
      layout: DataTypes.JSONB,
      renderDpi: DataTypes.INTEGER,
      languages: DataTypes.JSONB,
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      durationMs: DataTypes.INTEGER,
      errorCode: DataTypes.STRING(48),
      errorMessage: DataTypes.TEXT,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'job_pages', underscored: true },
  );
  ScheduleAudit.init(
    {
      id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
      scheduleId: { type: DataTypes.TEXT, allowNull: false },
      action: { type: DataTypes.STRING(32), allowNull: false },
      actor: { type: DataTypes.TEXT, allowNull: false },
      details: DataTypes.JSONB,
      createdAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'schedule_audit', underscored: true, updatedAt: false },
  );
  ApiKey.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.TEXT, allowNull: false },
      role: { type: DataTypes.STRING(16), allowNull: false },
      prefix: { type: DataTypes.STRING(16), allowNull: false },
      keyHash: { type: DataTypes.CHAR(64), allowNull: false },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
      revokedAt: DataTypes.DATE,
      lastUsedAt: DataTypes.DATE,
      webhookUrl: DataTypes.TEXT,
      webhookSecretSealed: DataTypes.TEXT,
      webhookSecretPreviousSealed: DataTypes.TEXT,
      webhookSecretRotatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'api_keys', underscored: true },
  );
  WebhookDelivery.init(
    {
      id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
      jobId: { type: DataTypes.UUID, allowNull: false },
      event: { type: DataTypes.STRING(32), allowNull: false },
      webhookId: { type: DataTypes.TEXT, allowNull: false },
      attempt: { type: DataTypes.INTEGER, allowNull: false },
      url: { type: DataTypes.TEXT, allowNull: false },
      outcome: { type: DataTypes.STRING(16), allowNull: false },
      statusCode: DataTypes.INTEGER,
      error: DataTypes.TEXT,
      durationMs: { type: DataTypes.INTEGER, allowNull: false },
      attemptedAt: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'webhook_deliveries', underscored: true, timestamps: false },
  );
  Operator.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4 },
      email: { type: DataTypes.TEXT, allowNull: false, unique: true, validate: { isEmail: true } },
      name: DataTypes.TEXT,
      passwordHash: { type: DataTypes.TEXT, allowNull: false },
      disabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      lastLoginAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'operators', underscored: true },
  );
  AdminSession.init(
    {
      sid: { type: DataTypes.STRING(36), primaryKey: true },
      expires: DataTypes.DATE,
      data: DataTypes.TEXT,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'admin_sessions', underscored: true },
  );
  AuditEvent.init(
    {
      id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
      actorType: { type: DataTypes.STRING(16), allowNull: false },
      actorId: DataTypes.TEXT,
      actor: { type: DataTypes.TEXT, allowNull: false },
      action: { type: DataTypes.STRING(48), allowNull: false },
      targetType: { type: DataTypes.STRING(32), allowNull: false },
      targetId: DataTypes.TEXT,
      before: DataTypes.JSONB,
      after: DataTypes.JSONB,
      createdAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'audit_events', underscored: true, updatedAt: false },
  );
  Job.hasMany(JobPage, { foreignKey: 'jobId', as: 'pages' });
  JobPage.belongsTo(Job, { foreignKey: 'jobId' });
  return {
    Job,
    JobPage,
    ScheduleAudit,
    ApiKey,
    Operator,
    AdminSession,
    WebhookDelivery,
    Batch,
    BatchDocument,
    AuditEvent,
  };
}

export type AppModels = ReturnType<typeof initAppModels>;
