import type { CallToolResult } from '@modelcontextprotocol/server';
import { type ErrorBody, errorBody, type ToolError } from '../core/errors.js';

/**
 * A successful call: the result as `structuredContent` (checked by clients against the published output
 * schema) and the same JSON as text, for clients that only show content blocks.
 */
export function successResult(result: unknown): CallToolResult {
  if (!isPlainObject(result)) return { content: [{ type: 'text', text: JSON.stringify(result ?? null) }] };
  const images = renderedImages(result);
  if (images.length === 0) {
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
  }
  // Rendered images (e.g. pacs_get_study_preview) go out as image blocks; the text copy leaves the bytes
  // out so a model is not fed megabytes of base64 as text.
  const text = JSON.stringify(result, (key, value) =>
    key === 'data_base64' ? '[image content block]' : value,
  );
  return {
    content: [
      { type: 'text', text },
      ...images.map((image) => ({
        type: 'image' as const,
        data: image.data_base64,
        mimeType: image.mime_type,
      })),
    ],
    structuredContent: result,
  };
}

interface RenderedImage {
  mime_type: string;
  data_base64: string;
}

/** A result's `images: [{mime_type, data_base64}]`, the contract for tools that return pictures. */
function renderedImages(result: Record<string, unknown>): RenderedImage[] {
  const images = result.images;
  if (!Array.isArray(images)) return [];
  return images.filter(
    (image): image is RenderedImage =>
      isPlainObject(image) && typeof image.mime_type === 'string' && typeof image.data_base64 === 'string',
  );
}

/**
 * A domain failure as a tool result (STYLE §7): the model can read the code and act on it. The error JSON
 * goes in the text block only: `structuredContent` must match the tool's output schema, and clients that
 * check it (the MCP Inspector does, on errors too) would show a schema complaint instead of our message.
 */
export function errorResult(error: ToolError, requestId: string): CallToolResult {
  const body: ErrorBody = errorBody(error, requestId);
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }] };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
