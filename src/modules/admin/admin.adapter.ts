import type { Adapter } from '../../core/adapter.js';
import type { AnyTool } from '../../core/tool.js';

/** Administration tools run in-process; the module is up whenever the server is. */
export function adminAdapter(tools: AnyTool[]): Adapter {
  return {
    name: 'admin',
    async initialize() {},
    async healthCheck() {
      return { ok: true };
    },
    async shutdown() {},
    tools: () => tools,
  };
}
