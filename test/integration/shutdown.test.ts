/** Shutting down: calls already running can finish, because the grace period outlasts the statement timeout. */
import { expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

it('refuses a grace period shorter than the statement timeout at boot, naming both', () => {
  expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '10000', DATABASE_STATEMENT_TIMEOUT_MS: '15000' })).toThrow(
    ConfigError,
  );
  expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '10000', DATABASE_STATEMENT_TIMEOUT_MS: '15000' })).toThrow(
    /SHUTDOWN_GRACE_MS=10000: must be longer than DATABASE_STATEMENT_TIMEOUT_MS \(15000\)/,
  );
  expect(() => loadConfig({})).not.toThrow();
});
