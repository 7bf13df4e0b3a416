import { LRUCache } from 'lru-cache';
import type { CacheLookup, CacheSlot, ReadCache } from '../core/cache.js';

export interface MemoryCacheLimits {
  /** Most entries kept. */
  maxEntries: number;
  /** Approximate bound on memory: the JSON text of keys and values, in UTF-16 code units (≈ bytes). */
  maxBytes: number;
}

/**
 * The default cache: an LRU in this process, bounded by entries and by approximate size. Values are kept
 * as JSON text, not objects, so a caller mutating an answer can never change what the next caller gets,
 * and so that it behaves exactly like the Redis cache (same serialisation).
 */
export class MemoryReadCache implements ReadCache {
  readonly kind = 'memory';
  readonly #entries: LRUCache<string, string>;
  readonly #generations = new Map<string, number>();

  constructor(limits: MemoryCacheLimits) {
    this.#entries = new LRUCache<string, string>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      // One answer may not push out more than a tenth of the cache.
      maxEntrySize: Math.max(1, Math.floor(limits.maxBytes / 10)),
      sizeCalculation: (value, key) => value.length + key.length,
    });
  }

  async get(namespace: string, key: string): Promise<CacheLookup> {
    const generation = this.#generations.get(namespace) ?? 0;
    const text = this.#entries.get(entryKey(namespace, generation, key));
    if (text === undefined) return { status: 'miss', slot: { namespace, key, generation } };
    return { status: 'hit', value: JSON.parse(text) };
  }

  async set(slot: CacheSlot, value: unknown, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    this.#entries.set(entryKey(slot.namespace, slot.generation, slot.key), JSON.stringify(value), {
      ttl: ttlMs,
    });
  }

  async invalidate(namespace: string): Promise<void> {
    this.#generations.set(namespace, (this.#generations.get(namespace) ?? 0) + 1);
  }

  /** Entries held, including superseded generations not yet evicted (for tests and diagnostics). */
  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}

function entryKey(namespace: string, generation: number, key: string): string {
  return `${namespace}\u0000${generation}\u0000${key}`;
}
