import type { RequestId } from '@modelcontextprotocol/server';
import type { CancellationRelay } from './cancellation-relay.js';

/**
 * Cancellation for stateless 2025-era HTTP clients. Such a client cancels with a `notifications/cancelled`
 * POST, which reaches a fresh server instance that never saw the call; this process-wide table lets that
 * notification find the call by (caller, JSON-RPC id). Keyed by subject so one user cannot cancel
 * another's calls. With a relay (Redis, when `REDIS_URL` is set) a notification that lands on a replica
 * not running the call is passed on to the others. 2026-07-28 clients cancel by closing the request,
 * which always reaches the right process.
 */
export class InFlightCalls {
  readonly #calls = new Map<string, AbortController>();

  constructor(private readonly relay?: CancellationRelay) {
    relay?.onCancel((key) => this.#calls.get(key)?.abort());
  }

  /** Tracks a call; the returned signal aborts on either the request's own signal or a cancellation. */
  track(subject: string, id: RequestId, signal: AbortSignal): { signal: AbortSignal; done(): void } {
    const key = keyOf(subject, id);
    const controller = new AbortController();
    this.#calls.set(key, controller);
    return {
      signal: AbortSignal.any([signal, controller.signal]),
      done: () => {
        if (this.#calls.get(key) === controller) this.#calls.delete(key);
      },
    };
  }

  async cancel(subject: string, id: RequestId | undefined): Promise<void> {
    if (id === undefined) return;
    const key = keyOf(subject, id);
    const local = this.#calls.get(key);
    if (local) local.abort();
    else await this.relay?.publish(key);
  }
}

function keyOf(subject: string, id: RequestId): string {
  return `${subject}\u0000${typeof id}:${String(id)}`;
}
