import { afterEach, describe, expect, it, vi } from 'vitest';
import { isToolError } from '../../src/core/errors.js';
import { issueToken, JwtAuthenticator, type TokenSettings } from '../../src/security/tokens.js';

const settings: TokenSettings = {
  secret: 'token-cache-test-secret-0123456789abcdef',
  issuer: 'upc-mcp',
  audience: 'upc-mcp',
};

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isToolError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('expected the token to be refused');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('JwtAuthenticator verified-token cache', () => {
  it('answers a repeated token with the same frozen principal', async () => {
    const authenticator = new JwtAuthenticator(settings);
    const token = await issueToken(settings, { subject: 'dr.x', role: 'referring_doctor', patients: ['P1'] });
    const first = await authenticator.authenticate(token);
    const second = await authenticator.authenticate(token);
    expect(second).toBe(first);
    expect(first).toMatchObject({ subject: 'dr.x', role: 'referring_doctor', patients: ['P1'] });
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.patients)).toBe(true);
  });

  it('still refuses a cached token once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const authenticator = new JwtAuthenticator(settings);
    const token = await issueToken(settings, { subject: 'short', role: 'admin', ttlSeconds: 30 });
    await authenticator.authenticate(token);
    vi.setSystemTime(Date.now() + 20_000);
    await expect(authenticator.authenticate(token)).resolves.toMatchObject({ subject: 'short' });
    // Past exp and the 5 s clock tolerance the verifier allows.
    vi.setSystemTime(Date.now() + 16_000);
    expect(await refusal(authenticator.authenticate(token))).toBe(
      'UNAUTHENTICATED: The token has expired. Get a new one.',
    );
  });

  it('never serves a tampered copy of a cached token', async () => {
    const authenticator = new JwtAuthenticator(settings);
    const token = await issueToken(settings, { subject: 'someone', role: 'receptionist' });
    await authenticator.authenticate(token);
    const [header, , signature] = token.split('.');
    const forgedClaims = Buffer.from(
      JSON.stringify({ sub: 'someone', role: 'admin', iss: 'upc-mcp', aud: 'upc-mcp', exp: 9_999_999_999 }),
    ).toString('base64url');
    expect(await refusal(authenticator.authenticate(`${header}.${forgedClaims}.${signature}`))).toBe(
      'UNAUTHENTICATED: The token signature is invalid.',
    );
  });
});
