import { Global, Module } from '@nestjs/common';
import { loadProcessConfig, type Config } from './config.js';

/** Injection token of the validated Config. */
export const CONFIG = Symbol('CONFIG');

/** Provides the configuration, validated once when the module is built. */
@Global()
@Module({
  providers: [{ provide: CONFIG, useFactory: (): Config => loadProcessConfig() }],
  exports: [CONFIG],
})
export class ConfigModule {}
