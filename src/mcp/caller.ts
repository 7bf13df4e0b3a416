import type { Principal } from '../core/context.js';

/**
 * Who is on the other end of one MCP serving unit (an HTTP request, or a whole stdio connection), as
 * established by the door before any MCP message is read. Handlers never look at tokens again.
 */
export interface McpCaller {
  principal: Principal;
  /** A request id for each pipeline call: the HTTP request's id, or a fresh one per stdio message. */
  nextRequestId(): string;
  /** User agent or client name, for audit. */
  client?: string;
  ip?: string;
}
