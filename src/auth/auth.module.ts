import { Global, Module } from '@nestjs/common';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels } from '../database/models.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { RateLimits } from '../rate-limit/rate-limits.js';

/** API keys, the guard that checks them and the shared rate limits; exported for the controllers and the panel. */
@Global()
@Module({
  providers: [
    { provide: ApiKeysService, inject: [APP_MODELS], useFactory: (m: AppModels) => new ApiKeysService(m) },
    ApiKeyGuard,
    RateLimits,
  ],
  exports: [ApiKeysService, ApiKeyGuard, RateLimits],
})
export class AuthModule {}
