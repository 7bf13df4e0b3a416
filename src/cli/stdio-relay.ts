/**
 * `upc-mcp stdio` while a server owns the embedded database: the desktop client's messages are relayed to
 * that server's /mcp with the caller's token, and its answers back, instead of opening the same data
 * directory a second time (which would lose writes). The server does the work, with the same permission
 * checks, scope, redaction and audit as any MCP client.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

interface Message {
  id?: string | number;
  method?: string;
  result?: { protocolVersion?: string };
}

/** Relays until the client closes stdin; resolves with the exit code. */
export async function relayStdioTo(serverUrl: string, token: string): Promise<number> {
  const upstream = new StreamableHTTPClientTransport(new URL('/mcp', serverUrl), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const local = new StdioServerTransport();
  const initializeIds = new Set<string | number>();

  return new Promise<number>((resolve) => {
    let done = false;
    const finish = async (code: number) => {
      if (done) return;
      done = true;
      await Promise.allSettled([upstream.close(), local.close()]);
      resolve(code);
    };
    local.onmessage = (message) => {
      const m = message as Message;
      if (m.method === 'initialize' && m.id !== undefined) initializeIds.add(m.id);
      upstream.send(message).catch((error: Error) => {
        process.stderr.write(`upc-mcp stdio: the server at ${serverUrl} did not answer: ${error.message}\n`);
        if (m.id !== undefined) {
          void local.send({
            jsonrpc: '2.0',
            id: m.id,
            error: {
              code: -32603,
              message: `The upc-mcp server at ${serverUrl} did not answer: ${error.message}`,
            },
          });
        }
      });
    };
    upstream.onmessage = (message) => {
      const m = message as Message;
      // Later requests carry the negotiated version, as a directly connected client would send it.
      if (m.id !== undefined && initializeIds.delete(m.id) && m.result?.protocolVersion)
        upstream.setProtocolVersion(m.result.protocolVersion);
      void local.send(message);
    };
    upstream.onerror = (error) => process.stderr.write(`upc-mcp stdio relay: ${error.message}\n`);
    local.onclose = () => void finish(0); // the transport closes when the client closes stdin
    // stdin first: its listener is what keeps this process alive while the relay runs.
    void local.start().then(() => process.stdin.resume()); // it was paused while we started
    void upstream.start();
    process.stderr.write(
      `upc-mcp stdio: the data directory belongs to the server at ${serverUrl}; relaying to it\n`,
    );
  });
}
