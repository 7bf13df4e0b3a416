import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for shared state between replicas. Commands fail fast while Redis is down (no
 * offline queue), so callers can fall back instead of waiting.
 */
export function connectRedis(url: string, overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    lazyConnect: false,
    ...overrides,
  });
  // Connection errors are reported by the commands that fail; keep them out of the process's crash path.
  redis.on('error', () => {});
  return redis;
}
