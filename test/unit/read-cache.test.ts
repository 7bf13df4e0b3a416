import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MemoryReadCache } from '../../src/cache/memory-cache.js';
import { RedisReadCache } from '../../src/cache/redis-cache.js';
import { type ReadCache, scopeFingerprint, toolCacheKey } from '../../src/core/cache.js';
import { connectRedis } from '../../src/security/redis.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('cache keys', () => {
  it('are the same for the same canonical parameters and scope, whatever the key order', () => {
    const all = { kind: 'all' } as const;
    expect(toolCacheKey('t', { a: 1, b: 'x' }, all)).toBe(toolCacheKey('t', { b: 'x', a: 1 }, all));
    expect(toolCacheKey('t', { a: 1 }, all)).not.toBe(toolCacheKey('t', { a: 2 }, all));
    expect(toolCacheKey('t', { a: 1 }, all)).not.toBe(toolCacheKey('u', { a: 1 }, all));
  });

  it('separate every distinct patient scope and never contain patient ids', () => {
    const p1 = { kind: 'patients', patientIds: new Set(['P1']) } as const;
    const p1p2 = { kind: 'patients', patientIds: new Set(['P2', 'P1']) } as const;
    const p2p1 = { kind: 'patients', patientIds: new Set(['P1', 'P2']) } as const;
    const none = { kind: 'patients', patientIds: new Set<string>() } as const;
    expect(scopeFingerprint({ kind: 'all' })).toBe('all');
    expect(scopeFingerprint(p1p2)).toBe(scopeFingerprint(p2p1));
    const prints = new Set([p1, p1p2, none, { kind: 'all' } as const].map(scopeFingerprint));
    expect(prints.size).toBe(4);
    expect(toolCacheKey('t', { patient_id: 'P1' }, p1)).not.toMatch(/P1/);
  });
});

/** The behaviour both implementations share. */
function contract(name: string, make: () => ReadCache) {
  describe(`${name} read cache`, () => {
    const cache = make();
    afterAll(() => cache.close());
    const ns = `ns-${randomUUID()}`;

    it('misses, stores, then hits with an equal copy', async () => {
      const first = await cache.get(ns, 'k1');
      expect(first.status).toBe('miss');
      if (first.status !== 'miss') return;
      const value = { studies: [{ uid: '1.2.3' }], next_offset: null };
      await cache.set(first.slot, value, 60_000);
      const second = await cache.get(ns, 'k1');
      expect(second).toEqual({ status: 'hit', value });
      if (second.status === 'hit') expect(second.value).not.toBe(value);
    });

    it('invalidates a namespace at once, and never serves a value loaded before the invalidation', async () => {
      const before = await cache.get(ns, 'k2');
      if (before.status !== 'miss') throw new Error('expected a miss');
      // A slow load: the namespace is invalidated while it runs, then its (stale) value arrives.
      await cache.invalidate(ns);
      await cache.set(before.slot, 'stale', 60_000);
      expect((await cache.get(ns, 'k2')).status).toBe('miss');
      expect((await cache.get(ns, 'k1')).status).toBe('miss');
    });

    it('keeps namespaces apart', async () => {
      const other = `${ns}-other`;
      const lookup = await cache.get(other, 'k');
      if (lookup.status !== 'miss') throw new Error('expected a miss');
      await cache.set(lookup.slot, 1, 60_000);
      await cache.invalidate(ns);
      expect(await cache.get(other, 'k')).toEqual({ status: 'hit', value: 1 });
    });

    it('forgets entries after their TTL', async () => {
      const lookup = await cache.get(ns, 'short');
      if (lookup.status !== 'miss') throw new Error('expected a miss');
      await cache.set(lookup.slot, 'soon gone', 30);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect((await cache.get(ns, 'short')).status).toBe('miss');
    });
  });
}

contract('memory', () => new MemoryReadCache({ maxEntries: 100, maxBytes: 1_000_000 }));
contract('Redis', () => new RedisReadCache(connectRedis(REDIS_URL), console, `test-${randomUUID()}:cache`));

describe('memory read cache bounds', () => {
  it('keeps at most maxEntries and refuses one answer bigger than a tenth of maxBytes', async () => {
    const cache = new MemoryReadCache({ maxEntries: 3, maxBytes: 10_000 });
    for (const key of ['a', 'b', 'c', 'd']) {
      const lookup = await cache.get('ns', key);
      if (lookup.status === 'miss') await cache.set(lookup.slot, key, 60_000);
    }
    expect(cache.size).toBe(3);
    expect((await cache.get('ns', 'a')).status).toBe('miss'); // least recently used went first
    const big = await cache.get('ns', 'big');
    if (big.status === 'miss') await cache.set(big.slot, 'x'.repeat(2_000), 60_000);
    expect((await cache.get('ns', 'big')).status).toBe('miss');
  });
});

describe('Redis read cache while Redis is down', () => {
  it('answers "unavailable" quickly, never throws, and warns once', async () => {
    const warn = vi.fn();
    // Nothing listens on port 1: every command fails at once (no offline queue).
    const cache = new RedisReadCache(connectRedis('redis://127.0.0.1:1'), { warn }, 'down:cache');
    try {
      expect(await cache.get('pacs', 'k')).toEqual({ status: 'unavailable' });
      await cache.set({ namespace: 'pacs', key: 'k', generation: 0 }, 1, 1000);
      await cache.invalidate('pacs');
      expect(await cache.get('pacs', 'k')).toEqual({ status: 'unavailable' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[1]).toMatch(/Redis\) unavailable/);
    } finally {
      await cache.close();
    }
  });
});
