import { z } from 'zod';
import type { CallContext } from './context.js';

/** MCP tool annotations (hints for clients; never trusted for security). */
export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** A permission a call needs because of what its input asks for, with that request in words. */
export interface InputPermission {
  permission: string;
  /** Completes "The receptionist role may not ...": "set an appointment to IN_PROGRESS". */
  action: string;
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
  /**
   * Further permissions a call needs, decided by its validated input (the status a status change sets).
   * The pipeline checks them like `permission`, after validation and before the handler runs, so who may
   * do what stays in the policy file.
   */
  inputPermissions?: (input: z.output<I>) => readonly InputPermission[];
  annotations: ToolAnnotations;
  /** True when inputs or outputs can hold patient data; drives audit and fail-closed behaviour. */
  phi: boolean;
  /** True when a person must confirm before the call runs (sign, submit, send, cancel). */
  confirmation?: boolean;
  /**
   * For confirmation tools: checks the action can happen (exists, in scope, legal transition) and says in
   * words, from the data it is about to change, what will happen to whom ("Cancel Thandi Mokoena's CT head
   * on Mon 30 Nov 09:30 in CT-1."). Runs before the person is asked, so an impossible action fails first.
   */
  describeAction?: (input: z.output<I>, ctx: CallContext) => Promise<string>;
  examples?: ToolExample<z.input<I>>[];
  /** The module that registered the tool; set by the registry. */
  module?: string;
  handler: (input: z.output<I>, ctx: CallContext) => Promise<z.input<O>>;
}

/** The registry's view of a tool whose type parameters have been erased. */
export type AnyTool = ToolDefinition<z.ZodObject, z.ZodType> & {
  // biome-ignore lint/suspicious/noExplicitAny: the pipeline validates input with `input` before calling
  handler: (input: any, ctx: CallContext) => Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: as above, called with validated input
  describeAction?: (input: any, ctx: CallContext) => Promise<string>;
  // biome-ignore lint/suspicious/noExplicitAny: as above, called with validated input
  inputPermissions?: (input: any) => readonly InputPermission[];
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
  if (tool.confirmation && !tool.describeAction)
    throw new Error(
      `Tool "${tool.name}" needs confirmation, so it must describe the action (describeAction)`,
    );
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
  return portable(json) as Record<string, unknown>;
}

const SAFE_INTEGER_BOUNDS = new Set([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
const VALUE_KEYWORDS = new Set(['default', 'examples', 'enum', 'required']);
const ANNOTATION_KEYWORDS = new Set(['description', 'title', 'default', 'examples', 'deprecated']);
const ANY_JSON_TYPES = ['string', 'number', 'boolean', 'object', 'array', 'null'];

/**
 * Rewrites JSON Schema into the subset the major model providers accept in tool definitions: no type
 * arrays (`{"type": ["string", "null"]}` becomes `anyOf` of the two), `const` as a one-value `enum`, and
 * no ±2^53 bounds that zod adds to every integer (noise in the docs, "-9007199254740991" as an example).
 */
export function portable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(portable);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((key === 'minimum' || key === 'maximum') && SAFE_INTEGER_BOUNDS.has(value as number)) continue;
    if (key === 'const') {
      out.enum = [value];
      continue;
    }
    if (VALUE_KEYWORDS.has(key))
      out[key] = value; // data, not schemas
    else out[key] = key === 'properties' || key === '$defs' ? mapValues(value, portable) : portable(value);
  }
  if (Object.keys(out).every((key) => ANNOTATION_KEYWORDS.has(key))) {
    // "Any JSON value", spelled out: an empty schema constrains nothing and portability checkers flag it.
    return { ...out, anyOf: ANY_JSON_TYPES.map((type) => ({ type })) };
  }
  if (Array.isArray(out.type)) {
    const { type, ...rest } = out;
    const types = type as string[];
    const nullable = types.includes('null');
    const others = types.filter((t) => t !== 'null');
    const branches: Record<string, unknown>[] = others.map((t) => ({ ...rest, type: t }));
    if (nullable) branches.push({ type: 'null' });
    if (branches.length === 1) return branches[0];
    const shared: Record<string, unknown> = {};
    for (const key of ['description', 'title', 'default', 'examples'] as const) {
      if (key in rest) shared[key] = rest[key];
    }
    return { ...shared, anyOf: branches };
  }
  return out;
}

function mapValues(value: unknown, fn: (v: unknown) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fn(v)]));
}
