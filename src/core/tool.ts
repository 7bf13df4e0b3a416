import { z } from 'zod';
import type { CallContext } from './context.js';

/** MCP tool annotations (hints for clients; never trusted for security). */
export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ToolExample<I> {
  description: string;
  parameters: I;
}

/**
 * A tool, declared once. The registry derives REST, MCP and OpenAPI from this object, so the zod schemas
 * are the single source of truth for validation and documentation.
 */
export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType> {
  /** snake_case `module_verb_noun`. */
  name: string;
  title: string;
  /** Written for a model: what it does and when to use it. */
  description: string;
  input: I;
  output: O;
  /** `module:action`, checked against the caller's role. */
  permission: string;
  annotations: ToolAnnotations;
  /** True when inputs or outputs can hold patient data; drives audit and fail-closed behaviour. */
  phi: boolean;
  /** True when a person must confirm before the call runs (sign, submit, send, cancel). */
  confirmation?: boolean;
  examples?: ToolExample<z.input<I>>[];
  /** The module that registered the tool; set by the registry. */
  module?: string;
  handler: (input: z.output<I>, ctx: CallContext) => Promise<z.input<O>>;
}

/** The registry's view of a tool whose type parameters have been erased. */
export type AnyTool = ToolDefinition<z.ZodObject, z.ZodType> & {
  // biome-ignore lint/suspicious/noExplicitAny: the pipeline validates input with `input` before calling
  handler: (input: any, ctx: CallContext) => Promise<unknown>;
};

/** Identity helper that keeps the handler's types tied to its schemas. */
export function defineTool<I extends z.ZodObject, O extends z.ZodType>(tool: ToolDefinition<I, O>): AnyTool {
  return tool as unknown as AnyTool;
}

const TOOL_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;
const PERMISSION = /^[a-z_]+:[a-z_*]+$/;

export function assertValidToolDefinition(tool: AnyTool): void {
  if (!TOOL_NAME.test(tool.name))
    throw new Error(`Tool name "${tool.name}" must be snake_case module_verb_noun`);
  if (!PERMISSION.test(tool.permission)) {
    throw new Error(`Tool "${tool.name}" has permission "${tool.permission}"; expected module:action`);
  }
  for (const key of Object.keys(tool.input.shape)) {
    if (!/^[a-z][a-z0-9_]*$/.test(key))
      throw new Error(`Tool "${tool.name}" parameter "${key}" must be snake_case`);
  }
  for (const example of tool.examples ?? []) {
    const parsed = tool.input.safeParse(example.parameters);
    if (!parsed.success) throw new Error(`Tool "${tool.name}" example "${example.description}" is invalid`);
  }
}

/** JSON Schema (draft 2020-12) for a zod schema, as the doors publish it. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}
