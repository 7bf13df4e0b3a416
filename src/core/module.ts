import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { ToolCaching } from './cached-tools.js';
import type { Clock } from './clock.js';
import type { DeadLetters, DomainEvents, EventHandler } from './domain-events.js';
import type { HealthResult, SystemHealth } from './module-manager.js';
import type { PracticeZone } from './practice-time.js';
import type { PromptDefinition } from './prompts.js';
import type { FieldRedactions } from './redaction-kinds.js';
import type { BackendIdentity, BackendResilience, ResilienceSettings } from './resilience.js';
import type { ResourcePart, ResourceProvider } from './resources.js';
import type { PatientScopeSource } from './scope.js';
import type { ModuleTelemetry } from './telemetry.js';
import type { AnyTool } from './tool.js';

/** Facts about the running server a module may report (the admin module's system status). */
export interface SystemFacts {
  readonly version: string;
  readonly startedAt: Date;
  /** Every module's health, as /health reports it. */
  health(): Promise<SystemHealth>;
  /** How many tools the registry holds. */
  toolCount(): number;
  /** Domain-event deliveries that failed every attempt. */
  readonly deadLetters: DeadLetters;
}

/**
 * What core hands every module: the shared services, never another module's internals. A module that needs
 * another reads through that module's public API (`use`), acts through the pipeline as the same caller
 * (`ctx.invoke`), or reacts to its domain events.
 */
export interface ModuleDeps {
  readonly config: Config;
  readonly database: Database;
  /** The product clock: every calendar decision reads it. */
  readonly clock: Clock;
  /** The practice time zone and practice-time helpers. */
  readonly practiceZone: PracticeZone;
  readonly log: FastifyBaseLogger;
  /** Backend-call metrics, breaker state, and gauges read at scrape time (`watchGauge`). */
  readonly telemetry: ModuleTelemetry;
  readonly system: SystemFacts;
  /** The shared read cache with this TTL (0: no caching). */
  caching(ttlMs: number): ToolCaching;
  /** Timeout, retry, breaker and bulkhead around one outbound dependency, with metrics and health. */
  resilience(backend: BackendIdentity, settings: ResilienceSettings): BackendResilience;
  /** Publishes domain events in the transaction of the change that caused them. */
  readonly events: DomainEvents;
  /**
   * The public API another module published (`api` below), by module name. Only modules listed before this
   * one are built; asking for a later or missing one is a wiring mistake and fails at start.
   */
  use<Api>(module: string): Api;
}

/**
 * One business module (PACS, RIS, audit, admin, codes, reporting, billing...): everything the server needs
 * to know about it, declared in one place by the module's factory `xxxModule(deps)`. `app.ts` builds the
 * modules from one list; core and the doors never name a module's tools.
 *
 * Migrations are found by convention, not declared: `src/modules/<name>/migrations/NNNN_name.sql`
 * (versions are global; pick the next free number).
 */
export interface Module {
  readonly name: string;
  /** The module's tools; registered whether or not its backend is up (they answer UPSTREAM_UNAVAILABLE). */
  readonly tools: readonly AnyTool[];
  /** Called once at start; a failure reports the module down without stopping the server. */
  initialize?(): Promise<void>;
  /** For /health; absent: up whenever the server is. */
  healthCheck?(): Promise<HealthResult>;
  /** Called at stop, in reverse module order. */
  shutdown?(): Promise<void>;
  /** Sources of patients a restricted caller (a referring doctor) may see. */
  readonly scopeSources?: readonly PatientScopeSource[];
  /** MCP resources backed by this module's tools. */
  readonly resources?: readonly ResourceProvider[];
  /** This module's part of a resource several modules fill (the patient summary). */
  readonly resourceParts?: readonly ResourcePart[];
  /** MCP prompts that start work with this module's tools. */
  readonly prompts?: readonly PromptDefinition[];
  /**
   * Output fields this module adds to the field-level redaction map (field name → kind). Usually nothing:
   * the common fields (`sa_id_number`, `findings`, ...) are covered for every module already.
   */
  readonly redactions?: FieldRedactions;
  /**
   * Fields of the common map this module's outputs hold already made safe, left as they are (the audit
   * log's parameters keep identifiers as keyed hashes, which auditors correlate). Rarely needed.
   */
  readonly redactionExempt?: readonly string[];
  /** Reactions to domain events (this module's or others'), delivered at least once through the outbox. */
  readonly eventHandlers?: readonly EventHandler[];
  /** What other modules may read (`deps.use(name)`); a small interface in `<module>.api.ts`. */
  readonly api?: unknown;
  /**
   * The folder of this module's migrations when the module lives outside `src/modules/` (an add-on);
   * modules inside it keep theirs in `src/modules/<name>/migrations/`, found by convention.
   */
  readonly migrations?: string;
}

/** A module's factory, as `app.ts` lists them. */
export type ModuleFactory = (deps: ModuleDeps) => Module;
