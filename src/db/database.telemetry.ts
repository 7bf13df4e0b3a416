import type { LogEvent } from 'kysely';
import type { BackendTelemetry } from '../core/telemetry.js';
import { classifyDatabaseError } from './database.errors.js';

const OPERATIONS = new Set(['select', 'insert', 'update', 'delete', 'begin', 'commit', 'rollback']);

/** `select`, `insert`, ...: the statement's first keyword; SQL text never reaches a label. */
function operationOf(sql: string): string {
  const keyword = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase() ?? '';
  return OPERATIONS.has(keyword) ? keyword : 'other';
}

/**
 * A Kysely logger that reports every statement's duration and outcome as backend `database`
 * (upc_backend_request_duration_seconds). A statement cancelled by statement_timeout is a `timeout`;
 * connections that cannot be opened are reported by the pool wrapper in database.ts as `connect` errors.
 */
export function databaseTelemetryLogger(telemetry: BackendTelemetry): (event: LogEvent) => void {
  return (event) => {
    const seconds = event.queryDurationMillis / 1000;
    const operation = operationOf(event.query.sql);
    if (event.level === 'query') {
      telemetry.observeCall('database', operation, seconds, 'ok');
      return;
    }
    // A constraint violation is the database doing its job (the caller gets CONFLICT): only failures of
    // the database itself count as errors, as for Orthanc.
    const kind = classifyDatabaseError(event.error);
    const outcome = kind === 'timeout' ? 'timeout' : kind === 'unavailable' ? 'error' : 'ok';
    telemetry.observeCall('database', operation, seconds, outcome);
  };
}
