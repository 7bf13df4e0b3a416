import { z } from 'zod';
import { type AnyTool, defineTool } from '../../src/core/tool.js';

export const BENCH_TOOL = 'bench_echo';
export const BENCH_TEXT = 'hello from the load generator';

/**
 * A trivial tool for measuring the cost of the pipeline itself: echoes its input, touches no backend and
 * no patient. Registered only by the benchmark server process, never by the product.
 */
export const benchEcho: AnyTool = defineTool({
  name: BENCH_TOOL,
  title: 'Echo (benchmark)',
  description: 'Returns the text it was given. Benchmark-only tool.',
  input: z.object({ text: z.string().max(200) }),
  output: z.object({ text: z.string() }),
  permission: 'admin:read',
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  phi: false,
  async handler({ text }) {
    return { text };
  },
});
