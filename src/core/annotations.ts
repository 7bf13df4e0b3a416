import type { ToolAnnotations } from './tool.js';

/** A read with no side effects; safe to repeat. */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, idempotentHint: true, openWorldHint: false };

/** A write inside the practice's own systems that adds or changes records without deleting any. */
export const WRITE: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};
