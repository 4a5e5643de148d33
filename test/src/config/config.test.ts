import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('configuration', () => {
  it('has safe defaults', () => {
    const c = loadConfig({});
    assert.equal(c.env, 'production');
    assert.equal(c.http.port, 3000);
    assert.equal(c.temporal.taskQueue, 'folio-documents');
    assert.equal(c.pipeline.dpi, 300);
    assert.equal(c.pipeline.workerMaxActivities, 2 * c.pipeline.ocrWorkers);
    assert.deepEqual(c.pipeline.defaultLanguages, ['eng']);
  });

  it('limits per key and allows no cross-origin access by default; CORS_ORIGINS takes origins only', () => {
    const c = loadConfig({});
    assert.deepEqual(c.rateLimit, { requests: 1200, windowSeconds: 60, maxDocumentsInFlightPerKey: 1000 });
    assert.deepEqual(c.cors.origins, []);
    const listed = loadConfig({ CORS_ORIGINS: ' https://app.example.com, http://localhost:5173 ' });
    assert.deepEqual(listed.cors.origins, ['https://app.example.com', 'http://localhost:5173']);
    assert.throws(
      () => loadConfig({ CORS_ORIGINS: 'https://app.example.com/path' }),
      (err: unknown) => err instanceof ConfigError && /CORS_ORIGINS/.test(err.message),
    );
    assert.throws(() => loadConfig({ MAX_IN_FLIGHT_PER_KEY: '0' }), ConfigError);
  });

  it('names every invalid variable at once', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', OCR_DPI: '20', APP_DATABASE_URL: 'not a url' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /PORT/.test(err.message) &&
        /OCR_DPI/.test(err.message) &&
        /APP_DATABASE_URL/.test(err.message),
    );
  });

  it('reads numbers and lists', () => {
    const c = loadConfig({
      MAX_UPLOAD_BYTES: '1024',
      DEFAULT_LANGUAGES: 'eng+deu',
      TEMPORAL_UI_URL: 'http://ui:8080/',
    });
    assert.equal(c.limits.maxUploadBytes, 1024);
    assert.deepEqual(c.pipeline.defaultLanguages, ['eng', 'deu']);
    assert.equal(c.temporal.uiUrl, 'http://ui:8080');
  });

  it('requires API keys by default and refuses API_AUTH=disabled in production', () => {
    assert.equal(loadConfig({}).auth.mode, 'required');
    assert.equal(loadConfig({ NODE_ENV: 'development', API_AUTH: 'disabled' }).auth.mode, 'disabled');
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', API_AUTH: 'disabled' }),
      (err: unknown) => err instanceof ConfigError && /API_AUTH/.test(err.message),
    );
    assert.throws(() => loadConfig({ API_AUTH: 'maybe' }), ConfigError);
  });

  it("takes pino's log levels and Nest's names for them; metrics servers are off unless given a port", () => {
    assert.equal(loadConfig({}).logLevel, 'info');
    assert.equal(loadConfig({ LOG_LEVEL: 'log' }).logLevel, 'info');
    assert.equal(loadConfig({ LOG_LEVEL: 'verbose' }).logLevel, 'trace');
    assert.equal(loadConfig({ LOG_LEVEL: 'debug' }).logLevel, 'debug');
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
    assert.deepEqual(loadConfig({}).metrics, { host: '0.0.0.0', apiPort: undefined, workerPort: undefined });
    const c = loadConfig({ METRICS_PORT: '9464', WORKER_METRICS_PORT: '9465' });
    assert.deepEqual([c.metrics.apiPort, c.metrics.workerPort], [9464, 9465]);
    assert.throws(() => loadConfig({ WORKER_METRICS_PORT: '70000' }), /WORKER_METRICS_PORT/);
  });

  it('accepts the fault-test pause only outside production', () => {
    assert.equal(loadConfig({}).faultPauseAt, undefined);
    assert.equal(loadConfig({ NODE_ENV: 'test', FAULT_PAUSE_AT: 'job-recorded' }).faultPauseAt, 'job-recorded');
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', FAULT_PAUSE_AT: 'upload-stored' }),
      (err: unknown) => err instanceof ConfigError && /FAULT_PAUSE_AT/.test(err.message),
    );
    assert.throws(() => loadConfig({ NODE_ENV: 'test', FAULT_PAUSE_AT: 'somewhere' }), ConfigError);
  });

  it('bounds memory: renders at once from the OCR pool, OCR workers replaced after 200 pages', () => {
    const c = loadConfig({});
    assert.equal(c.pipeline.pdfMaxRenders, 1);
    assert.equal(c.pipeline.ocrWorkerMaxPages, 200);
    assert.equal(loadConfig({ OCR_WORKERS: '8' }).pipeline.pdfMaxRenders, 2);
    assert.equal(loadConfig({ PDF_MAX_RENDERS: '4', PDF_THREADS: '2' }).pipeline.pdfMaxRenders, 2);
    assert.equal(loadConfig({ OCR_WORKER_MAX_PAGES: '50' }).pipeline.ocrWorkerMaxPages, 50);
    assert.throws(() => loadConfig({ OCR_WORKER_MAX_PAGES: '0' }), ConfigError);
  });

  it('delivers webhooks to public addresses only by default, 10 s per attempt, 5 s doubling to 1 h', () => {
    assert.deepEqual(loadConfig({}).webhooks, {
      allowPrivate: false,
      timeoutMs: 10_000,
      retryInitialMs: 5_000,
      retryMaxMs: 3_600_000,
      secretOverlapSeconds: 86_400,
    });
    const dev = loadConfig({
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_INITIAL_MS: '200',
      WEBHOOK_RETRY_MAX_MS: '100',
    });
    assert.equal(dev.webhooks.allowPrivate, true);
    assert.equal(dev.webhooks.retryMaxMs, 200, 'the longest interval is never below the first');
    assert.throws(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes' }), /WEBHOOK_ALLOW_PRIVATE/);
    assert.throws(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '120000' }), /WEBHOOK_TIMEOUT_MS/);
  });

  it('reads the page heartbeat timeout, 30 s by default and never below 4 s', () => {
    assert.equal(loadConfig({}).pipeline.pageHeartbeatTimeoutSeconds, 30);
    assert.equal(loadConfig({ PAGE_HEARTBEAT_SECONDS: '10' }).pipeline.pageHeartbeatTimeoutSeconds, 10);
    assert.throws(() => loadConfig({ PAGE_HEARTBEAT_SECONDS: '2' }), ConfigError);
  });

  it('reads models from OCR_TESSDATA_DIR only when it holds every default language', () => {
    // tessdata_fast from .tools/tessdata by default; the npm packages with OCR_MODEL=best_int.
    assert.equal(loadConfig({}).pipeline.tessdataDir, path.resolve('.tools/tessdata'));
    assert.deepEqual(loadConfig({ OCR_MODEL: 'best_int' }).pipeline.models, { model: 'best_int' });
    assert.equal(loadConfig({ OCR_MODEL: 'best_int' }).pipeline.tessdataDir, undefined);
    const dir = mkdtempSync(path.join(tmpdir(), 'folio-config-tessdata-'));
    try {
      // The default folder is checked only where models are read: the API and the worker.
      const absent = path.join(dir, 'absent');
      assert.doesNotThrow(() => loadConfig({ NODE_ENV: 'development' }, 'tool'));
      assert.throws(
        () => loadConfig({ NODE_ENV: 'development', OCR_TESSDATA_DIR: absent }, 'worker'),
        (err: unknown) =>
          err instanceof ConfigError &&
          /install the models with `bash scripts\/install-languages.sh eng`/.test(err.message),
      );
      assert.throws(
        () => loadConfig({ OCR_TESSDATA_DIR: path.join(dir, 'absent') }),
        (err: unknown) => err instanceof ConfigError && /OCR_TESSDATA_DIR: cannot read/.test(err.message),
      );
      writeFileSync(path.join(dir, 'osd.traineddata'), '');
      writeFileSync(path.join(dir, 'deu.traineddata.gz'), '');
      assert.throws(
        () => loadConfig({ OCR_TESSDATA_DIR: dir }),
        (err: unknown) =>
          err instanceof ConfigError &&
          /has no .* for eng .* it has: deu\. Install them with `bash scripts\/install-languages.sh eng`\.$/.test(
            err.message,
          ),
      );
      writeFileSync(path.join(dir, 'eng.traineddata'), '');
      assert.equal(loadConfig({ OCR_TESSDATA_DIR: dir }).pipeline.tessdataDir, dir);
      assert.equal(loadConfig({ OCR_TESSDATA_DIR: dir, DEFAULT_LANGUAGES: 'eng+deu' }).pipeline.tessdataDir, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies production rules by process: the API needs both secrets and a strong admin password, the worker the document key, tools neither', () => {
    const key = 'a1'.repeat(32);
    const api = { DOCUMENT_SECRET_KEY: key, SESSION_SECRET: 's'.repeat(32) };
    assert.doesNotThrow(() => loadConfig(api, 'api'));
    assert.throws(() => loadConfig({ DOCUMENT_SECRET_KEY: key }, 'api'), /SESSION_SECRET is required in production/);
    assert.throws(
      () => loadConfig({ ...api, ADMIN_PASSWORD: 'short' }, 'api'),
      /ADMIN_PASSWORD is too weak \(at least 12 characters\)/,
    );
    assert.throws(
      () => loadConfig({ ...api, ADMIN_PASSWORD: 'folio-development' }, 'api'),
      /ADMIN_PASSWORD is too weak \(it is the published development password\)/,
    );
    assert.doesNotThrow(() => loadConfig({ ...api, ADMIN_PASSWORD: 'a long enough passphrase' }, 'api'));
    // Every problem in one message, so one restart fixes them all.
    assert.throws(
      () => loadConfig({ API_AUTH: 'disabled', ADMIN_PASSWORD: 'short' }, 'api'),
      (e: unknown) =>
        e instanceof ConfigError &&
        ['API_AUTH', 'DOCUMENT_SECRET_KEY', 'SESSION_SECRET', 'ADMIN_PASSWORD'].every((name) =>
          e.message.includes(name),
        ),
    );
    assert.doesNotThrow(() => loadConfig({ DOCUMENT_SECRET_KEY: key }, 'worker'));
    assert.throws(() => loadConfig({ SESSION_SECRET: 's'.repeat(32) }, 'worker'), /DOCUMENT_SECRET_KEY is required/);
    assert.doesNotThrow(() => loadConfig({}, 'tool'));
    // Outside production none applies: npm start and npm test provide what they need.
    assert.doesNotThrow(() => loadConfig({ NODE_ENV: 'development', ADMIN_PASSWORD: 'short' }, 'api'));
  });

  it('STORAGE_URL: a folder (unset, a path, file://) or s3://bucket/prefix with the AWS variables; anything else is refused', () => {
    assert.deepEqual(loadConfig({ STORAGE_DIR: '/srv/folio' }).storage, { kind: 'local', dir: '/srv/folio' });
    assert.deepEqual(loadConfig({ STORAGE_URL: '/srv/docs' }).storage, { kind: 'local', dir: '/srv/docs' });
    assert.deepEqual(loadConfig({ STORAGE_URL: 'file:///srv/docs' }).storage, { kind: 'local', dir: '/srv/docs' });
    const s3 = loadConfig({
      STORAGE_URL: 's3://folio-docs/prod/ocr/',
      AWS_ENDPOINT_URL: 'http://minio:9000',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      STORAGE_CACHE_DIR: '/var/cache/folio',
      STORAGE_CACHE_BYTES: '1048576',
    }).storage;
    assert.deepEqual(s3, {
      kind: 's3',
      bucket: 'folio-docs',
      prefix: 'prod/ocr/',
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      cache: { dir: '/var/cache/folio', maxBytes: 1048576 },
    });
    // AWS itself: no endpoint, virtual-hosted style; the S3-specific endpoint wins over the general one.
    const aws = loadConfig({ STORAGE_URL: 's3://folio-docs' }).storage;
    assert.ok(aws.kind === 's3' && aws.prefix === '' && !aws.forcePathStyle && aws.endpoint === undefined);
    const both = loadConfig({
      STORAGE_URL: 's3://folio-docs',
      AWS_ENDPOINT_URL: 'http://a:1',
      AWS_ENDPOINT_URL_S3: 'http://b:2',
      S3_FORCE_PATH_STYLE: 'false',
    }).storage;
    assert.ok(both.kind === 's3' && both.endpoint === 'http://b:2' && !both.forcePathStyle);

    for (const [env, named] of [
      [{ STORAGE_URL: 'gs://bucket' }, /STORAGE_URL: "gs:\/\/bucket" names no store/],
      [{ STORAGE_URL: 's3://Bad_Bucket' }, /is not a bucket name/],
      [
        { STORAGE_URL: 's3://ok-bucket', AWS_ACCESS_KEY_ID: 'id' },
        /AWS_SECRET_ACCESS_KEY: required with AWS_ACCESS_KEY_ID/,
      ],
      [{ STORAGE_URL: 's3://ok-bucket', AWS_ENDPOINT_URL: 'not a url' }, /AWS_ENDPOINT_URL/],
      [{ STORAGE_URL: 's3://ok-bucket', STORAGE_CACHE_BYTES: '0' }, /STORAGE_CACHE_BYTES/],
    ] as const) {
      assert.throws(
        () => loadConfig(env),
        (err: Error) => err instanceof ConfigError && named.test(err.message),
      );
    }
  });
});
