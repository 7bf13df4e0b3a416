import type { PatientScope } from './scope.js';
import { sha256Hex, stableStringify } from './stable-json.js';

/**
 * Where a value loaded after a miss goes. It carries the namespace's generation *as seen by the lookup*:
 * a value loaded before an invalidation is stored under the old generation and never served after it,
 * even when the load finishes after the write that invalidated it.
 */
export interface CacheSlot {
  readonly namespace: string;
  readonly key: string;
  readonly generation: number;
}

/** `unavailable`: the store could not be asked (Redis down); the caller loads from the backend. */
export type CacheLookup =
  | { status: 'hit'; value: unknown }
  | { status: 'miss'; slot: CacheSlot }
  | { status: 'unavailable' };

/**
 * A cache for reads that tolerate a few seconds of staleness (PACS searches, reference data). Values are
 * JSON. No method throws: a cache outage makes calls slower, never makes them fail.
 */
export interface ReadCache {
  readonly kind: 'memory' | 'redis';
  /** Looks `key` up in the namespace's current generation. */
  get(namespace: string, key: string): Promise<CacheLookup>;
  /** Stores a value after a miss, for `ttlMs`. */
  set(slot: CacheSlot, value: unknown, ttlMs: number): Promise<void>;
  /** Drops everything in a namespace at once: its generation moves on (O(1)), old entries age out. */
  invalidate(namespace: string): Promise<void>;
  close(): Promise<void>;
}

export type CacheResult = CacheLookup['status'];

/** How cache lookups are counted (hit / miss / unavailable per cache), without a metrics dependency. */
export interface CacheTelemetry {
  observeCache(cache: string, result: CacheResult): void;
}

export const NO_CACHE_TELEMETRY: CacheTelemetry = { observeCache() {} };

/**
 * Who may share an entry: everybody whose scope is "all patients", or exactly the callers with the same
 * set of allowed patients. Role is deliberately not part of it: redaction by role runs after the handler,
 * on the way out, so the cached (unredacted) handler result is trimmed for each caller anyway.
 */
export function scopeFingerprint(scope: PatientScope): string {
  if (scope.kind === 'all') return 'all';
  return `p:${sha256Hex([...scope.patientIds].sort().join('\n'))}`;
}

/**
 * The key of one tool answer: tool, scope fingerprint, and a hash of the canonical (validated, defaults
 * applied, keys sorted) parameters. Hashing also keeps names and ids out of Redis key names.
 */
export function toolCacheKey(tool: string, parameters: unknown, scope: PatientScope): string {
  return `${tool}:${scopeFingerprint(scope)}:${sha256Hex(stableStringify(parameters))}`;
}
