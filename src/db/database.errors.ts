import { ToolError } from '../core/errors.js';

/**
 * SQLSTATEs and socket errors that mean "the database is not there right now", not "this call is wrong":
 * connection exceptions (class 08), the server shutting down or restarting (57P01 admin_shutdown, 57P02
 * crash_shutdown, 57P03 cannot_connect_now, 57P05 idle_session_timeout), too many connections (53300),
 * the database missing (3D000) or refusing connections (55000 with "not currently accepting
 * connections", e.g. `ALTER DATABASE … ALLOW_CONNECTIONS false`).
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300', '3D000']);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/** node-postgres and pg-pool report lost or impossible connections with these messages (no code). */
const CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /not currently accepting connections/,
];

/** 57014 query_canceled: statement_timeout, or an administrator's pg_cancel_backend. */
export const QUERY_CANCELED = '57014';

type Classified = 'timeout' | 'unavailable' | undefined;

/** Whether an error from pg (or PGlite) means a timeout, an unavailable database, or neither. */
export function classifyDatabaseError(error: unknown): Classified {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === QUERY_CANCELED) return 'timeout';
  if (typeof code === 'string') {
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || SOCKET_CODES.has(code))
      return 'unavailable';
  }
  if (typeof message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) {
    return 'unavailable';
  }
  // Node reports a refused connection to a host with several addresses (::1 and 127.0.0.1) as one
  // AggregateError holding the socket errors.
  if (error instanceof AggregateError) {
    return error.errors.some((inner) => classifyDatabaseError(inner) === 'unavailable')
      ? 'unavailable'
      : undefined;
  }
  return undefined;
}

/**
 * The ToolError for a database failure a caller can do nothing about but wait, or undefined for anything
 * else (constraint violations and bugs stay the handler's business). The pipeline uses it so handlers
 * answer UPSTREAM_UNAVAILABLE / UPSTREAM_TIMEOUT, never INTERNAL, while PostgreSQL is down or slow.
 */
export function databaseToolError(error: unknown): ToolError | undefined {
  const kind = classifyDatabaseError(error);
  const reason = (error as { code?: unknown }).code;
  const details = { backend: 'database', ...(typeof reason === 'string' ? { reason } : {}) };
  if (kind === 'timeout') {
    return new ToolError(
      'UPSTREAM_TIMEOUT',
      'The database took too long to answer, so the query was stopped. Try again shortly.',
      details,
      { cause: error },
    );
  }
  if (kind === 'unavailable') {
    return new ToolError(
      'UPSTREAM_UNAVAILABLE',
      'The database is unavailable right now (connection refused or lost). Try again shortly.',
      details,
      { cause: error },
    );
  }
  return undefined;
}
