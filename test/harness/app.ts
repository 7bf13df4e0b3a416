import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Config, type ConfigInput, testConfig } from '../../src/config.js';
import type { SettableClock } from '../../src/core/clock.js';
import type { Role } from '../../src/core/context.js';
import type { ModuleFactory } from '../../src/core/module.js';
import { issueToken, tokenSettings } from '../../src/security/tokens.js';
import { testClock } from './clock.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  database: TestDatabase;
  /** The product clock, frozen at the suite's chosen time until the test moves it. */
  clock: SettableClock;
  /** A bearer token for a caller with these rights, in one line. */
  tokenFor(
    role: Role,
    options?: { subject?: string; patients?: string[]; ttlSeconds?: number },
  ): Promise<string>;
  /** POST /mcp/v1/invoke as a role (or with an explicit token, or none). */
  invoke(
    tool: string,
    parameters?: Record<string, unknown>,
    as?: Role | { token: string } | null,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** GET /metrics as an administrator (loopback callers need a token too, by default). */
export async function scrapeMetrics(t: TestApp): Promise<string> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${await t.tokenFor('admin')}` },
  });
  if (response.statusCode !== 200) throw new Error(`scrape refused: ${response.body}`);
  return response.body;
}

/** A complete server on its own throwaway PostgreSQL database, not listening (use inject or listen(0)). */
export async function startTestApp(
  overrides: ConfigInput = {},
  options: { clock?: SettableClock; adminUrl?: string; modules?: readonly ModuleFactory[] } = {},
): Promise<TestApp> {
  const clock = options.clock ?? testClock();
  // Each app keeps its signed audit checkpoints in a folder of its own, never in the checkout's ./data.
  const checkpointDir = mkdtempSync(path.join(os.tmpdir(), 'upc-checkpoints-'));
  const database = await createTestDatabase(options.adminUrl ?? inject('pgAdminUrl'));
  const config = testConfig({
    DATABASE_URL: database.url,
    JWT_SECRET_KEY: TEST_JWT_SECRET,
    ORTHANC_URL: 'http://127.0.0.1:1',
    ORTHANC_TIMEOUT_MS: '1000',
    DATABASE_POOL_SIZE: '10',
    // Shedding reacts to machine load; only the test that exercises it turns it on.
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    AUDIT_CHECKPOINT_FILE: path.join(checkpointDir, 'audit-checkpoints.jsonl'),
    ...overrides,
  });
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { clock, ...(options.modules ? { modules: options.modules } : {}) });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const settings = tokenSettings(config, TEST_JWT_SECRET);
  const tokenFor: TestApp['tokenFor'] = (role, options = {}) =>
    issueToken(settings, {
      subject: options.subject ?? `test-${role}`,
      role,
      ...(options.patients ? { patients: options.patients } : {}),
      ...(options.ttlSeconds ? { ttlSeconds: options.ttlSeconds } : {}),
    });
  return {
    app,
    config,
    database,
    clock,
    tokenFor,
    async invoke(tool, parameters = {}, as = 'admin') {
      const headers: Record<string, string> = {};
      if (as !== null)
        headers.authorization = `Bearer ${typeof as === 'string' ? await tokenFor(as) : as.token}`;
      return app.inject({ method: 'POST', url: '/mcp/v1/invoke', headers, payload: { tool, parameters } });
    },
    async close() {
      await app.close();
      await database.drop();
      rmSync(checkpointDir, { recursive: true, force: true });
    },
  };
}
