import { BENCH_TEXT, BENCH_TOOL } from '../servers/bench-tool.js';

export type Era = '2026-07-28' | '2025-11-25';

export interface WireRequest {
  headers: Record<string, string>;
  body: string;
}

/**
 * A stateless `tools/call` exactly as the SDK v2 client sends it (captured from `@modelcontextprotocol/client`):
 * 2026-07-28 carries the `_meta` envelope and the `MCP-Method`/`MCP-Name`/`MCP-Protocol-Version` headers
 * and is answered with JSON; a 2025-era call without a session is served by the stateless legacy leg
 * (answered as an SSE stream), no `initialize` needed.
 */
export function toolsCall(
  era: Era,
  token?: string,
  args: Record<string, unknown> = { text: BENCH_TEXT },
  tool = BENCH_TOOL,
): WireRequest {
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': era,
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const params: Record<string, unknown> = { name: tool, arguments: args };
  if (era === '2026-07-28') {
    headers['mcp-method'] = 'tools/call';
    headers['mcp-name'] = tool;
    params._meta = {
      'io.modelcontextprotocol/protocolVersion': era,
      'io.modelcontextprotocol/clientInfo': { name: 'upc-bench', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
  }
  return { headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }) };
}

/** `POST /mcp/v1/invoke` of the same tool. */
export function restInvoke(
  token: string,
  tool = BENCH_TOOL,
  parameters: unknown = { text: BENCH_TEXT },
): WireRequest {
  return {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool, parameters }),
  };
}

/** Sends one request and fails loudly unless it succeeded and its body contains `expect`. */
export async function checkOnce(url: string, request: WireRequest, expect: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  if (response.status !== 200 || !text.includes(expect) || text.includes('"isError":true')) {
    throw new Error(`sanity check failed for ${url}: HTTP ${response.status} ${text.slice(0, 500)}`);
  }
  return text;
}
