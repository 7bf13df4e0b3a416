import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Principal } from '../core/context.js';
import { ToolError } from '../core/errors.js';
import type { RateLimiter } from '../core/pipeline.js';
import type { AnyTool } from '../core/tool.js';
import type { PolicyDocument, RateWindow } from './policy.js';

export interface CounterStore {
  /** Adds one to the counter for `key` in the current window; returns the count and ms until it resets. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /** The current count without adding to it (0 when no window is open). */
  peek(key: string): Promise<{ count: number; resetInMs: number }>;
  close(): Promise<void>;
}

/** Fixed-window counters in this process (one replica). Expired windows are swept so memory stays bounded. */
export class MemoryCounterStore implements CounterStore {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  readonly #sweeper: NodeJS.Timeout;

  constructor() {
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    }, 60_000);
    this.#sweeper.unref();
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  async peek(key: string): Promise<{ count: number; resetInMs: number }> {
    const window = this.#windows.get(key);
    const now = Date.now();
    if (!window || window.resetAt <= now) return { count: 0, resetInMs: 0 };
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#windows.clear();
  }
}

const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

const RATE_HIT_COMMAND = 'upcRateHit';
interface RateHitCommand {
  upcRateHit(key: string, windowMs: string): Promise<[number, number]>;
}

/** Shared counters for several replicas: one atomic script per hit. */
export class RedisCounterStore implements CounterStore {
  readonly #redis: Redis & RateHitCommand;

  constructor(
    redis: Redis,
    private readonly prefix = 'upc',
  ) {
    // A defined command runs by its SHA (EVALSHA), so the script text is not sent with every call.
    redis.defineCommand(RATE_HIT_COMMAND, { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.#redis = redis as Redis & RateHitCommand;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const [count, ttl] = await this.#redis.upcRateHit(`${this.prefix}:rl:${key}`, String(windowMs));
    return { count, resetInMs: ttl };
  }

  async peek(key: string): Promise<{ count: number; resetInMs: number }> {
    const [count, ttl] = await Promise.all([
      this.#redis.get(`${this.prefix}:rl:${key}`),
      this.#redis.pttl(`${this.prefix}:rl:${key}`),
    ]);
    return { count: Number(count ?? 0), resetInMs: Math.max(0, ttl) };
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

interface ToolClass {
  name: string;
  window: RateWindow;
}

/**
 * Per-user limits by tool class (e.g. 1000 calls per 15 minutes overall, 30 per minute to medical aids).
 * Over the limit → RATE_LIMITED with the seconds to wait. If the shared store fails, calls are let through
 * and the failure is logged: a Redis outage must not stop a practice.
 */
export class ToolRateLimiter implements RateLimiter {
  readonly #classes = new Map<string, ToolClass>();
  readonly #default: RateWindow;
  rejections = 0;

  constructor(
    policy: PolicyDocument,
    private readonly store: CounterStore,
    private readonly log: FastifyBaseLogger,
  ) {
    this.#default = policy.rate_limits.default;
    for (const [name, spec] of Object.entries(policy.rate_limits.classes)) {
      for (const permission of spec.permissions) this.#classes.set(permission, { name, window: spec });
    }
  }

  async consume(principal: Principal, tool: AnyTool): Promise<void> {
    await this.#check(`${principal.subject}:all`, this.#default, 'all tools');
    const toolClass = this.#classes.get(tool.permission);
    if (toolClass)
      await this.#check(`${principal.subject}:${toolClass.name}`, toolClass.window, toolClass.name);
  }

  async #check(key: string, window: RateWindow, label: string): Promise<void> {
    let hit: { count: number; resetInMs: number };
    try {
      hit = await this.store.hit(key, window.window_seconds * 1000);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'rate-limit store unavailable; allowing the call');
      return;
    }
    if (hit.count > window.limit) {
      this.rejections += 1;
      const retryAfter = Math.max(1, Math.ceil(hit.resetInMs / 1000));
      throw new ToolError(
        'RATE_LIMITED',
        `Too many calls (${label}: ${window.limit} per ${window.window_seconds} s). Try again in ${retryAfter} s.`,
        { retry_after_seconds: retryAfter, limit: window.limit, window_seconds: window.window_seconds },
      );
    }
  }
}
