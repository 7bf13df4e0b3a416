import { validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * DNS-rebinding protection for /mcp: the Host must be one of ours and a browser Origin, when present,
 * must be allowed. Desktop clients send no Origin. Both checks run before authentication, so a page on
 * another site cannot even probe the endpoint through a victim's browser.
 */
export function rebindingGuard(allowedHosts: string[], allowedOrigins: string[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const host = validateHostHeader(request.headers.host, allowedHosts);
    // The refused Host is not echoed back (a response must not reflect what the caller chose).
    if (!host.ok) return refuse(reply, 'Host not allowed');
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const checked = validateOriginHeader(origin, allowedOrigins);
    if (!checked.ok) return refuse(reply, 'Origin not allowed');
  };
}

function refuse(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(403).send({ jsonrpc: '2.0', id: null, error: { code: -32000, message } });
}
