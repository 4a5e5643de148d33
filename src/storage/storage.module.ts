import { Global, Module } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type { DocumentStorage } from '../../core/storage/storage.js';
import { createStorage } from '../../core/storage/create-storage.js';

/** Injection token of the DocumentStorage. */
export const STORAGE = Symbol('STORAGE');

@Global()
@Module({
  providers: [
    { provide: STORAGE, inject: [CONFIG], useFactory: (c: Config): DocumentStorage => createStorage(c.storage) },
  ],
  exports: [STORAGE],
})
export class StorageModule {}
