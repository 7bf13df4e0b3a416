/**
 * Two replicas behind one URL: a stateless 2025-era client's `notifications/cancelled` is routed to the
 * replica that is not running the call. With REDIS_URL set, that replica relays it and the call stops.
 */
import { randomUUID } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { testTools } from '../harness/mcp.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `cancel-${randomUUID().slice(0, 8)}`;
const state = { cancelled: 0, sent: 0 };
let running: TestApp;
let other: TestApp;
let runningUrl: string;
let otherUrl: string;

beforeAll(async () => {
  [running, other] = (await Promise.all(
    [0, 1].map(() => startTestApp({ REDIS_URL, REDIS_KEY_PREFIX: prefix })),
  )) as [TestApp, TestApp];
  for (const replica of [running, other]) {
    for (const tool of testTools(state)) replica.app.parts.registry.register(tool, 'test');
  }
  runningUrl = `${await running.app.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
  otherUrl = `${await other.app.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
  // Both replicas must be subscribed before a relayed cancellation can reach them.
  const redis = new Redis(REDIS_URL);
  try {
    for (let waited = 0; waited < 5000; waited += 50) {
      const [, subscribers] = (await redis.pubsub('NUMSUB', `${prefix}:mcp:cancel`)) as [string, number];
      if (subscribers === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
});

afterAll(async () => {
  await Promise.all([running?.close(), other?.close()]);
});

/** A load balancer that happens to send the cancellation to the other replica. */
const splitFetch: typeof fetch = async (input, init) => {
  const isCancel = typeof init?.body === 'string' && init.body.includes('"notifications/cancelled"');
  return fetch(isCancel ? otherUrl : input, init);
};

it('a 2025-era cancellation that reaches another replica still stops the call', async () => {
  const client = new Client({ name: 'replica-test', version: '1.0.0' });
  const token = await running.tokenFor('admin');
  await client.connect(
    new StreamableHTTPClientTransport(new URL(runningUrl), {
      authProvider: { token: async () => token },
      fetch: splitFetch,
    }),
  );
  try {
    const before = state.cancelled;
    const abort = new AbortController();
    let progressed = false;
    const call = client.callTool(
      { name: 'test_count_slowly', arguments: { to: 300 } },
      {
        signal: abort.signal,
        onprogress: () => {
          if (!progressed) abort.abort();
          progressed = true;
        },
      },
    );
    await expect(call).rejects.toThrow();
    await expect.poll(() => state.cancelled, { timeout: 5000 }).toBe(before + 1);
  } finally {
    await client.close();
  }
});
