import { type AnyTool, assertValidToolDefinition, jsonSchemaOf, type ToolAnnotations } from './tool.js';

/** What a door publishes about a tool; computed once at registration, never per request. */
export interface ToolDescriptor {
  name: string;
  title: string;
  description: string;
  module: string;
  permission: string;
  phi: boolean;
  confirmation: boolean;
  annotations: ToolAnnotations;
  input_schema: Record<string, unknown>;
  output_schema: Record<string, unknown>;
  examples: { description: string; parameters: Record<string, unknown> }[];
}

export interface RegisteredTool {
  tool: AnyTool;
  descriptor: ToolDescriptor;
}

export class ToolRegistry {
  readonly #tools = new Map<string, RegisteredTool>();

  register(tool: AnyTool, module: string): void {
    assertValidToolDefinition(tool);
    if (this.#tools.has(tool.name)) throw new Error(`Tool "${tool.name}" is registered twice`);
    // Unknown parameters are refused, not ignored: a misspelt filter must not silently widen a search.
    const strict: AnyTool = { ...tool, module, input: tool.input.strict() };
    this.#tools.set(tool.name, { tool: strict, descriptor: describe(strict, module) });
  }

  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  list(): RegisteredTool[] {
    return [...this.#tools.values()];
  }

  /** The tools a caller may use, for any door: those whose permission the caller's grants allow. */
  listAllowed(allows: (permission: string) => boolean): RegisteredTool[] {
    return this.list().filter(({ descriptor }) => allows(descriptor.permission));
  }

  names(): string[] {
    return [...this.#tools.keys()];
  }
}

function describe(tool: AnyTool, module: string): ToolDescriptor {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    module,
    permission: tool.permission,
    phi: tool.phi,
    confirmation: tool.confirmation ?? false,
    annotations: tool.annotations,
    input_schema: jsonSchemaOf(tool.input, 'input'),
    output_schema: jsonSchemaOf(tool.output, 'output'),
    examples: (tool.examples ?? []).map((e) => ({
      description: e.description,
      parameters: e.parameters as Record<string, unknown>,
    })),
  };
}
