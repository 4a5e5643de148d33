/**
 * LeasedLimiter on the real `rate_limits` table: two limiters standing for two API replicas share one limit,
 * never admit more than it, hand out every point of it when asked for enough, and take a fraction of the
 * round trips that counting each request in PostgreSQL would.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { createSequelize } from '../../../core/db/connections.js';
import { LeasedLimiter, LimitExceeded, leaseSize } from '../../../src/rate-limit/leased-limiter.js';
import { harnessEnv } from '../../support/stack.js';

describe('LeasedLimiter (shared limit in leases)', () => {
  const db = createSequelize(harnessEnv().APP_DATABASE_URL!, 4, 'app');
  after(() => db.close());

  /** A replica's limiter over the shared table, counting its round trips to it. */
  function replica(points: number) {
    const store = new RateLimiterPostgres({
      storeClient: db,
      storeType: 'sequelize',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: 'lease-test',
      points,
      duration: 120,
    });
    const counted = {
      trips: 0,
      consume: (key: string, n?: number) => (counted.trips++, store.consume(key, n)),
      reward: (key: string, n?: number) => (counted.trips++, store.reward(key, n)),
    };
    return { limiter: new LeasedLimiter(counted, points), counted };
  }

  it('sizes a lease at 1 % of the limit, 1 to 100 points', () => {
    assert.equal(leaseSize(5), 1);
    assert.equal(leaseSize(1200), 12);
    assert.equal(leaseSize(1_000_000), 100);
  });

  it('two replicas admit exactly the limit together, in far fewer round trips than requests', async () => {
    const points = 1000;
    const [a, b] = [replica(points), replica(points)];
    const key = randomUUID();
    let admitted = 0;
    let refused = 0;
    // 1,200 requests in waves of 40 concurrent, spread over both replicas.
    for (let wave = 0; wave < 30; wave++) {
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => ((wave + i) % 2 ? a : b).limiter.consume(key)),
      );
      for (const r of results) {
        if (r.status === 'fulfilled') admitted++;
        else if (r.reason instanceof LimitExceeded) refused++;
        else throw r.reason;
      }
    }
    assert.equal(admitted, points);
    assert.equal(refused, 200);
    const trips = a.counted.trips + b.counted.trips;
    assert.ok(trips <= 160, `${trips} round trips for 1,200 requests`);
    // The shared row never counts less than what was admitted.
    const [rows] = await db.query(`SELECT points FROM rate_limits WHERE key = 'lease-test:${key}'`);
    assert.ok((rows as { points: number }[])[0]!.points >= points);
  });

  it('a refused key is answered from memory until its window ends', async () => {
    const { limiter, counted } = replica(2);
    const key = randomUUID();
    const first = await limiter.consume(key);
    assert.equal(first.remainingPoints, 1);
    assert.equal((await limiter.consume(key)).remainingPoints, 0);
    await assert.rejects(limiter.consume(key), LimitExceeded);
    const trips = counted.trips;
    const again = await limiter.consume(key).catch((e: unknown) => e);
    assert.ok(again instanceof LimitExceeded && again.res.msBeforeNext > 0 && again.res.remainingPoints === 0);
    assert.equal(counted.trips, trips);
  });

  it('gives an oversized lease back and takes what is left, so the last points are not lost', async () => {
    // Leases of 2 out of 250; a third replica counting one by one makes the row odd.
    const [a, b, c] = [replica(250), replica(250), replica(250)];
    const one = new LeasedLimiter(c.counted, 250, 1);
    const key = randomUUID();
    await one.consume(key);
    for (let i = 0; i < 248; i++) await a.limiter.consume(key);
    // One point is left in the row; b still believes a whole lease of 2 is free.
    const last = await b.limiter.consume(key);
    assert.equal(last.remainingPoints, 0);
    assert.equal(b.counted.trips, 3, 'lease refused, given back, one point taken');
    for (const r of [a.limiter, b.limiter, one]) await assert.rejects(r.consume(key), LimitExceeded);
  });
});
