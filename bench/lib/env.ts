import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig } from '../../src/config.js';
import type { Role } from '../../src/core/context.js';
import { issueToken, tokenSettings } from '../../src/security/tokens.js';
import type { OrthancHandle } from '../../test/harness/orthanc.js';
import { createTestDatabase, type TestDatabase } from '../../test/harness/postgres.js';
import { RESULTS_DIR } from './report.js';

export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The default policy with the per-user rate limits lifted: the load generator is one user making
 * thousands of calls a second, which the production limit (1,000 per 15 min) would rightly refuse. The
 * limiter still runs on every call (its counters are part of the measured cost), it just never says no.
 */
export function benchPolicyFile(): string {
  const policy = JSON.parse(readFileSync(path.join(ROOT, 'policy', 'default-policy.json'), 'utf8')) as {
    rate_limits: { default: { limit: number }; classes: Record<string, { limit: number }> };
  };
  policy.rate_limits.default.limit = 1_000_000_000;
  for (const limit of Object.values(policy.rate_limits.classes)) limit.limit = 1_000_000_000;
  const file = path.join(RESULTS_DIR, 'bench-policy.json');
  writeFileSync(file, JSON.stringify(policy, null, 2));
  return file;
}

export interface BenchEnvironment {
  database: TestDatabase;
  /** Environment for the product server child: production mode, a real PostgreSQL, info logging. */
  serverEnv: Record<string, string>;
  config: Config;
  token(role?: Role): Promise<string>;
  close(): Promise<void>;
}

/**
 * A throwaway database on the local PostgreSQL and the settings the product server runs with:
 * NODE_ENV=production, LOG_LEVEL=info (BENCH_LOG_LEVEL to change), default pool size and load shedding.
 */
export async function benchEnvironment(
  options: { orthanc?: OrthancHandle; extra?: Record<string, string> } = {},
): Promise<BenchEnvironment> {
  const database = await createTestDatabase(ADMIN_URL);
  const secret = randomBytes(32).toString('hex');
  const serverEnv: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: database.url,
    JWT_SECRET_KEY: secret,
    POLICY_FILE: benchPolicyFile(),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    ORTHANC_URL: options.orthanc?.url ?? 'http://127.0.0.1:1',
    ...(options.orthanc
      ? { ORTHANC_USERNAME: options.orthanc.username, ORTHANC_PASSWORD: options.orthanc.password }
      : { ORTHANC_TIMEOUT_MS: '500' }),
    ...options.extra,
  };
  const config = loadConfig(serverEnv);
  const settings = tokenSettings(config, secret);
  return {
    database,
    serverEnv,
    config,
    token: (role = 'admin') => issueToken(settings, { subject: `bench-${role}`, role, ttlSeconds: 7200 }),
    close: () => database.drop(),
  };
}
