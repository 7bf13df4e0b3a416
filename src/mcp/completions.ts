import type { CompleteResult } from '@modelcontextprotocol/server';
import type { ToolRegistry } from '../core/registry.js';

const MAX_VALUES = 100;

/**
 * Completion values for enumerated arguments, derived from the tools themselves: every string enum in a
 * tool's input schema (modality, status, template, ...) becomes the value set for that parameter name.
 * Nothing is listed twice in code, so a module that adds a modality adds its completion too.
 */
export class EnumCompletions {
  #version = -1;
  #values = new Map<string, string[]>();

  constructor(private readonly registry: ToolRegistry) {}

  complete(parameter: string | undefined, prefix: string): CompleteResult {
    const all = parameter ? (this.#index().get(parameter) ?? []) : [];
    const needle = prefix.toLowerCase();
    const matching = all.filter((v) => v.toLowerCase().startsWith(needle));
    return {
      completion: {
        values: matching.slice(0, MAX_VALUES),
        total: matching.length,
        hasMore: matching.length > MAX_VALUES,
      },
    };
  }

  #index(): Map<string, string[]> {
    const tools = this.registry.list();
    if (tools.length === this.#version) return this.#values;
    const sets = new Map<string, Set<string>>();
    for (const { descriptor } of tools) collect(descriptor.input_schema, sets);
    this.#values = new Map([...sets].map(([name, values]) => [name, [...values].sort()]));
    this.#version = tools.length;
    return this.#values;
  }
}

/** Walks a JSON Schema's properties (and array items) for string enums, keyed by property name. */
function collect(schema: unknown, into: Map<string, Set<string>>): void {
  if (typeof schema !== 'object' || schema === null) return;
  const properties = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  for (const [name, property] of Object.entries(properties)) {
    for (const value of enumValues(property)) {
      const set = into.get(name) ?? new Set<string>();
      set.add(value);
      into.set(name, set);
    }
    collect(property, into);
  }
}

function enumValues(property: unknown): string[] {
  if (typeof property !== 'object' || property === null) return [];
  const p = property as { enum?: unknown[]; items?: unknown; anyOf?: unknown[] };
  const own = (p.enum ?? []).filter((v): v is string => typeof v === 'string');
  const fromItems = p.items ? enumValues(p.items) : [];
  const fromUnion = (p.anyOf ?? []).flatMap(enumValues);
  return [...own, ...fromItems, ...fromUnion];
}
