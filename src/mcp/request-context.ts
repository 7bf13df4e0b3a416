import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type ClientCapabilities,
  type Implementation,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ProgressUpdate } from '../core/context.js';

/**
 * Facts about one MCP request that do not depend on the protocol era's plumbing: 2026-07-28 requests carry
 * the client's identity and capabilities in a per-request `_meta` envelope; 2025-era connections declared
 * them once in `initialize` (and stateless 2025 HTTP requests never did).
 */
export interface RequestFacts {
  era: 'modern' | 'legacy';
  capabilities: ClientCapabilities | undefined;
  client: string | undefined;
}

export function requestFacts(server: Server, ctx: ServerContext): RequestFacts {
  const modern = requestFactsFromEnvelope(ctx);
  if (modern) return modern;
  // The per-connection accessors are the only source on a 2025-era stdio connection.
  const info = server.getClientVersion();
  return {
    era: 'legacy',
    capabilities: server.getClientCapabilities(),
    client: info ? `${info.name}/${info.version}` : undefined,
  };
}

/** The facts of a 2026-07-28 request, read from its `_meta` envelope; undefined for 2025-era requests. */
export function requestFactsFromEnvelope(ctx: ServerContext): RequestFacts | undefined {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  if (!envelope || !(CLIENT_CAPABILITIES_META_KEY in envelope || CLIENT_INFO_META_KEY in envelope))
    return undefined;
  const info = envelope[CLIENT_INFO_META_KEY] as Implementation | undefined;
  return {
    era: 'modern',
    capabilities: envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined,
    client: info ? `${info.name}/${info.version}` : undefined,
  };
}

/** True when the client can show a form to a person (elicitation in form mode). */
export function canElicitForm(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation as { form?: unknown; url?: unknown } | undefined;
  if (!elicitation) return false;
  // An empty object means form mode (the pre-mode rule); an explicit mode list must include form.
  return elicitation.form !== undefined || elicitation.url === undefined;
}

/**
 * Progress reporting wired to `notifications/progress`, only when the client asked for it with a
 * progressToken. Notifications are fire-and-forget: a slow client must never stall the handler.
 */
export function progressReporter(ctx: ServerContext): ((update: ProgressUpdate) => void) | undefined {
  const progressToken = ctx.mcpReq._meta?.progressToken;
  if (progressToken === undefined) return undefined;
  return (update) => {
    const params: Record<string, unknown> = { progressToken, progress: update.progress };
    if (update.total !== undefined) params.total = update.total;
    if (update.message !== undefined) params.message = update.message;
    ctx.mcpReq.notify({ method: 'notifications/progress', params }).catch(() => {});
  };
}
