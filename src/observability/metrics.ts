import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheResult, CacheTelemetry } from '../core/cache.js';
import type { InvocationObserver, InvocationRecord } from '../core/pipeline.js';
import type { BackendTelemetry, BreakerState, GaugeSpec, GaugeTelemetry } from '../core/telemetry.js';
import type { OutboxTelemetry } from '../events/outbox.telemetry.js';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Every Prometheus metric the server exposes, in one registry per app. Labels never carry PHI: routes are
 * their patterns (`/mcp/v1/tools/:name/invoke`), tools their names, backends their module names.
 */
export class Metrics
  implements InvocationObserver, BackendTelemetry, GaugeTelemetry, CacheTelemetry, OutboxTelemetry
{
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'mcp_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'endpoint', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'mcp_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly escapedErrors = new Counter({
    name: 'upc_process_errors_escaped_total',
    help: 'Errors that reached the process-level safety net (kind: exception or rejection); alert on any',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly activeRequests = new Gauge({
    name: 'mcp_active_requests',
    help: 'HTTP requests in flight',
    registers: [this.registry],
  });
  readonly toolInvocations = new Counter({
    name: 'mcp_tool_invocations_total',
    help: 'Tool invocations by tool and outcome (success, error, denied)',
    labelNames: ['tool_name', 'status', 'door'] as const,
    registers: [this.registry],
  });
  readonly toolErrors = new Counter({
    name: 'mcp_tool_errors_total',
    help: 'Failed tool invocations by tool and error code',
    labelNames: ['tool_name', 'error_code'] as const,
    registers: [this.registry],
  });
  readonly toolDuration = new Histogram({
    name: 'mcp_tool_duration_seconds',
    help: 'Tool invocation duration through the whole pipeline',
    labelNames: ['tool_name'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'mcp_rate_limit_rejections_total',
    help: 'Calls refused by a rate limit',
    labelNames: ['tool_name'] as const,
    registers: [this.registry],
  });
  readonly backendDuration = new Histogram({
    name: 'upc_backend_request_duration_seconds',
    help: 'Calls to backends (Orthanc, database, ...) by operation and outcome',
    labelNames: ['backend', 'operation', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly backendErrors = new Counter({
    name: 'upc_backend_errors_total',
    help: 'Failed backend calls (errors and timeouts)',
    labelNames: ['backend', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly breakerState = new Gauge({
    name: 'upc_backend_breaker_state',
    help: 'Circuit breaker state per backend: 0 closed, 1 half-open, 2 open',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly cacheRequests = new Counter({
    name: 'upc_cache_requests_total',
    help: 'Read-cache lookups by cache (tool name) and result: hit, miss, unavailable (store down)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });
  readonly moduleUp = new Gauge({
    name: 'upc_module_up',
    help: 'Module health from the last health check: 1 up, 0 down',
    labelNames: ['module'] as const,
    registers: [this.registry],
  });

  readonly outboxDeliveries = new Counter({
    name: 'upc_outbox_deliveries_total',
    help: 'Domain-event delivery attempts by handler and outcome (delivered, failed, dead); alert on dead',
    labelNames: ['handler', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Pending and dead deliveries, read from the outbox at scrape time (all replicas). */
  watchOutbox(stats: () => Promise<{ pending: number; dead: number }>): void {
    new Gauge({
      name: 'upc_outbox_pending',
      help: 'Domain-event deliveries waiting to be made (all replicas)',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).pending);
      },
    });
    new Gauge({
      name: 'upc_outbox_dead_letters',
      help: 'Domain-event deliveries that failed every attempt and wait for an operator; alert on any',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).dead);
      },
    });
  }

  /**
   * A module's gauge (e.g. `upc_reporting_open_critical_results`), read at scrape time. A failed read keeps
   * the last value rather than failing the whole scrape; the module's health check reports the cause.
   */
  watchGauge({ name, help, read }: GaugeSpec): void {
    if (!/^upc_[a-z0-9_]+$/.test(name)) throw new Error(`gauge name "${name}" must match upc_[a-z0-9_]+`);
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          this.set(await read());
        } catch {
          // Keep the last value: a scrape must not fail because one module's database read did.
        }
      },
    });
  }

  delivered(_type: string, handler: string): void {
    this.outboxDeliveries.inc({ handler, outcome: 'delivered' });
  }

  failed(_type: string, handler: string): void {
    this.outboxDeliveries.inc({ handler, outcome: 'failed' });
  }

  deadLettered(_type: string, handler: string): void {
    this.outboxDeliveries.inc({ handler, outcome: 'dead' });
  }

  constructor(
    options: {
      auditStats?: () => {
        queued: number;
        lastCommitMs: number;
        committedEvents: number;
        refusedEvents: number;
      };
    } = {},
  ) {
    collectDefaultMetrics({ register: this.registry });
    const auditStats = options.auditStats;
    if (auditStats) {
      new Gauge({
        name: 'upc_audit_queue_depth',
        help: 'Audit events waiting to be committed',
        registers: [this.registry],
        collect() {
          this.set(auditStats().queued);
        },
      });
      new Gauge({
        name: 'upc_audit_last_commit_seconds',
        help: 'Duration of the last audit group commit',
        registers: [this.registry],
        collect() {
          this.set(auditStats().lastCommitMs / 1000);
        },
      });
      new Gauge({
        name: 'upc_audit_events_committed',
        help: 'Audit events committed since start',
        registers: [this.registry],
        collect() {
          this.set(auditStats().committedEvents);
        },
      });
      new Gauge({
        name: 'upc_audit_events_refused',
        help: 'Audit events the store refused since start (each caller was told); alert when it grows',
        registers: [this.registry],
        collect() {
          this.set(auditStats().refusedEvents);
        },
      });
    }
  }

  observe(record: InvocationRecord): void {
    // Unknown tool names come from callers: keep them out of labels so they cannot blow up cardinality.
    const tool = record.tool?.name ?? 'unknown';
    this.toolInvocations.inc({ tool_name: tool, status: record.outcome, door: record.request.door });
    this.toolDuration.observe({ tool_name: tool }, record.durationMs / 1000);
    if (record.errorCode) this.toolErrors.inc({ tool_name: tool, error_code: record.errorCode });
    if (record.errorCode === 'RATE_LIMITED') this.rateLimited.inc({ tool_name: tool });
  }

  observeCall(
    backend: string,
    operation: string,
    seconds: number,
    outcome: 'ok' | 'error' | 'timeout',
  ): void {
    this.backendDuration.observe({ backend, operation, outcome }, seconds);
    if (outcome !== 'ok') this.backendErrors.inc({ backend, operation, outcome });
  }

  observeCache(cache: string, result: CacheResult): void {
    this.cacheRequests.inc({ cache, result });
  }

  setBreakerState(backend: string, state: BreakerState): void {
    this.breakerState.set({ backend }, BREAKER_VALUE[state]);
  }
}
