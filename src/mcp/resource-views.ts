import {
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  type Resource,
  ResourceNotFoundError,
  type ResourceTemplateType,
  UriTemplate,
} from '@modelcontextprotocol/server';
import type { Role } from '../core/context.js';
import { errorBody } from '../core/errors.js';
import type { InvocationPipeline } from '../core/pipeline.js';
import type { ToolRegistry } from '../core/registry.js';
import type { ResourceCatalog, ResourceProvider } from '../core/resources.js';
import type { Policy } from '../security/policy.js';
import type { McpCaller } from './caller.js';

interface Compiled {
  provider: ResourceProvider;
  template: UriTemplate;
  fixed: boolean;
}

/**
 * MCP resources over the resource catalog. A provider is offered only when its backing tool is registered
 * and the caller's role may use it; reading runs that tool through the pipeline, so the resource has the
 * tool's permission, patient scope, redaction and audit.
 */
export class ResourceViews {
  readonly #compiled = new Map<string, Compiled>();

  constructor(
    private readonly catalog: ResourceCatalog,
    private readonly registry: ToolRegistry,
    private readonly policy: Pick<Policy, 'allows'>,
    private readonly pipeline: InvocationPipeline,
  ) {}

  /** Fixed-URI resources (e.g. `worklist://today`). */
  resources(role: Role): Resource[] {
    return this.#offered(role)
      .filter((c) => c.fixed)
      .map(({ provider }) => ({
        uri: provider.uriTemplate,
        name: provider.name,
        title: provider.title,
        description: provider.description,
        mimeType: provider.mimeType,
      }));
  }

  templates(role: Role): ResourceTemplateType[] {
    return this.#offered(role)
      .filter((c) => !c.fixed)
      .map(({ provider }) => ({
        uriTemplate: provider.uriTemplate,
        name: provider.name,
        title: provider.title,
        description: provider.description,
        mimeType: provider.mimeType,
      }));
  }

  /** Reads `uri`, or answers `undefined` when no offered provider matches it. */
  async read(caller: McpCaller, uri: string, signal: AbortSignal): Promise<ReadResourceResult | undefined> {
    for (const compiled of this.#offered(caller.principal.role)) {
      const variables = compiled.template.match(uri);
      if (!variables) continue;
      const flat = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
      );
      const requestId = caller.nextRequestId();
      const outcome = await this.pipeline.invoke({
        tool: compiled.provider.tool,
        parameters: compiled.provider.parameters(flat),
        door: 'mcp',
        requestId,
        credentials: { principal: caller.principal },
        signal,
        ...(caller.client ? { client: caller.client } : {}),
        ...(caller.ip ? { ip: caller.ip } : {}),
      });
      if (outcome.ok) {
        return {
          contents: [{ uri, mimeType: compiled.provider.mimeType, text: JSON.stringify(outcome.result) }],
        };
      }
      if (outcome.error.code === 'NOT_FOUND') throw new ResourceNotFoundError(uri, outcome.error.message);
      // Resources have no error result: the pipeline's error body travels as JSON-RPC error data.
      const code =
        outcome.error.code === 'INVALID_PARAMETERS'
          ? ProtocolErrorCode.InvalidParams
          : ProtocolErrorCode.InternalError;
      throw new ProtocolError(code, outcome.error.message, errorBody(outcome.error, requestId));
    }
    return undefined;
  }

  #offered(role: Role): Compiled[] {
    const offered: Compiled[] = [];
    for (const provider of this.catalog.list()) {
      const tool = this.registry.get(provider.tool);
      if (!tool || !this.policy.allows(role, tool.descriptor.permission)) continue;
      offered.push(this.#compile(provider));
    }
    return offered;
  }

  #compile(provider: ResourceProvider): Compiled {
    let compiled = this.#compiled.get(provider.uriTemplate);
    if (!compiled || compiled.provider !== provider) {
      compiled = {
        provider,
        template: new UriTemplate(provider.uriTemplate),
        fixed: !provider.uriTemplate.includes('{'),
      };
      this.#compiled.set(provider.uriTemplate, compiled);
    }
    return compiled;
  }
}
