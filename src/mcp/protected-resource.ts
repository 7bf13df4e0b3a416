import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** The server's public base URL: configured, or the request's own origin (its Host was validated). */
export function publicBase(config: Pick<Config, 'MCP_PUBLIC_URL'>, request: FastifyRequest): string {
  if (config.MCP_PUBLIC_URL) return config.MCP_PUBLIC_URL.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}

/** `WWW-Authenticate` for a 401 from /mcp, pointing clients at the resource metadata (RFC 9728 §5.1). */
export function bearerChallenge(base: string, tokenWasSent: boolean): string {
  const error = tokenWasSent ? ', error="invalid_token"' : '';
  return `Bearer resource_metadata="${base}${PROTECTED_RESOURCE_PATH}"${error}`;
}

/**
 * RFC 9728 protected resource metadata. The authorization server is published only when JWT_ISSUER is a
 * URL (an identity provider's issuer); the built-in development issuer ("upc-mcp") is not discoverable.
 */
export function protectedResourceMetadata(
  config: Pick<Config, 'JWT_ISSUER' | 'MCP_SCOPES'>,
  base: string,
): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    resource: `${base}/mcp`,
    resource_name: 'Ubuntu Patient Care MCP server',
    bearer_methods_supported: ['header'],
    scopes_supported: config.MCP_SCOPES,
    resource_documentation: `${base}/docs`,
  };
  if (/^https?:\/\//.test(config.JWT_ISSUER)) metadata.authorization_servers = [config.JWT_ISSUER];
  return metadata;
}
