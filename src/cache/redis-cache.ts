import type { Redis } from 'ioredis';
import type { CacheLookup, CacheSlot, ReadCache } from '../core/cache.js';

/** Warns about the store at most this often, so an outage does not flood the log. */
const WARN_EVERY_MS = 30_000;

/**
 * Reads the namespace's generation and the entry under it in one round trip. (The value key is built in
 * the script, so this suits a single Redis or Sentinel, not Redis Cluster.)
 */
const GET_SCRIPT = `
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}`;

export interface CacheWarnings {
  warn(details: Record<string, unknown>, message: string): void;
}

/**
 * The shared cache for several replicas: keys `upc:cache:v:<namespace>:<generation>:<key>` with a TTL,
 * JSON values, and one counter per namespace (`upc:cache:gen:<namespace>`) whose increment invalidates
 * the namespace for every replica at once. While Redis is down every lookup is a miss (answered from
 * the backend) and a warning is logged.
 */
export class RedisReadCache implements ReadCache {
  readonly kind = 'redis';
  #lastWarning = 0;

  constructor(
    private readonly redis: Redis,
    private readonly log: CacheWarnings,
    private readonly prefix = 'upc:cache',
  ) {}

  async get(namespace: string, key: string): Promise<CacheLookup> {
    try {
      const [generation, text] = (await this.redis.eval(
        GET_SCRIPT,
        1,
        this.#generationKey(namespace),
        `${this.prefix}:v:${namespace}:`,
        key,
      )) as [string, string | null];
      if (text === null) return { status: 'miss', slot: { namespace, key, generation: Number(generation) } };
      return { status: 'hit', value: JSON.parse(text) };
    } catch (error) {
      this.#warn(error, 'read');
      return { status: 'unavailable' };
    }
  }

  async set(slot: CacheSlot, value: unknown, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    try {
      await this.redis.set(this.#valueKey(slot), JSON.stringify(value), 'PX', ttlMs);
    } catch (error) {
      this.#warn(error, 'write');
    }
  }

  async invalidate(namespace: string): Promise<void> {
    try {
      await this.redis.incr(this.#generationKey(namespace));
    } catch (error) {
      // Other replicas may serve this namespace's old answers until their TTL ends.
      this.#warn(error, 'invalidate');
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  #generationKey(namespace: string): string {
    return `${this.prefix}:gen:${namespace}`;
  }

  #valueKey(slot: CacheSlot): string {
    return `${this.prefix}:v:${slot.namespace}:${slot.generation}:${slot.key}`;
  }

  #warn(error: unknown, operation: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    this.log.warn(
      { err: (error as Error).message, operation },
      'cache store (Redis) unavailable; answering from the backends',
    );
  }
}
