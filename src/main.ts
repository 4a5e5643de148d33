import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { AppModule } from './app.module.js';
import { CONFIG } from './config/config.module.js';
import { loadConfig, nestLogLevels, requireDocumentSecretKey, type Config } from './config/config.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';

/** Builds the API application: security headers, one error filter, validation, OpenAPI. */
async function createApiApp(): Promise<NestExpressApplication> {
  const config = loadConfig();
  requireDocumentSecretKey(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: nestLogLevels(config),
    // Uploads are streamed by the documents service; JSON bodies stay small.
    bodyParser: true,
  });
  app.useBodyParser('json', { limit: '100kb' });
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        // Swagger UI at /docs needs inline styles; everything else stays at helmet's strict default.
        directives: { 'style-src': ["'self'", "'unsafe-inline'"], 'upgrade-insecure-requests': null },
      },
    }),
  );
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
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
  new Logger('Folio').log(`API listening on http://${config.http.host}:${config.http.port} (docs at /docs)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
