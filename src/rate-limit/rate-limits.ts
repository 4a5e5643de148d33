import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Sequelize } from 'sequelize';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { APP_DB } from '../database/database.module.js';
import { ApiError } from '../common/errors.js';
import { LeasedLimiter, LimitExceeded } from './leased-limiter.js';

/** Where a limited caller stands: what the RateLimit headers and Retry-After say. */
export interface LimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/** One fixed-window counter table (`rate_limits`, from migrations/) that every API replica shares. */
function limiter(db: Sequelize, keyPrefix: string, points: number, duration: number): RateLimiterPostgres {
  return new RateLimiterPostgres({
    storeClient: db,
    storeType: 'sequelize',
    tableName: 'rate_limits',
    tableCreated: true,
    keyPrefix,
    points,
    duration,
  });
}

function stateOf(res: RateLimiterRes, limit: number): LimitState {
  return { limit, remaining: res.remainingPoints, resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
}

/**
 * The API's request limit per key (per address without one) and the panel's sign-in limit per address,
 * both counted in PostgreSQL by rate-limiter-flexible, so several API processes enforce one limit. API
 * requests take their points from PostgreSQL in leases (LeasedLimiter: 1 % of the limit at a time), so a
 * request does not pay an upsert each; sign-ins are counted one by one.
 * When the database cannot be reached the request is let through (logged): the limiter must not turn a
 * database hiccup into refused work, and the request will meet the database again anyway.
 */
@Injectable()
export class RateLimits {
  private readonly logger = new Logger('RateLimits');
  private readonly api: LeasedLimiter;
  private readonly login: RateLimiterPostgres;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(APP_DB) db: Sequelize,
  ) {
    const { requests, windowSeconds } = config.rateLimit;
    this.api = new LeasedLimiter(limiter(db, 'api', requests, windowSeconds), requests);
    this.login = limiter(db, 'admin-login', config.admin.loginMaxAttempts, config.admin.loginWindowMs / 1000);
  }

  /**
   * Counts one API request for `key` and sets the RateLimit headers; over the limit, throws
   * RATE_LIMITED (429) with Retry-After.
   */
  async consumeApi(key: string, res: Response): Promise<void> {
    const { requests, windowSeconds } = this.config.rateLimit;
    res.setHeader('RateLimit-Policy', `${requests};w=${windowSeconds}`);
    try {
      const state = stateOf(await this.api.consume(key), requests);
      setHeaders(res, state);
    } catch (err) {
      if (!(err instanceof LimitExceeded)) {
        this.logger.warn(`rate limit not counted: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      const state = stateOf(err.res, requests);
      setHeaders(res, state);
      throw new ApiError(
        'RATE_LIMITED',
        `Too many requests: ${requests} per ${windowSeconds} s for each API key. Retry after ${state.resetSeconds} s.`,
        undefined,
        { 'Retry-After': String(state.resetSeconds) },
      );
    }
  }

  /** Counts one sign-in attempt from `address`; null when allowed, else the seconds to wait. */
  async consumeLogin(address: string): Promise<number | null> {
    try {
      await this.login.consume(address);
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      this.logger.warn(`sign-in attempt not counted: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }

  /** Gives a successful sign-in's attempt back: only failed attempts count against the limit. */
  async refundLogin(address: string): Promise<void> {
    try {
      await this.login.reward(address, 1);
    } catch (err) {
      this.logger.warn(`sign-in refund failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The IETF draft's RateLimit-Limit / -Remaining / -Reset headers. */
function setHeaders(res: Response, state: LimitState): void {
  res.setHeader('RateLimit-Limit', String(state.limit));
  res.setHeader('RateLimit-Remaining', String(state.remaining));
  res.setHeader('RateLimit-Reset', String(state.resetSeconds));
}
