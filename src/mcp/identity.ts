import type { Principal } from '../core/context.js';
import type { Authenticator } from '../core/pipeline.js';

/** The principal the conformance suites act as when UPC_INSECURE_NO_AUTH=1 (never in production). */
export const INSECURE_PRINCIPAL: Principal = { subject: 'insecure-no-auth', role: 'admin' };

/**
 * Turns a bearer token into a principal for the MCP door: the same JwtAuthenticator as every other door,
 * or, in the insecure test mode only, the fixed principal above whatever the request carries.
 */
export function mcpAuthenticator(authenticator: Authenticator, insecure: boolean): Authenticator {
  if (!insecure) return authenticator;
  return { authenticate: async () => INSECURE_PRINCIPAL };
}
