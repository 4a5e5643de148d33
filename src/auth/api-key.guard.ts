import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { ApiError } from '../common/errors.js';
import { RateLimits } from '../rate-limit/rate-limits.js';
import { ApiKeysService, type Principal } from './api-keys.service.js';

/** A request that passed the guard. */
export type AuthedRequest = Request & { principal: Principal };

/** RFC 9110: a 401 names the scheme it wants. */
const challenge = { 'WWW-Authenticate': 'Bearer realm="folio"' };

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

/**
 * Guards the job and document routes: 401 without a valid, unrevoked key, 429 over the key's request rate
 * (counted per client address when there is no key). Ownership is checked per job.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly keys: ApiKeysService,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const byAddress = `ip:${req.ip ?? 'unknown'}`;
    if (this.config.auth.mode === 'disabled') {
      await this.limits.consumeApi(byAddress, res);
      req.principal = { apiKeyId: null, role: 'admin', name: 'auth disabled' };
      return true;
    }
    const key = presentedKey(req);
    if (!key) {
      await this.limits.consumeApi(byAddress, res);
      throw new ApiError(
        'UNAUTHORIZED',
        'Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".',
        undefined,
        challenge,
      );
    }
    const principal = await this.keys.verify(key);
    if (!principal) {
      await this.limits.consumeApi(byAddress, res);
      throw new ApiError('UNAUTHORIZED', 'The API key is unknown or revoked.', undefined, challenge);
    }
    await this.limits.consumeApi(`key:${principal.apiKeyId}`, res);
    req.principal = principal;
    return true;
  }
}
