import type { FastifyBaseLogger } from 'fastify';
import type { AnyTool } from './tool.js';

/** What a module answers when asked whether its backend is usable. */
export interface HealthResult {
  ok: boolean;
  /** Why it is not usable, phrased for the person running the system. */
  error?: string;
  details?: Record<string, unknown>;
}

/**
 * The contract every business module implements (PACS, RIS, reporting, billing, admin). The manager calls
 * `initialize` once at start, `healthCheck` for /health, `shutdown` at stop; `tools` are registered whether
 * or not the backend came up, so a down backend answers UPSTREAM_UNAVAILABLE instead of vanishing.
 */
export interface Adapter {
  readonly name: string;
  initialize(): Promise<void>;
  healthCheck(): Promise<HealthResult>;
  shutdown(): Promise<void>;
  tools(): AnyTool[];
  /**
   * Output fields holding sensitive data, by kind (`findings: 'clinical_text'`, `id_number': 'national_id'`).
   * The policy file decides which roles see each kind; the security stage masks or withholds the rest.
   */
  redactions?: Readonly<
    Record<string, 'clinical_text' | 'national_id' | 'member_number' | 'contact_details'>
  >;
}

export type ModuleStatus = 'up' | 'down';

export interface ModuleHealth {
  status: ModuleStatus;
  latency_ms: number;
  error?: string;
  details?: Record<string, unknown>;
}

export interface SystemHealth {
  status: 'ok' | 'degraded';
  modules: Record<string, ModuleHealth>;
}

const HEALTH_TIMEOUT_MS = 3_000;

export class AdapterManager {
  readonly #adapters: Adapter[] = [];
  readonly #initErrors = new Map<string, string>();

  constructor(private readonly log: FastifyBaseLogger) {}

  add(adapter: Adapter): void {
    if (this.#adapters.some((a) => a.name === adapter.name))
      throw new Error(`Module "${adapter.name}" added twice`);
    this.#adapters.push(adapter);
  }

  get adapters(): readonly Adapter[] {
    return this.#adapters;
  }

  /** Starts every module; one that fails is reported down and retried by its health checks, never fatal. */
  async initializeAll(): Promise<void> {
    await Promise.all(
      this.#adapters.map(async (adapter) => {
        try {
          await adapter.initialize();
          this.#initErrors.delete(adapter.name);
        } catch (error) {
          const message = (error as Error).message;
          this.#initErrors.set(adapter.name, message);
          this.log.warn(
            { module: adapter.name, err: message },
            'module failed to start; its tools will answer UPSTREAM_UNAVAILABLE',
          );
        }
      }),
    );
  }

  async health(): Promise<SystemHealth> {
    const entries = await Promise.all(
      this.#adapters.map(
        async (adapter): Promise<[string, ModuleHealth]> => [adapter.name, await check(adapter)],
      ),
    );
    const modules = Object.fromEntries(entries);
    const status = entries.every(([, h]) => h.status === 'up') ? 'ok' : 'degraded';
    return { status, modules };
  }

  /** One module's health, without checking the others (readiness needs only the database). */
  async healthOf(name: string): Promise<ModuleHealth | undefined> {
    const adapter = this.#adapters.find((a) => a.name === name);
    return adapter ? check(adapter) : undefined;
  }

  async shutdownAll(): Promise<void> {
    // Reverse order: modules added later may depend on earlier ones.
    for (const adapter of [...this.#adapters].reverse()) {
      try {
        await adapter.shutdown();
      } catch (error) {
        this.log.warn(
          { module: adapter.name, err: (error as Error).message },
          'module did not shut down cleanly',
        );
      }
    }
  }
}

async function check(adapter: Adapter): Promise<ModuleHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<HealthResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, error: `no answer within ${HEALTH_TIMEOUT_MS} ms` }),
        HEALTH_TIMEOUT_MS,
      );
    });
    const result = await Promise.race([adapter.healthCheck(), timeout]);
    const health: ModuleHealth = {
      status: result.ok ? 'up' : 'down',
      latency_ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (result.error) health.error = result.error;
    if (result.details) health.details = result.details;
    return health;
  } catch (error) {
    return {
      status: 'down',
      latency_ms: Math.round((performance.now() - started) * 10) / 10,
      error: (error as Error).message,
    };
  } finally {
    clearTimeout(timer);
  }
}
