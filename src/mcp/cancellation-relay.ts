import type { Redis } from 'ioredis';
import { connectRedis } from '../security/redis.js';

/**
 * Carries a cancellation to the other replicas. A stateless 2025-era client sends
 * `notifications/cancelled` as a new POST, which a load balancer may route to a replica that is not
 * running the call; that replica relays it, and the one that is running the call aborts it.
 */
export interface CancellationRelay {
  /** Tells the other replicas; best effort (a lost message leaves the call running, as before). */
  publish(key: string): Promise<void>;
  /** Called with each key another replica published. */
  onCancel(listener: (key: string) => void): void;
  close(): Promise<void>;
}

/** Redis pub/sub on one channel per deployment (`REDIS_KEY_PREFIX`). */
export class RedisCancellationRelay implements CancellationRelay {
  readonly #channel: string;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #listeners: ((key: string) => void)[] = [];

  constructor(url: string, keyPrefix: string) {
    this.#channel = `${keyPrefix}:mcp:cancel`;
    this.#publisher = connectRedis(url);
    // The subscription is queued until connected and renewed after a reconnect (ioredis autoResubscribe).
    this.#subscriber = connectRedis(url, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.#subscriber.on('message', (channel: string, key: string) => {
      if (channel !== this.#channel) return;
      for (const listener of this.#listeners) listener(key);
    });
    this.#subscriber.subscribe(this.#channel).catch(() => {});
  }

  async publish(key: string): Promise<void> {
    await this.#publisher.publish(this.#channel, key).catch(() => {});
  }

  onCancel(listener: (key: string) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect();
    this.#publisher.disconnect();
  }
}
