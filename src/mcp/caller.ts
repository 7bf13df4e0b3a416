import type { Caller } from '../core/caller.js';
import type { Principal } from '../core/context.js';

/**
 * Who is on the other end of one MCP serving unit (an HTTP request, or a whole stdio connection), as
 * established by the door before any MCP message is read. Handlers never look at tokens again.
 */
export interface McpCaller extends Caller {
  principal: Principal;
}

/** The MCP caller for an authenticated principal. */
export function mcpCaller(
  principal: Principal,
  nextRequestId: () => string,
  client?: string,
  ip?: string,
): McpCaller {
  return { principal, credentials: { principal }, nextRequestId, client, ip };
}
