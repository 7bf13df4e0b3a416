/** Circuit-breaker states, as modules report them. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/**
 * How modules report calls to their backends (Orthanc, the database, an LLM, ...) without depending on
 * the metrics library: observability implements it, tests and tools may leave the no-op.
 */
export interface BackendTelemetry {
  observeCall(backend: string, operation: string, seconds: number, outcome: 'ok' | 'error' | 'timeout'): void;
  setBreakerState(backend: string, state: BreakerState): void;
}

export const NO_TELEMETRY: BackendTelemetry = {
  observeCall() {},
  setBreakerState() {},
};
