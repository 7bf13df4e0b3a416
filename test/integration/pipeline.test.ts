import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/core/tool.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { testNow } from '../harness/clock.js';

let t: TestApp;
let handlerRuns = 0;

beforeAll(async () => {
  t = await startTestApp();
  const registry = t.app.parts.registry;
  registry.register(
    defineTool({
      name: 'test_send_study',
      title: 'Send a study',
      description: 'A tool that needs confirmation (test fixture).',
      input: z.object({ study_instance_uid: z.string(), destination: z.string() }),
      output: z.object({ sent: z.boolean() }),
      permission: 'pacs:send',
      annotations: { destructiveHint: false },
      phi: true,
      confirmation: true,
      describeAction: async ({ study_instance_uid, destination }) =>
        `Send study ${study_instance_uid} to ${destination}.`,
      handler: async () => ({ sent: true }),
    }),
    'test',
  );
  registry.register(
    defineTool({
      name: 'test_book_slot',
      title: 'Book a slot',
      description: 'A write that counts how often it really runs (test fixture).',
      input: z.object({ slot: z.string() }),
      output: z.object({ booking: z.number(), slot: z.string() }),
      permission: 'ris:schedule',
      annotations: { readOnlyHint: false },
      phi: false,
      handler: async (input) => {
        handlerRuns += 1;
        await new Promise((r) => setTimeout(r, 50));
        return { booking: handlerRuns, slot: input.slot };
      },
    }),
    'test',
  );
});
afterAll(() => t.close());

async function call(
  tool: string,
  parameters: Record<string, unknown>,
  context: Record<string, string>,
  role = 'admin' as const,
  subject?: string,
) {
  const token = await t.tokenFor(role, subject ? { subject } : {});
  return t.app.inject({
    method: 'POST',
    url: '/mcp/v1/invoke',
    headers: { authorization: `Bearer ${token}` },
    payload: { tool, parameters, context },
  });
}

describe('confirmation (two-step token)', () => {
  const params = { study_instance_uid: '1.2.3', destination: 'REMOTE' };

  it('asks first, runs with the token, and refuses the token a second time', async () => {
    const first = await call('test_send_study', params, {});
    expect(first.statusCode).toBe(409);
    const error = first.json().error;
    expect(error.error_code).toBe('CONFIRMATION_REQUIRED');
    expect(error.details.parameters).toEqual(params);
    const token = error.details.confirmation_token as string;

    const confirmed = await call('test_send_study', params, { confirmation_token: token });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().result).toEqual({ sent: true });

    const replayed = await call('test_send_study', params, { confirmation_token: token });
    expect(replayed.statusCode).toBe(409);
    expect(replayed.json().error.message).toMatch(/already used/);
  });

  it('a token expires five minutes after it was issued, by the product clock', async () => {
    const token = (await call('test_send_study', params, {})).json().error.details.confirmation_token;
    t.clock.advance(5 * 60_000 + 1_000);
    try {
      const late = await call('test_send_study', params, { confirmation_token: token });
      expect(late.statusCode).toBe(409);
      expect(late.json().error.message).toBe(
        'The confirmation token has expired; ask for confirmation again.',
      );
    } finally {
      t.clock.set(testNow());
    }
    const fresh = (await call('test_send_study', params, {})).json().error.details.confirmation_token;
    t.clock.advance(4 * 60_000);
    try {
      expect((await call('test_send_study', params, { confirmation_token: fresh })).statusCode).toBe(200);
    } finally {
      t.clock.set(testNow());
    }
  });

  it('binds the token to the exact parameters and to the caller', async () => {
    const token = (await call('test_send_study', params, {})).json().error.details.confirmation_token;
    const other = await call(
      'test_send_study',
      { ...params, destination: 'ELSEWHERE' },
      { confirmation_token: token },
    );
    expect(other.json().error.message).toMatch(/parameters differ/);
    const stranger = await call(
      'test_send_study',
      params,
      { confirmation_token: token },
      'admin',
      'someone-else',
    );
    expect(stranger.json().error.message).toMatch(/not valid for this caller/);
    const forged = await call('test_send_study', params, {
      confirmation_token: `${token.split('.')[0]}.forged`,
    });
    expect(forged.json().error.message).toMatch(/not valid/);
  });
});

describe('idempotency keys', () => {
  it('a retry with the same key returns the first result and runs nothing new', async () => {
    const before = handlerRuns;
    const first = await call('test_book_slot', { slot: '09:00' }, { idempotency_key: 'k-1' });
    const retry = await call('test_book_slot', { slot: '09:00' }, { idempotency_key: 'k-1' });
    expect(first.statusCode).toBe(200);
    expect(retry.json().result).toEqual(first.json().result);
    expect(handlerRuns).toBe(before + 1);
  });

  it('the same key with other parameters is a CONFLICT', async () => {
    await call('test_book_slot', { slot: '10:00' }, { idempotency_key: 'k-2' });
    const misuse = await call('test_book_slot', { slot: '11:00' }, { idempotency_key: 'k-2' });
    expect(misuse.statusCode).toBe(409);
    expect(misuse.json().error.message).toMatch(/different parameters/);
  });

  it('concurrent retries with one key run the handler exactly once', async () => {
    const before = handlerRuns;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => call('test_book_slot', { slot: '12:00' }, { idempotency_key: 'k-3' })),
    );
    expect(handlerRuns).toBe(before + 1);
    for (const response of responses) {
      if (response.statusCode === 200)
        expect(response.json().result).toEqual({ booking: before + 1, slot: '12:00' });
      else expect(response.json().error.message).toMatch(/still running/);
    }
    const after = await call('test_book_slot', { slot: '12:00' }, { idempotency_key: 'k-3' });
    expect(after.json().result).toEqual({ booking: before + 1, slot: '12:00' });
  });

  it('keys are per caller: another user with the same key runs their own call', async () => {
    const before = handlerRuns;
    await call('test_book_slot', { slot: '13:00' }, { idempotency_key: 'shared' }, 'admin', 'alice');
    await call('test_book_slot', { slot: '13:00' }, { idempotency_key: 'shared' }, 'admin', 'bob');
    expect(handlerRuns).toBe(before + 2);
  });
});
