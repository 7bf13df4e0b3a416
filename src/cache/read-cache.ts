import type { Config } from '../config.js';
import type { ReadCache } from '../core/cache.js';
import { connectRedis } from '../security/redis.js';
import { MemoryReadCache } from './memory-cache.js';
import { type CacheWarnings, RedisReadCache } from './redis-cache.js';

/** A slow Redis must not slow calls down more than this: past it, the lookup counts as a miss. */
const REDIS_COMMAND_TIMEOUT_MS = 500;

/** The read cache for this configuration: shared through Redis when REDIS_URL is set, else in process. */
export function createReadCache(
  config: Pick<Config, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'CACHE_MAX_ENTRIES' | 'CACHE_MAX_BYTES'>,
  log: CacheWarnings,
): ReadCache {
  if (config.REDIS_URL) {
    return new RedisReadCache(
      connectRedis(config.REDIS_URL, { commandTimeout: REDIS_COMMAND_TIMEOUT_MS }),
      log,
      `${config.REDIS_KEY_PREFIX}:cache`,
    );
  }
  return new MemoryReadCache({ maxEntries: config.CACHE_MAX_ENTRIES, maxBytes: config.CACHE_MAX_BYTES });
}
