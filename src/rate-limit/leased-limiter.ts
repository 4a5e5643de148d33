import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Points one API process takes from the shared counter at a time: 1 % of the limit, between 1 and 100. */
export function leaseSize(points: number): number {
  return Math.min(100, Math.max(1, Math.floor(points / 100)));
}

/** The shared limit refused a request; `res` says until when. */
export class LimitExceeded extends Error {
  constructor(readonly res: RateLimiterRes) {
    super(`rate limit exceeded; retry in ${res.msBeforeNext} ms`);
    this.name = 'LimitExceeded';
  }
}

/** Keys kept in memory before expired leases are swept. */
const SWEEP_ABOVE = 10_000;

interface Lease {
  /** Points this process took from the shared counter and has not used yet. */
  left: number;
  /** What the shared counter had left when this process last took from it. */
  shared: number;
  /** When the shared window ends (epoch ms): leftover points expire with it. */
  resetAt: number;
  /** The shared counter refused this key until resetAt (counts only grow within a window). */
  refused?: RateLimiterRes;
  /** The one round trip to the shared counter in progress; concurrent requests wait for it. */
  taking?: Promise<void>;
}

/**
 * A shared fixed-window limit at a fraction of the store's round trips: each process takes points from the
 * shared counter (the `store`, e.g. PostgreSQL) in leases of `lease` points and hands them out from memory.
 * Every admitted request was counted in the shared store first, so all processes together never admit more
 * than `points` per window. What it costs is the other way: points a process leased but did not use before the
 * window ends are lost, at most `lease - 1` per process and key per window. Near the limit a process takes
 * only what the counter has left (a lease too large is given back at once), and with `lease` 1 it is exactly
 * the store. Once the store refuses a key, the process answers for it from memory until the window ends.
 */
export class LeasedLimiter {
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly store: Pick<RateLimiterAbstract, 'consume' | 'reward'>,
    private readonly points: number,
    private readonly lease = leaseSize(points),
  ) {}

  /** Counts one request; over the limit, rejects with LimitExceeded. Store errors reject as they are. */
  async consume(key: string): Promise<RateLimiterRes> {
    for (;;) {
      const now = Date.now();
      let l = this.leases.get(key);
      if (l && l.resetAt <= now && !l.taking) {
        this.leases.delete(key);
        l = undefined;
      }
      if (!l) {
        if (this.leases.size >= SWEEP_ABOVE) this.sweep(now);
        l = { left: 0, shared: this.points, resetAt: 0 };
        this.leases.set(key, l);
      }
      if (l.refused && l.resetAt > now) {
        throw new LimitExceeded(new RateLimiterRes(0, l.resetAt - now, l.refused.consumedPoints, false));
      }
      if (l.left > 0 && l.resetAt > now) {
        l.left--;
        return new RateLimiterRes(l.shared + l.left, l.resetAt - now, this.points - l.shared - l.left, false);
      }
      const lease = l;
      lease.taking ??= this.take(key, lease).finally(() => (lease.taking = undefined));
      await lease.taking;
    }
  }

  /** One round trip (two when a lease has to shrink) to the shared counter. */
  private async take(key: string, l: Lease): Promise<void> {
    let n = Math.max(1, Math.min(this.lease, l.shared));
    for (;;) {
      try {
        const res = await this.store.consume(key, n);
        Object.assign(l, { left: n, shared: res.remainingPoints, resetAt: Date.now() + res.msBeforeNext });
        l.refused = undefined;
        return;
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const before = err.consumedPoints - n;
        if (n > 1 && before < this.points) {
          // Fewer points were left than this lease: give it back and take only what is left.
          await this.store.reward(key, n);
          n = Math.min(this.lease, this.points - before);
          continue;
        }
        Object.assign(l, { left: 0, shared: 0, resetAt: Date.now() + err.msBeforeNext, refused: err });
        throw new LimitExceeded(err);
      }
    }
  }

  private sweep(now: number): void {
    for (const [key, l] of this.leases) if (l.resetAt <= now && !l.taking) this.leases.delete(key);
  }
}
