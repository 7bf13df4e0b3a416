import {
  type CallToolResult,
  createRequestStateCodec,
  type InputRequiredResult,
  isInputRequiredResult,
  ProtocolError,
  ProtocolErrorCode,
  type RequestStateCodec,
  Server,
  type ServerCapabilities,
  type Tool,
  UriTemplate,
} from '@modelcontextprotocol/server';
import type { InvocationPipeline } from '../core/pipeline.js';
import type { PromptDefinition } from '../core/prompts.js';
import type { ToolRegistry } from '../core/registry.js';
import type { ResourceCatalog } from '../core/resources.js';
import type { Policy } from '../security/policy.js';
import type { McpCaller } from './caller.js';
import type { CancellationRelay } from './cancellation-relay.js';
import { EnumCompletions } from './completions.js';
import type { FixtureSet } from './fixtures/index.js';
import { InFlightCalls } from './in-flight.js';
import { renderPrompt, wirePrompt } from './prompts.js';
import { requestFacts } from './request-context.js';
import { ResourceViews } from './resource-views.js';
import { callRegistryTool, type ToolCallDeps } from './tool-call.js';
import { ToolCatalog } from './tool-catalog.js';

export interface McpSurfaceOptions {
  registry: ToolRegistry;
  pipeline: InvocationPipeline;
  policy: Pick<Policy, 'allows'>;
  resources: ResourceCatalog;
  /** The modules' prompts; each is offered only while its tools are registered and the caller may use them. */
  prompts: readonly PromptDefinition[];
  /** HMAC key for multi-round-trip state (derived from the server's signing secret). */
  stateKey: string;
  version: string;
  fixtures?: FixtureSet;
  /** Passes 2025-era cancellations between replicas (Redis when configured); in-process otherwise. */
  cancellationRelay?: CancellationRelay;
}

const INSTRUCTIONS =
  'Tools for a radiology practice (PACS, RIS, reporting, billing). Every call is authorised by your role ' +
  'and audited. Errors carry an error_code and a next step. Tools that change clinical or financial ' +
  'records need a person to confirm first.';

/**
 * Everything the MCP door serves, built once per app: tool lists per role, resources, prompts,
 * completions and (in fixture mode) the conformance fixtures. `createServer` then makes the small
 * per-request (HTTP) or per-connection (stdio) SDK `Server` whose handlers close over this surface, so a
 * request costs a handful of closures, never a schema conversion.
 */
export class McpSurface {
  readonly #tools: ToolCatalog;
  readonly #views: ResourceViews;
  readonly #completions: EnumCompletions;
  readonly #requestState: RequestStateCodec<unknown>;
  readonly #inFlight: InFlightCalls;
  readonly #capabilities: ServerCapabilities;
  readonly #fixtureTools: Map<string, FixtureSet['tools'][number]>;
  readonly #fixtureToolList: Tool[];
  readonly #fixtureTemplates: { template: UriTemplate; fixture: FixtureSet['templates'][number] }[];

  constructor(private readonly options: McpSurfaceOptions) {
    this.#tools = new ToolCatalog(options.registry, options.policy);
    this.#views = new ResourceViews(options.resources, options.registry, options.policy, options.pipeline);
    this.#completions = new EnumCompletions(options.registry);
    this.#inFlight = new InFlightCalls(options.cancellationRelay);
    this.#requestState = createRequestStateCodec<unknown>({
      key: `mcp-request-state:${options.stateKey}`,
      ttlSeconds: 300,
      bind: (ctx) => ctx.mcpReq.method,
    });
    const fixtures = options.fixtures;
    this.#fixtureTools = new Map(fixtures?.tools.map((f) => [f.tool.name, f]) ?? []);
    this.#fixtureToolList = fixtures?.tools.map((f) => f.tool) ?? [];
    this.#fixtureTemplates =
      fixtures?.templates.map((fixture) => ({
        template: new UriTemplate(fixture.template.uriTemplate),
        fixture,
      })) ?? [];
    this.#capabilities = {
      tools: { listChanged: false },
      resources: fixtures ? { subscribe: true, listChanged: false } : { listChanged: false },
      prompts: { listChanged: false },
      completions: {},
      // Logging (deprecated in 2026-07-28) is only offered to the conformance suites; logs go to our own sink.
      ...(fixtures ? { logging: {} } : {}),
    };
  }

  /**
   * @param options.sharedCancellation HTTP only: honour `notifications/cancelled` from stateless 2025-era
   *   clients, which arrive on a different request than the call they cancel (see in-flight.ts).
   */
  createServer(caller: McpCaller, options: { sharedCancellation?: boolean } = {}): Server {
    const server = new Server(
      { name: 'upc-mcp', title: 'Ubuntu Patient Care', version: this.options.version },
      {
        capabilities: this.#capabilities,
        instructions: INSTRUCTIONS,
        requestState: { verify: (state, ctx) => this.#requestState.verify(state, ctx) },
      },
    );
    const role = caller.principal.role;
    const toolDeps: ToolCallDeps = {
      pipeline: this.options.pipeline,
      catalog: this.#tools,
      requestState: this.#requestState,
      ...(options.sharedCancellation ? { inFlight: this.#inFlight } : {}),
    };
    if (options.sharedCancellation) {
      server.setNotificationHandler('notifications/cancelled', (notification) =>
        this.#inFlight.cancel(caller.principal.subject, notification.params.requestId),
      );
    }

    server.setRequestHandler('tools/list', () => ({
      tools:
        this.#fixtureToolList.length > 0
          ? [...this.#tools.listFor(role), ...this.#fixtureToolList]
          : this.#tools.listFor(role),
    }));

    server.setRequestHandler('tools/call', async (request, ctx) => {
      const { name, arguments: args } = request.params;
      const fixture = this.#fixtureTools.get(name);
      const result: CallToolResult | InputRequiredResult = fixture
        ? await fixture.call(args ?? {}, {
            ctx,
            requestState: this.#requestState,
            facts: requestFacts(server, ctx),
          })
        : await callRegistryTool(toolDeps, caller, server, name, args, ctx);
      if (isInputRequiredResult(result)) return result;
      const advertised = this.#tools.get(name)?.descriptor.output_schema;
      return server.projectCallToolResult(result, fixture ? undefined : advertised);
    });

    server.setRequestHandler('resources/list', () => ({
      resources: [
        ...this.#views.resources(role),
        ...(this.options.fixtures?.resources.map((r) => r.resource) ?? []),
      ],
    }));

    server.setRequestHandler('resources/templates/list', () => ({
      resourceTemplates: [
        ...this.#views.templates(role),
        ...this.#fixtureTemplates.map((t) => t.fixture.template),
      ],
    }));

    server.setRequestHandler('resources/read', async (request, ctx) => {
      const uri = request.params.uri;
      const fixed = this.options.fixtures?.resources.find((r) => r.resource.uri === uri);
      if (fixed) return fixed.read();
      for (const { template, fixture } of this.#fixtureTemplates) {
        const variables = template.match(uri);
        if (variables) return fixture.read(uri, flatten(variables));
      }
      const read = await this.#views.read(caller, uri, ctx.mcpReq.signal);
      if (read) return read;
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource not found: ${uri}`, { uri });
    });

    if (this.options.fixtures) {
      // Subscriptions are a 2025-era fixture feature here: stateless serving has no stream to notify on.
      server.setRequestHandler('resources/subscribe', () => ({}));
      server.setRequestHandler('resources/unsubscribe', () => ({}));
    }

    server.setRequestHandler('prompts/list', () => ({
      prompts: [
        ...this.#promptsFor(caller).map(wirePrompt),
        ...(this.options.fixtures?.prompts.map((p) => p.prompt) ?? []),
      ],
    }));

    server.setRequestHandler('prompts/get', async (request, ctx) => {
      const { name, arguments: args = {} } = request.params;
      const fixture = this.options.fixtures?.prompts.find((p) => p.prompt.name === name);
      if (fixture)
        return fixture.get(args, { ctx, requestState: this.#requestState, facts: requestFacts(server, ctx) });
      const prompt = this.#promptsFor(caller).find((p) => p.name === name);
      if (!prompt) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
      const missing = prompt.arguments.filter((a) => a.required && !args[a.name]).map((a) => a.name);
      if (missing.length > 0) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Missing required arguments: ${missing.join(', ')}`,
        );
      }
      return renderPrompt(prompt, args);
    });

    server.setRequestHandler('completion/complete', (request) => {
      const { ref, argument } = request.params;
      if (ref.type !== 'ref/prompt') return this.#completions.complete(undefined, argument.value);
      const parameter = this.options.prompts
        .find((p) => p.name === ref.name)
        ?.arguments.find((a) => a.name === argument.name);
      return this.#completions.complete(parameter?.completeFrom, argument.value);
    });

    return server;
  }

  #promptsFor(caller: McpCaller): readonly PromptDefinition[] {
    const role = caller.principal.role;
    return this.options.prompts.filter((prompt) =>
      prompt.tools.every((name) => {
        const tool = this.options.registry.get(name)?.tool;
        return tool !== undefined && this.options.policy.allows(role, tool.permission);
      }),
    );
  }
}

function flatten(variables: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
  );
}
