import { Global, Module } from '@nestjs/common';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels } from '../database/models.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyGuard } from './api-key.guard.js';

/** API keys and the guard that checks them; exported for the controllers and the admin panel. */
@Global()
@Module({
  providers: [
    { provide: ApiKeysService, inject: [APP_MODELS], useFactory: (m: AppModels) => new ApiKeysService(m) },
    ApiKeyGuard,
  ],
  exports: [ApiKeysService, ApiKeyGuard],
})
export class AuthModule {}
