import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { splitArguments } from '../../src/mcp/tool-catalog.js';

describe('MCP settings', () => {
  it('defaults the DNS-rebinding allow-lists to loopback names', () => {
    const config = loadConfig({});
    expect(config.MCP_ALLOWED_HOSTS).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(config.MCP_ALLOWED_ORIGINS).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(config.MCP_CONFORMANCE_FIXTURES).toBeUndefined();
    expect(config.UPC_INSECURE_NO_AUTH).toBeUndefined();
  });

  it('refuses the test-only modes in production, naming both', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        JWKS_URL: 'https://idp.example/jwks',
        MCP_CONFORMANCE_FIXTURES: '1',
        UPC_INSECURE_NO_AUTH: '1',
      }),
    ).toThrow(/MCP_CONFORMANCE_FIXTURES: .*refused.*UPC_INSECURE_NO_AUTH: .*refused/);
  });

  it('never prints UPC_TOKEN in an error', () => {
    expect(() => loadConfig({ UPC_TOKEN: 'secret-token', PORT: 'x' })).not.toThrow(/secret-token/);
  });
});

describe('MCP extra arguments', () => {
  const descriptor = {
    confirmation: true,
    annotations: { readOnlyHint: false },
  } as Parameters<typeof splitArguments>[0];

  it('strips confirmation_token and idempotency_key before the pipeline validates the rest', () => {
    expect(
      splitArguments(descriptor, {
        study_instance_uid: '1.2',
        confirmation_token: 'tok',
        idempotency_key: 'k1',
      }),
    ).toEqual({ parameters: { study_instance_uid: '1.2' }, confirmationToken: 'tok', idempotencyKey: 'k1' });
  });

  it('leaves them in place for tools that do not take them, so strict validation refuses them', () => {
    const readOnly = { confirmation: false, annotations: { readOnlyHint: true } } as Parameters<
      typeof splitArguments
    >[0];
    expect(splitArguments(readOnly, { confirmation_token: 'tok' })).toEqual({
      parameters: { confirmation_token: 'tok' },
    });
  });
});
