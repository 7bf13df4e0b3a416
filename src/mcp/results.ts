import type { CallToolResult } from '@modelcontextprotocol/server';
import { type ErrorBody, errorBody, type ToolError } from '../core/errors.js';

/**
 * A successful call: the result as `structuredContent` (checked by clients against the published output
 * schema) and the same JSON as text, for clients that only show content blocks.
 */
export function successResult(result: unknown): CallToolResult {
  const text = JSON.stringify(result ?? null);
  if (isPlainObject(result)) return { content: [{ type: 'text', text }], structuredContent: result };
  return { content: [{ type: 'text', text }] };
}

/** A domain failure as a tool result (STYLE §7): the model can read the code and act on it. */
export function errorResult(error: ToolError, requestId: string): CallToolResult {
  const body: ErrorBody = errorBody(error, requestId);
  return {
    isError: true,
    content: [{ type: 'text', text: JSON.stringify(body) }],
    structuredContent: body as unknown as Record<string, unknown>,
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
