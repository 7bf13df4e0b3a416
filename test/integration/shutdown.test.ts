/**
 * Shutting down: calls already running can finish (the grace period outlasts the statement timeout), and
 * calls arriving meanwhile are told to go elsewhere in our error shape.
 */
import net, { type AddressInfo } from 'node:net';
import pg from 'pg';
import { expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestApp } from '../harness/app.js';
import { createPhysician } from '../harness/ris.js';
import { waitUntil } from '../harness/wait.js';

it('refuses a grace period shorter than the statement timeout at boot, naming both', () => {
  expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '10000', DATABASE_STATEMENT_TIMEOUT_MS: '15000' })).toThrow(
    ConfigError,
  );
  expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '10000', DATABASE_STATEMENT_TIMEOUT_MS: '15000' })).toThrow(
    /SHUTDOWN_GRACE_MS=10000: must be longer than DATABASE_STATEMENT_TIMEOUT_MS \(15000\)/,
  );
  expect(() => loadConfig({})).not.toThrow();
});

it('while draining, a call in progress finishes and a new one on its connection gets OVERLOADED with Retry-After', async () => {
  const t = await startTestApp();
  const { practiceNumber } = await createPhysician(t);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  // Hold the first call: it waits on a lock a test connection holds.
  const blocker = new pg.Client({ connectionString: t.database.url });
  await blocker.connect();
  let closing: Promise<void> | undefined;
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE ris.referring_physicians IN ACCESS EXCLUSIVE MODE');
    // One kept-alive connection: the slow call, then (pipelined) another call sent while draining.
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const body = JSON.stringify({
      tool: 'ris_get_referring_physician',
      parameters: { practice_number: practiceNumber },
    });
    socket.write(
      `POST /mcp/v1/invoke HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${await t.tokenFor('admin')}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await waitUntil(
      async () =>
        (
          await blocker.query(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
          )
        ).rowCount === 1,
      { what: 'the first call to wait on the lock' },
    );
    closing = t.close();
    socket.write('GET /mcp/v1/tools HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await blocker.query('COMMIT');
    await ended;

    const [first, second] = received.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(first).toContain(`"practice_number":"${practiceNumber}"`);
    expect(second).toMatch(/^HTTP\/1\.1 503/);
    expect(second).toMatch(/\r\nretry-after: 1\r\n/i);
    const refusal = JSON.parse(second!.slice(second!.indexOf('\r\n\r\n') + 4));
    expect(refusal.error).toMatchObject({ error_code: 'OVERLOADED', request_id: expect.any(String) });
    expect(second).toContain(`x-request-id: ${refusal.error.request_id}`);
  } finally {
    await blocker.end();
    await (closing ?? t.close());
  }
});
