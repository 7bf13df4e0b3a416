import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ToolError } from '../../src/core/errors.js';
import { BackendResilience, type ResilienceSettings } from '../../src/core/resilience.js';

const SETTINGS: ResilienceSettings = {
  timeoutMs: 100,
  retries: 2,
  breakerThreshold: 2,
  breakerCooldownMs: 80,
  maxConcurrency: 2,
};

const down = () => new ToolError('UPSTREAM_UNAVAILABLE', 'connection refused', { cause: 'ECONNREFUSED' });

/** An attempt that fails `failures` times, then succeeds; counts how often it ran. */
function flaky(failures: number, error: () => Error = down) {
  const calls = { count: 0 };
  const attempt = async () => {
    calls.count += 1;
    if (calls.count <= failures) throw error();
    return 'ok';
  };
  return { calls, attempt };
}

/** Never answers until aborted, like a hung Orthanc; rejects the way undici does. */
const hang = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));

const PACS = { backend: 'orthanc', label: 'The PACS (Orthanc)' };

describe('BackendResilience', () => {
  it('retries idempotent calls on transport errors, never writes', async () => {
    const policy = new BackendResilience(PACS, SETTINGS);
    const read = flaky(2);
    await expect(policy.run(read.attempt, { idempotent: true })).resolves.toBe('ok');
    expect(read.calls.count).toBe(3);

    const write = flaky(1);
    await expect(policy.run(write.attempt, { idempotent: false })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
    expect(write.calls.count).toBe(1);
  });

  it('does not retry or count caller errors such as NOT_FOUND', async () => {
    const policy = new BackendResilience(PACS, SETTINGS);
    for (let i = 0; i < 5; i++) {
      const missing = flaky(1, () => new ToolError('NOT_FOUND', 'no such study', { upstream_status: 404 }));
      await expect(policy.run(missing.attempt, { idempotent: true })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(missing.calls.count).toBe(1);
    }
    expect(policy.state).toBe('closed');
  });

  it('turns a hung call into UPSTREAM_TIMEOUT after the time limit', async () => {
    const policy = new BackendResilience(PACS, { ...SETTINGS, breakerThreshold: 10 });
    const started = performance.now();
    await expect(policy.run(hang, { idempotent: true })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(SETTINGS.timeoutMs * 3);
  });

  it('reports a cancelled call as cancelled and does not hold it against Orthanc', async () => {
    const policy = new BackendResilience(PACS, SETTINGS);
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 5);
      await expect(policy.run(hang, { idempotent: true, signal: controller.signal })).rejects.toMatchObject({
        code: 'CONFLICT',
      });
    }
    expect(policy.state).toBe('closed');
  });

  it('opens after consecutive failed calls, half-opens after the cool-down, closes on success', async () => {
    const policy = new BackendResilience(PACS, SETTINGS);
    for (let i = 0; i < SETTINGS.breakerThreshold; i++) {
      await expect(policy.run(flaky(99).attempt, { idempotent: false })).rejects.toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
      });
    }
    expect(policy.state).toBe('open');
    const skipped = flaky(0);
    await expect(policy.run(skipped.attempt, { idempotent: true })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      details: { breaker: 'open' },
    });
    expect(skipped.calls.count).toBe(0);

    await sleep(SETTINGS.breakerCooldownMs + 10);
    expect(policy.state).toBe('half-open');
    await expect(policy.run(skipped.attempt, { idempotent: true })).resolves.toBe('ok');
    expect(policy.state).toBe('closed');
  });
});
