import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { responseCompression } from './common/compression.js';
import { CONFIG } from './config/config.module.js';
import { libraryEnvironment, loadProcessConfig, type Config } from './config/config.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { BodyValidationPipe } from './common/validation.js';

/** Builds the API application: security headers, one error filter, validation, OpenAPI. */
async function createApiApp(): Promise<NestExpressApplication> {
  // An invalid environment stops the start here, with a message naming each bad variable.
  const config = loadProcessConfig('api');
  // The one write to the environment, before any library that reads it is imported.
  Object.assign(process.env, libraryEnvironment(config));
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    // Held until pino (LOG_LEVEL, JSON lines) takes over below.
    bufferLogs: true,
    // Uploads are streamed by the documents service; JSON bodies stay small.
    bodyParser: true,
  });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: '100kb' });
  app.disable('x-powered-by');
  // JSON and text answers gzip- or br-compressed; event streams and file downloads as they are.
  app.use(responseCompression());
  app.use(
    helmet({
      contentSecurityPolicy: {
        // Swagger UI at /docs needs inline styles; everything else stays at helmet's strict default.
        directives: { 'style-src': ["'self'", "'unsafe-inline'"], 'upgrade-insecure-requests': null },
      },
    }),
  );
  // Browsers may call the API only from the CORS_ORIGINS allowlist; without one, no cross-origin access.
  if (config.cors.origins.length > 0) {
    app.enableCors({
      origin: config.cors.origins,
      // PATCH, HEAD and DELETE and the Upload-*/Tus-* headers: resumable uploads (tus) from a browser.
      methods: ['GET', 'POST', 'PATCH', 'HEAD', 'DELETE'],
      allowedHeaders: [
        'Authorization',
        'X-API-Key',
        'Content-Type',
        'Idempotency-Key',
        'Tus-Resumable',
        'Upload-Length',
        'Upload-Defer-Length',
        'Upload-Metadata',
        'Upload-Offset',
      ],
      exposedHeaders: [
        'Location',
        'Folio-Job-Id',
        'Folio-Duplicate-Of',
        'Tus-Resumable',
        'Upload-Offset',
        'Upload-Length',
        'Upload-Expires',
        'Content-Disposition',
        'Retry-After',
        'RateLimit-Policy',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
      ],
      maxAge: 600,
    });
  }
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useGlobalPipes(new BodyValidationPipe());
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Folio')
      .setDescription('PDFs in, per-page text out: text layers where they exist, OCR where they do not.')
      .setVersion('1')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token' }, 'bearer')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  return app;
}

async function main(): Promise<void> {
  const app = await createApiApp();
  const config = app.get<Config>(CONFIG);
  await app.listen(config.http.port, config.http.host);
  app.get(Logger).log(`API listening on http://${config.http.host}:${config.http.port} (docs at /docs)`, 'Folio');
}

main().catch((err: unknown) => {
  // Before the logger exists (an invalid configuration) this is the only way to say why.
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
