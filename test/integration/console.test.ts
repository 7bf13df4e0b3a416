import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../src/security/passwords.js';
import { insertUser, securityDb } from '../../src/security/users.store.js';
import { startTestApp, type TestApp } from '../harness/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

it('serves the console with a strict content security policy and no inline script', async () => {
  expect((await t.app.inject({ method: 'GET', url: '/' })).headers.location).toBe('/console/');
  const page = await t.app.inject({ method: 'GET', url: '/console/' });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toMatch(/text\/html/);
  expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  expect(page.body).toMatch(/<script type="module" src="\/console\/console.js">/);
  expect(page.body).not.toMatch(/<script>(?!<\/script>)/);
  const script = await t.app.inject({ method: 'GET', url: '/console/console.js' });
  expect(script.headers['content-type']).toMatch(/javascript/);
  // Everything the page renders from the API goes through textContent, never innerHTML.
  expect(script.body).not.toMatch(/innerHTML/);
  expect((await t.app.inject({ method: 'GET', url: '/console/secrets.txt' })).statusCode).toBe(404);
});

it('the console signs in like any client and its calls are audited as the console door', async () => {
  await insertUser(securityDb(t.app.parts.database.db), {
    username: 'nomsa',
    role: 'receptionist',
    passwordHash: await hashPassword('a long demo password'),
  });
  const signIn = await t.app.inject({
    method: 'POST',
    url: '/auth/token',
    payload: { username: 'nomsa', password: 'a long demo password' },
  });
  const token = signIn.json().access_token as string;
  const worklist = await t.app.inject({
    method: 'POST',
    url: '/console/invoke',
    headers: { authorization: `Bearer ${token}` },
    payload: { tool: 'ris_get_worklist', parameters: {} },
  });
  expect(worklist.statusCode).toBe(200);
  expect(worklist.json().result).toMatchObject({ time_zone: 'Africa/Johannesburg' });
  const event = await sql<{ door: string; actor_subject: string }>`
    SELECT door, actor_subject FROM audit.events WHERE request_id = ${worklist.json().request_id}`.execute(
    t.app.parts.database.db,
  );
  expect(event.rows).toEqual([{ door: 'console', actor_subject: 'nomsa' }]);

  // The door is the server's to say: a header claiming another door changes nothing.
  const claimed = await t.app.inject({
    method: 'POST',
    url: '/mcp/v1/invoke',
    headers: { authorization: `Bearer ${token}`, 'x-upc-door': 'console', 'x-request-id': 'mine-1' },
    payload: { tool: 'ris_get_worklist', parameters: {} },
  });
  expect(claimed.headers['x-request-id']).not.toBe('mine-1');
  expect(claimed.headers['x-client-request-id']).toBe('mine-1');
  const recorded = await sql<{ door: string; request_id: string; client: string }>`
    SELECT door, request_id, client FROM audit.events WHERE request_id = ${claimed.json().request_id}`.execute(
    t.app.parts.database.db,
  );
  expect(recorded.rows).toEqual([
    {
      door: 'rest',
      request_id: claimed.headers['x-request-id'],
      client: 'lightMyRequest [x-request-id mine-1]',
    },
  ]);
});
