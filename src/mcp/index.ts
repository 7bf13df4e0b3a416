import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { InvocationPipeline } from '../core/pipeline.js';
import type { PromptDefinition } from '../core/prompts.js';
import type { ToolRegistry } from '../core/registry.js';
import type { ResourceCatalog } from '../core/resources.js';
import type { Policy } from '../security/policy.js';
import type { CancellationRelay } from './cancellation-relay.js';
import { conformanceFixtures } from './fixtures/index.js';
import { McpSurface } from './surface.js';

export { mcpRoutes } from './mcp.routes.js';
export { McpSurface } from './surface.js';

export interface McpDoorParts {
  config: Config;
  registry: ToolRegistry;
  pipeline: InvocationPipeline;
  policy: Pick<Policy, 'allows'>;
  resources: ResourceCatalog;
  prompts: readonly PromptDefinition[];
  /** The server's signing secret; multi-round-trip state is sealed with a key derived from it. */
  secret: string;
  version: string;
  log: FastifyBaseLogger;
  cancellationRelay?: CancellationRelay | undefined;
}

/** Builds the MCP surface once per process, and says loudly when a test-only mode is on. */
export function createMcpSurface(parts: McpDoorParts): McpSurface {
  const { config, log } = parts;
  if (config.MCP_CONFORMANCE_FIXTURES) {
    log.warn('MCP_CONFORMANCE_FIXTURES=1: conformance fixture tools are registered (test mode)');
  }
  if (config.UPC_INSECURE_NO_AUTH) {
    log.warn(
      'UPC_INSECURE_NO_AUTH=1: /mcp accepts every request WITHOUT authentication, acting as an admin. ' +
        'Never use this outside conformance tests.',
    );
  }
  return new McpSurface({
    registry: parts.registry,
    pipeline: parts.pipeline,
    policy: parts.policy,
    resources: parts.resources,
    prompts: parts.prompts,
    stateKey: parts.secret,
    version: parts.version,
    ...(config.MCP_CONFORMANCE_FIXTURES ? { fixtures: conformanceFixtures() } : {}),
    ...(parts.cancellationRelay ? { cancellationRelay: parts.cancellationRelay } : {}),
  });
}
