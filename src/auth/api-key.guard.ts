import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { ApiError } from '../common/errors.js';
import { ApiKeysService, type Principal } from './api-keys.service.js';

/** A request that passed the guard. */
export type AuthedRequest = Request & { principal: Principal };

/** The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
function presentedKey(req: Request): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const [scheme, value] = auth.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer' && value) return value;
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header ? header : undefined;
}

/** Guards the job and document routes: 401 without a valid, unrevoked key. Ownership is checked per job. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly keys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    if (this.config.auth.mode === 'disabled') {
      req.principal = { apiKeyId: null, role: 'admin', name: 'auth disabled' };
      return true;
    }
    const key = presentedKey(req);
    if (!key) {
      throw new ApiError('UNAUTHORIZED', 'Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".');
    }
    const principal = await this.keys.verify(key);
    if (!principal) throw new ApiError('UNAUTHORIZED', 'The API key is unknown or revoked.');
    req.principal = principal;
    return true;
  }
}
