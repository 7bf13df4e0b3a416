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

/**
 * A number a module reports at scrape time, read from its own data (e.g. open critical results): one
 * Prometheus gauge without labels. `name` starts with `upc_`; `read` should be one cheap query. A failing
 * read keeps the last value (the module's health check reports its backend).
 */
export interface GaugeSpec {
  readonly name: string;
  readonly help: string;
  read(): Promise<number>;
}

/** Gauges modules register once, at build time; observability reads them on every scrape. */
export interface GaugeTelemetry {
  watchGauge(gauge: GaugeSpec): void;
}

/** What core hands a module to report numbers with (ModuleDeps.telemetry). */
export type ModuleTelemetry = BackendTelemetry & GaugeTelemetry;

export const NO_TELEMETRY: ModuleTelemetry = {
  observeCall() {},
  setBreakerState() {},
  watchGauge() {},
};
