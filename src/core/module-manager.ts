import type { FastifyBaseLogger } from 'fastify';
import type { Module } from './module.js';

/** What a module answers when asked whether its backend is usable. */
export interface HealthResult {
  ok: boolean;
  /** Why it is not usable, phrased for the person running the system. */
  error?: string;
  details?: Record<string, unknown>;
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

/**
 * Starts the modules, reports their health and stops them. A module whose backend is down at start is
 * reported down and retried by its health checks, never fatal: its tools answer UPSTREAM_UNAVAILABLE.
 */
export class ModuleManager {
  readonly #modules: Module[] = [];
  readonly #initErrors = new Map<string, string>();

  constructor(private readonly log: FastifyBaseLogger) {}

  add(module: Module): void {
    if (this.#modules.some((a) => a.name === module.name))
      throw new Error(`Module "${module.name}" added twice`);
    this.#modules.push(module);
  }

  get modules(): readonly Module[] {
    return this.#modules;
  }

  /** Starts every module; one that fails is reported down and retried by its health checks, never fatal. */
  async initializeAll(): Promise<void> {
    await Promise.all(
      this.#modules.map(async (module) => {
        try {
          await module.initialize?.();
          this.#initErrors.delete(module.name);
        } catch (error) {
          const message = (error as Error).message;
          this.#initErrors.set(module.name, message);
          this.log.warn(
            { module: module.name, err: message },
            'module failed to start; its tools will answer UPSTREAM_UNAVAILABLE',
          );
        }
      }),
    );
  }

  async health(): Promise<SystemHealth> {
    const entries = await Promise.all(
      this.#modules.map(
        async (module): Promise<[string, ModuleHealth]> => [module.name, await check(module)],
      ),
    );
    const modules = Object.fromEntries(entries);
    const status = entries.every(([, h]) => h.status === 'up') ? 'ok' : 'degraded';
    return { status, modules };
  }

  /** One module's health, without checking the others (readiness needs only the database). */
  async healthOf(name: string): Promise<ModuleHealth | undefined> {
    const module = this.#modules.find((a) => a.name === name);
    return module ? check(module) : undefined;
  }

  async shutdownAll(): Promise<void> {
    // Reverse order: modules added later may depend on earlier ones.
    for (const module of [...this.#modules].reverse()) {
      try {
        await module.shutdown?.();
      } catch (error) {
        this.log.warn(
          { module: module.name, err: (error as Error).message },
          'module did not shut down cleanly',
        );
      }
    }
  }
}

async function check(module: Module): Promise<ModuleHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<HealthResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, error: `no answer within ${HEALTH_TIMEOUT_MS} ms` }),
        HEALTH_TIMEOUT_MS,
      );
    });
    const result = module.healthCheck ? await Promise.race([module.healthCheck(), timeout]) : { ok: true };
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
