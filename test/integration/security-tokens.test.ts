import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../harness/app.js';

let t: TestApp;
let jwks: Server;
let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let otherRsa: Awaited<ReturnType<typeof generateKeyPair>>;
let jwksRequests = 0;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  otherRsa = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  // A local identity provider's JWKS endpoint, served over HTTP like a real one.
  jwks = createServer((_req, res) => {
    jwksRequests += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const { port } = jwks.address() as AddressInfo;
  t = await startTestApp({
    JWKS_URL: `http://127.0.0.1:${port}/jwks`,
    JWT_ISSUER: 'https://idp.test/realms/upc',
    JWT_AUDIENCE: 'upc-mcp',
  });
});
afterAll(async () => {
  await t.close();
  jwks.close();
});

const secret = new TextEncoder().encode(TEST_JWT_SECRET);
const claims = { role: 'admin' };

function base() {
  return new SignJWT(claims)
    .setSubject('dr-x')
    .setIssuer('https://idp.test/realms/upc')
    .setAudience('upc-mcp')
    .setIssuedAt();
}

async function status(token: string) {
  const response = await t.invoke('admin_get_system_status', {}, { token });
  return { code: response.statusCode, error: response.json().error };
}

describe('bearer tokens', () => {
  it('accepts a valid HS256 token and an RS256 token from the JWKS provider', async () => {
    const hs = await base().setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret);
    expect((await status(hs)).code).toBe(200);
    const rs = await base()
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setExpirationTime('5m')
      .sign(rsa.privateKey);
    expect((await status(rs)).code).toBe(200);
    expect(jwksRequests).toBeGreaterThanOrEqual(1);
  });

  const refused: [string, () => Promise<string>, RegExp][] = [
    [
      'expired',
      () =>
        base()
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
          .sign(secret),
      /expired/,
    ],
    [
      'not yet valid',
      () =>
        base().setProtectedHeader({ alg: 'HS256' }).setNotBefore('10m').setExpirationTime('20m').sign(secret),
      /not valid yet/,
    ],
    ['without exp', () => base().setProtectedHeader({ alg: 'HS256' }).sign(secret), /exp/],
    [
      'for another audience',
      () =>
        base()
          .setAudience('billing-service')
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('5m')
          .sign(secret),
      /audience/,
    ],
    [
      'from another issuer',
      () =>
        base()
          .setIssuer('https://evil.test')
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('5m')
          .sign(secret),
      /issuer/,
    ],
    [
      'signed with the wrong HS key',
      () =>
        base()
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('x'.repeat(48))),
      /signature/,
    ],
    [
      'signed by an RSA key the provider does not publish',
      () =>
        base()
          .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
          .setExpirationTime('5m')
          .sign(otherRsa.privateKey),
      /signature/,
    ],
    [
      'alg:none',
      async () =>
        new UnsecuredJWT(claims)
          .setSubject('dr-x')
          .setIssuer('https://idp.test/realms/upc')
          .setAudience('upc-mcp')
          .setExpirationTime('5m')
          .encode(),
      /none/,
    ],
    [
      'HS256 signed with the RSA public key (algorithm confusion)',
      async () =>
        base()
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(await exportSPKI(rsa.publicKey))),
      /signature/,
    ],
    [
      'with an unknown role',
      () =>
        new SignJWT({ role: 'superuser' })
          .setSubject('x')
          .setIssuer('https://idp.test/realms/upc')
          .setAudience('upc-mcp')
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('5m')
          .sign(secret),
      /role/,
    ],
    ['that is not a JWT at all', async () => 'not.a.jwt', /malformed/],
  ];

  it.each(refused)('refuses a token %s with 401', async (_label, make, message) => {
    const { code, error } = await status(await make());
    expect(code).toBe(401);
    expect(error.error_code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(message);
  });
});
