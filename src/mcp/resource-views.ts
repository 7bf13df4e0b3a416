import {
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  type Resource,
  ResourceNotFoundError,
  type ResourceTemplateType,
  UriTemplate,
} from '@modelcontextprotocol/server';
import { requestFor } from '../core/caller.js';
import type { Role } from '../core/context.js';
import { errorBody, type ToolError } from '../core/errors.js';
import type { InvocationPipeline } from '../core/pipeline.js';
import type { ToolRegistry } from '../core/registry.js';
import {
  bindingsOf,
  type ResourceCatalog,
  type ResourceProvider,
  type ToolBinding,
} from '../core/resources.js';
import type { Policy } from '../security/policy.js';
import type { McpCaller } from './caller.js';

interface Compiled {
  provider: ResourceProvider;
  template: UriTemplate;
  fixed: boolean;
  /** Part name (`''` for a single-tool resource) → binding. */
  bindings: [string, ToolBinding][];
}

/** A resource as one role may read it: the bindings whose tools are registered and allowed. */
interface Offered {
  compiled: Compiled;
  bindings: [string, ToolBinding][];
}

type PartFailure = { ok: false; error: ToolError; requestId: string };
type PartOutcome = { ok: true; result: unknown } | PartFailure;

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
      .filter(({ compiled }) => compiled.fixed)
      .map(({ compiled: { provider } }) => ({
        uri: provider.uriTemplate,
        name: provider.name,
        title: provider.title,
        description: provider.description,
        mimeType: provider.mimeType,
      }));
  }

  templates(role: Role): ResourceTemplateType[] {
    return this.#offered(role)
      .filter(({ compiled }) => !compiled.fixed)
      .map(({ compiled: { provider } }) => ({
        uriTemplate: provider.uriTemplate,
        name: provider.name,
        title: provider.title,
        description: provider.description,
        mimeType: provider.mimeType,
      }));
  }

  /** Reads `uri`, or answers `undefined` when no offered provider matches it. */
  async read(caller: McpCaller, uri: string, signal: AbortSignal): Promise<ReadResourceResult | undefined> {
    for (const { compiled, bindings } of this.#offered(caller.principal.role)) {
      const variables = compiled.template.match(uri);
      if (!variables) continue;
      const flat = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
      );
      const outcomes = await Promise.all(
        bindings.map(
          async ([part, binding]) => [part, await this.#invoke(caller, binding, flat, signal)] as const,
        ),
      );
      const content =
        'parts' in compiled.provider ? combineParts(outcomes, uri) : single(outcomes[0]![1], uri);
      return { contents: [{ uri, mimeType: compiled.provider.mimeType, text: JSON.stringify(content) }] };
    }
    return undefined;
  }

  async #invoke(
    caller: McpCaller,
    binding: ToolBinding,
    variables: Record<string, string>,
    signal: AbortSignal,
  ): Promise<PartOutcome> {
    const request = requestFor(caller, 'mcp', binding.tool, binding.parameters(variables), { signal });
    const requestId = request.requestId;
    const outcome = await this.pipeline.invoke(request);
    return outcome.ok ? { ok: true, result: outcome.result } : { ok: false, error: outcome.error, requestId };
  }

  #offered(role: Role): Offered[] {
    const offered: Offered[] = [];
    for (const provider of this.catalog.list()) {
      const compiled = this.#compile(provider);
      const bindings = compiled.bindings.filter(([, binding]) => {
        const tool = this.registry.get(binding.tool);
        return tool !== undefined && this.policy.allows(role, tool.descriptor.permission);
      });
      if (bindings.length > 0) offered.push({ compiled, bindings });
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
        bindings: bindingsOf(provider),
      };
      this.#compiled.set(provider.uriTemplate, compiled);
    }
    return compiled;
  }
}

/** A single-tool resource is the tool's result; its error becomes the read's error. */
function single(outcome: PartOutcome, uri: string): unknown {
  if (outcome.ok) return outcome.result;
  throw readError(outcome, uri);
}

/**
 * A composite resource holds each part that answered; parts that could not are named under
 * `unavailable` with their error code. When no part answered, the read fails with the first part's error
 * (a patient unknown everywhere is "not found"; out of scope stays out of scope).
 */
function combineParts(
  outcomes: readonly (readonly [string, PartOutcome])[],
  uri: string,
): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  const unavailable: Record<string, { error_code: string; message: string }> = {};
  for (const [part, outcome] of outcomes) {
    if (outcome.ok) content[part] = outcome.result;
    else unavailable[part] = { error_code: outcome.error.code, message: outcome.error.message };
  }
  if (Object.keys(content).length === 0) {
    const failures = outcomes.map(([, outcome]) => outcome).filter((o): o is PartFailure => !o.ok);
    throw readError(failures.find((f) => f.error.code !== 'NOT_FOUND') ?? failures[0]!, uri);
  }
  if (Object.keys(unavailable).length > 0) content.unavailable = unavailable;
  return content;
}

function readError({ error, requestId }: PartFailure, uri: string): Error {
  if (error.code === 'NOT_FOUND') return new ResourceNotFoundError(uri, error.message);
  // Resources have no error result: the pipeline's error body travels as JSON-RPC error data.
  const code =
    error.code === 'INVALID_PARAMETERS' ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError;
  return new ProtocolError(code, error.message, errorBody(error, requestId));
}
