import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { isToolError, ToolError } from './errors.js';
import { type BackendTelemetry, NO_TELEMETRY } from './telemetry.js';

export interface ResilienceSettings {
  /** Time limit for one attempt, in milliseconds. */
  timeoutMs: number;
  /** Extra attempts for idempotent calls. */
  retries: number;
  /** Consecutive failed calls that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before a trial call, in milliseconds. */
  breakerCooldownMs: number;
  /** Calls in flight at once; as many again may wait in the queue. */
  maxConcurrency: number;
}

import type { BreakerState } from './telemetry.js';

export type { BreakerState };

/** Which dependency a policy guards: a metrics label and the name people read in errors. */
export interface BackendIdentity {
  /** Low-cardinality metrics label, e.g. `orthanc`, `stt`, `llm`. */
  backend: string;
  /** How people know it, e.g. `The PACS (Orthanc)`, `The speech-to-text service`. */
  label: string;
}

export interface RunOptions {
  /** Safe to repeat (reads, `/tools/find`): only these are retried. */
  idempotent: boolean;
  /** The caller's cancellation; aborting it aborts the request and is never counted against the backend. */
  signal?: AbortSignal | undefined;
  /** A tighter limit than the default, e.g. for health checks. */
  timeoutMs?: number;
  /** Low-cardinality label for metrics, e.g. `GET /studies`. */
  operation?: string;
}

/** One attempt: gets a signal that fires on timeout or cancellation and must pass it to the request. */
export type Attempt<T> = (signal: AbortSignal) => Promise<T>;

/**
 * Errors that say "the backend is not well": transport failures, timeouts and 5xx. A 404 for an unknown
 * UID or a 400 for a malformed upload is the caller's problem and must not open the breaker.
 */
export function isUpstreamFailure(error: unknown): boolean {
  if (!isToolError(error)) return false;
  if (error.code === 'UPSTREAM_TIMEOUT') return true;
  if (error.code !== 'UPSTREAM_UNAVAILABLE') return false;
  const status = error.details?.upstream_status;
  return typeof status !== 'number' || status >= 500;
}

/** Worth another attempt: the connection failed or a proxy said "try later". Timeouts are not retried. */
function isTransient(error: unknown): boolean {
  if (!isToolError(error) || error.code !== 'UPSTREAM_UNAVAILABLE') return false;
  const status = error.details?.upstream_status;
  return typeof status !== 'number' || status === 502 || status === 503 || status === 504;
}

/**
 * The policy around every call to one outbound dependency (Orthanc, speech-to-text, a clearing house, an
 * LLM): bulkhead → circuit breaker → retry (idempotent calls only) → timeout. The breaker sits outside the
 * retry so that it counts failed *calls*, not attempts: with the defaults five tool calls that each failed
 * three times open it, not two. Calls and breaker changes are reported under the backend's metrics label.
 */
export class BackendResilience {
  readonly #settings: ResilienceSettings;
  readonly #breaker;
  readonly #bulkhead;
  readonly #retry;
  #openedAt = 0;

  readonly #identity: BackendIdentity;

  constructor(
    identity: BackendIdentity,
    settings: ResilienceSettings,
    private readonly telemetry: BackendTelemetry = NO_TELEMETRY,
  ) {
    this.#identity = identity;
    this.#settings = settings;
    const backend = identity.backend;
    this.#breaker = circuitBreaker(handleWhen(isUpstreamFailure), {
      halfOpenAfter: settings.breakerCooldownMs,
      breaker: new ConsecutiveBreaker(settings.breakerThreshold),
    });
    this.#breaker.onBreak(() => {
      this.#openedAt = Date.now();
      telemetry.setBreakerState(backend, 'open');
    });
    this.#breaker.onHalfOpen(() => telemetry.setBreakerState(backend, 'half-open'));
    this.#breaker.onReset(() => telemetry.setBreakerState(backend, 'closed'));
    telemetry.setBreakerState(backend, 'closed');
    this.#bulkhead = bulkhead(settings.maxConcurrency, settings.maxConcurrency * 4);
    this.#retry = retry(handleWhen(isTransient), {
      maxAttempts: settings.retries,
      // Decorrelated jitter (cockatiel's default generator) spreads retries from many callers.
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }),
    });
  }

  /**
   * Cockatiel only moves to half-open when a call arrives after the cool-down; until then `state` still
   * says open. Health reports "half-open" as soon as the next call would be let through as a trial.
   */
  get state(): BreakerState {
    switch (this.#breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Open:
      case CircuitState.Isolated:
        return Date.now() - this.#openedAt >= this.#settings.breakerCooldownMs ? 'half-open' : 'open';
      default:
        return 'open';
    }
  }

  async run<T>(attempt: Attempt<T>, options: RunOptions): Promise<T> {
    const ms = options.timeoutMs ?? this.#settings.timeoutMs;
    // Cooperative: the attempt passes the signal to its transport, which aborts the socket; the error it
    // throws is classified here, so that a timeout counts against the backend and a cancellation does not.
    const limit = timeout(ms, TimeoutStrategy.Cooperative);
    const inner: IPolicy = options.idempotent ? wrap(this.#retry, limit) : limit;
    const policy = wrap(this.#bulkhead, this.#breaker, inner);
    const classified = async (signal: AbortSignal): Promise<T> => {
      try {
        return await attempt(signal);
      } catch (error) {
        if (!signal.aborted) throw error;
        if (options.signal?.aborted) throw cancelled();
        throw new ToolError(
          'UPSTREAM_TIMEOUT',
          `${this.#identity.label} did not answer within ${ms} ms. Try again shortly.`,
        );
      }
    };
    const started = performance.now();
    const operation = options.operation ?? 'request';
    try {
      const result = await policy.execute(({ signal }) => classified(signal), options.signal);
      this.telemetry.observeCall(
        this.#identity.backend,
        operation,
        (performance.now() - started) / 1000,
        'ok',
      );
      return result;
    } catch (error) {
      const translated = this.#translate(error, options);
      const outcome = isToolError(translated) && translated.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'error';
      if (!isToolError(translated) || translated.code !== 'NOT_FOUND') {
        this.telemetry.observeCall(
          this.#identity.backend,
          operation,
          (performance.now() - started) / 1000,
          outcome,
        );
      }
      throw translated;
    }
  }

  #translate(error: unknown, options: RunOptions): unknown {
    if (options.signal?.aborted) return cancelled();
    if (error instanceof BrokenCircuitError) {
      const retryInMs = Math.max(0, this.#openedAt + this.#settings.breakerCooldownMs - Date.now());
      return new ToolError(
        'UPSTREAM_UNAVAILABLE',
        `${this.#identity.label} failed ${this.#settings.breakerThreshold} calls in a row, so calls to it are paused; ` +
          `the next attempt goes through in about ${Math.ceil(retryInMs / 1000)} s. Other modules keep working.`,
        { breaker: 'open', retry_in_ms: retryInMs },
      );
    }
    if (error instanceof BulkheadRejectedError) {
      return new ToolError(
        'UPSTREAM_UNAVAILABLE',
        `${this.#identity.label} is busy with other calls. Try again in a moment.`,
        {
          reason: 'busy',
        },
      );
    }
    // Cockatiel throws this when the caller's signal was already aborted before the call started.
    if (error instanceof TaskCancelledError) return cancelled();
    return error;
  }
}

function cancelled(): ToolError {
  return new ToolError('CONFLICT', 'The call was cancelled before it finished.');
}
