import { BaseError, ConnectionError, Sequelize } from 'sequelize';

/** A new connection that is not up within this is a failed connection, not a waiting request. */
const CONNECT_TIMEOUT_MS = 5_000;
/** The longest a query waits for a pooled connection before it fails. */
const ACQUIRE_TIMEOUT_MS = 10_000;

/** PostgreSQL ending sessions as it shuts down or starts (admin_shutdown, crash_shutdown, cannot_connect_now). */
const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03']);
/** The socket closing under the driver mid-query. */
const LOST_SOCKET = [
  /Connection terminated/,
  /Client has encountered a connection error and is not queryable/,
  /ECONNRESET|ECONNREFUSED/,
];

/**
 * True when a Sequelize error says the database cannot be reached right now (restart, failover), not that
 * the query was wrong. Refused or timed-out connects are ConnectionErrors; a server going away mid-query
 * comes as a DatabaseError whose driver error says so.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (!(err instanceof BaseError)) return false;
  const parent = (err as { parent?: unknown }).parent as (Error & { code?: string }) | undefined;
  if (parent?.code && SHUTDOWN_CODES.has(parent.code)) return true;
  const message = `${err.message} ${parent?.message ?? ''}`;
  return LOST_SOCKET.some((re) => re.test(message));
}

/**
 * How long a query waits out an unreachable database before it fails: backoff 0.2 s × 1.5ⁿ over 13 tries,
 * about 50 s in all, long enough for a PostgreSQL restart or failover.
 */
const WAIT_FOR_DATABASE = {
  max: 13,
  backoffBase: 200,
  backoffExponent: 1.5,
  // An arrow function: retry-as-promised calls a match only when `instanceof` on it throws.
  match: [(err: unknown) => isDatabaseUnavailable(err)],
};

export interface ConnectionOptions {
  /**
   * Retry queries (Sequelize's retry) while the database is unreachable, for up to ~50 s. For the worker,
   * whose activities should ride out a restart instead of spending their attempts; never for the API,
   * which answers 503 at once.
   */
  waitForDatabase?: boolean;
}

/** Opens a Sequelize connection that never syncs: the app DB's schema belongs to migrations/. */
export function createSequelize(
  url: string,
  poolMax: number,
  name: 'app' | 'legacy',
  options: ConnectionOptions = {},
): Sequelize {
  return new Sequelize(url, {
    dialect: 'postgres',
    logging: false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: ACQUIRE_TIMEOUT_MS },
    dialectOptions: { application_name: `folio-${name}`, connectionTimeoutMillis: CONNECT_TIMEOUT_MS },
    ...(options.waitForDatabase ? { retry: WAIT_FOR_DATABASE } : {}),
  });
}
