import type { Tool } from '@modelcontextprotocol/server';
import { VisibleTools } from '../core/caller.js';
import type { Role } from '../core/context.js';
import type { RegisteredTool, ToolDescriptor, ToolRegistry } from '../core/registry.js';
import type { Policy } from '../security/policy.js';

/** Extra arguments the MCP door accepts on top of a tool's own parameters (MCP has no headers per call). */
export const CONFIRMATION_TOKEN_ARG = 'confirmation_token';
export const IDEMPOTENCY_KEY_ARG = 'idempotency_key';

export interface CallArguments {
  parameters: Record<string, unknown>;
  confirmationToken?: string;
  idempotencyKey?: string;
}

/**
 * The registry as MCP sees it: wire `Tool` objects built once per tool, over the door-neutral list of
 * tools each role may see (core/caller.ts), so `tools/list` costs a map lookup however many requests
 * arrive.
 */
export class ToolCatalog {
  readonly #visible: VisibleTools;
  readonly #wire = new Map<string, Tool>();

  constructor(
    private readonly registry: ToolRegistry,
    policy: Pick<Policy, 'allows'>,
  ) {
    this.#visible = new VisibleTools(registry, (role, permission) => policy.allows(role, permission));
  }

  /** The tools a role may call, in registration order (deterministic, as 2026-07-28 asks). */
  listFor(role: Role): Tool[] {
    return this.#visible.forRole(role).map(({ descriptor }) => this.#wireOf(descriptor));
  }

  get(name: string): RegisteredTool | undefined {
    return this.registry.get(name);
  }

  #wireOf(descriptor: ToolDescriptor): Tool {
    let tool = this.#wire.get(descriptor.name);
    if (!tool) {
      tool = wireTool(descriptor);
      this.#wire.set(descriptor.name, tool);
    }
    return tool;
  }
}

/** Splits the door's extra arguments off before the pipeline validates the tool's own (strict) input. */
export function splitArguments(descriptor: ToolDescriptor | undefined, raw: unknown): CallArguments {
  const parameters: Record<string, unknown> =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? { ...(raw as Record<string, unknown>) }
      : {};
  const result: CallArguments = { parameters };
  if (!descriptor) return result;
  const token = parameters[CONFIRMATION_TOKEN_ARG];
  if (descriptor.confirmation && CONFIRMATION_TOKEN_ARG in parameters) {
    delete parameters[CONFIRMATION_TOKEN_ARG];
    if (typeof token === 'string' && token.length > 0) result.confirmationToken = token;
  }
  const key = parameters[IDEMPOTENCY_KEY_ARG];
  if (!descriptor.annotations.readOnlyHint && IDEMPOTENCY_KEY_ARG in parameters) {
    delete parameters[IDEMPOTENCY_KEY_ARG];
    if (typeof key === 'string' && key.length > 0) result.idempotencyKey = key;
  }
  return result;
}

/** The MCP `Tool` for a registry descriptor: its JSON Schemas plus the door's optional extra arguments. */
export function wireTool(descriptor: ToolDescriptor): Tool {
  const input = structuredClone(descriptor.input_schema) as Record<string, unknown>;
  const properties = { ...((input.properties as Record<string, unknown> | undefined) ?? {}) };
  if (descriptor.confirmation) {
    properties[CONFIRMATION_TOKEN_ARG] = {
      type: 'string',
      description:
        'Only when a first call answered CONFIRMATION_REQUIRED: the details.confirmation_token from that ' +
        'answer, sent after the person has confirmed, with exactly the same other arguments.',
    };
  }
  if (!descriptor.annotations.readOnlyHint) {
    properties[IDEMPOTENCY_KEY_ARG] = {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'Optional. Retrying with the same key returns the first result instead of acting twice.',
    };
  }
  input.properties = properties;
  input.type = 'object';
  const tool: Tool = {
    name: descriptor.name,
    title: descriptor.title,
    description: descriptor.description,
    inputSchema: input as Tool['inputSchema'],
    annotations: { title: descriptor.title, ...descriptor.annotations },
  };
  if (descriptor.output_schema.type === 'object') {
    tool.outputSchema = descriptor.output_schema as Tool['outputSchema'];
  }
  return tool;
}
