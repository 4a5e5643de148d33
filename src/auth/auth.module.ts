import { Global, Module } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels } from '../../core/db/models.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { KeyRevocations } from './key-revocations.js';
import { RateLimits } from '../rate-limit/rate-limits.js';

/** API keys, the guard that checks them and the shared rate limits; exported for the controllers and the panel. */
@Global()
@Module({
  providers: [
    {
      provide: ApiKeysService,
      inject: [APP_MODELS, CONFIG],
      useFactory: (m: AppModels, c: Config) =>
        new ApiKeysService(m, c.auth.keyCacheSeconds * 1000, c.documentPasswords.secretKey),
    },
    ApiKeyGuard,
    KeyRevocations,
    RateLimits,
  ],
  exports: [ApiKeysService, ApiKeyGuard, RateLimits],
})
export class AuthModule {}
