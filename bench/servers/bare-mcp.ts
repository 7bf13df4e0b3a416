/**
 * The baseline for the MCP throughput target (ARCHITECTURE §8): a bare SDK v2 server with the same trivial
 * tool, stateless (a fresh `McpServer` per request from `createMcpHandler`, as the SDK documents), no auth,
 * audit, policy or metrics. `BARE_HTTP=node` mounts it on plain `node:http` with `toNodeHandler` (the
 * SDK's documented Node mounting); `BARE_HTTP=fastify` on the SDK's `createMcpFastifyApp`, like the product.
 */
import { createServer } from 'node:http';
import { createMcpFastifyApp } from '@modelcontextprotocol/fastify';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { BENCH_TOOL } from './bench-tool.js';
import { serveChild } from './child.js';

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'bare-bench', version: '1.0.0' });
  server.registerTool(
    BENCH_TOOL,
    {
      description: 'Returns the text it was given. Benchmark-only tool.',
      inputSchema: z.object({ text: z.string().max(200) }),
      outputSchema: z.object({ text: z.string() }),
    },
    async ({ text }) => ({
      content: [{ type: 'text', text: JSON.stringify({ text }) }],
      structuredContent: { text },
    }),
  );
  return server;
});
const nodeHandler = toNodeHandler(handler);

if (process.env.BARE_HTTP === 'fastify') {
  const app = createMcpFastifyApp();
  app.post('/mcp', async (request, reply) => {
    reply.hijack();
    await nodeHandler(request.raw, reply.raw, request.body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  serveChild(typeof address === 'object' && address ? address.port : 0, () => app.close());
} else {
  const server = createServer((req, res) => void nodeHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  serveChild(typeof address === 'object' && address ? address.port : 0, async () => {
    await handler.close();
    await new Promise((resolve) => server.close(resolve));
  });
}
