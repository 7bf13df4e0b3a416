/**
 * The one closed list of error codes every door returns. `docs/API.md` documents the same list and a test
 * fails when the two disagree. Add a code here, in `httpStatusOf` and in the docs together.
 */
export const ERROR_CODES = [
  'TOOL_NOT_FOUND',
  'INVALID_PARAMETERS',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'OUT_OF_SCOPE',
  'RATE_LIMITED',
  'CONFIRMATION_REQUIRED',
  'CONFLICT',
  'NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'OVERLOADED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Record<ErrorCode, number> = {
  TOOL_NOT_FOUND: 404,
  INVALID_PARAMETERS: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  OUT_OF_SCOPE: 403,
  RATE_LIMITED: 429,
  CONFIRMATION_REQUIRED: 409,
  CONFLICT: 409,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  OVERLOADED: 503,
  INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export type ErrorDetails = Record<string, unknown>;

/** A failure a caller can act on: stable code, a sentence for a person, optional structured details. */
export class ToolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ToolError';
  }
}

export interface FieldProblem {
  field: string;
  message: string;
  code: string;
}

/** INVALID_PARAMETERS naming each bad field, in one shape wherever it is found wrong. */
export function invalidParameters(fields: readonly FieldProblem[]): ToolError {
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new ToolError('INVALID_PARAMETERS', `Invalid parameters: ${summary}`, { fields });
}

/** INVALID_PARAMETERS for one field found wrong after schema validation. */
export function invalidField(field: string, message: string): ToolError {
  return invalidParameters([{ field, message, code: 'custom' }]);
}

export function isToolError(error: unknown): error is ToolError {
  return error instanceof ToolError;
}

/** The wire shape of an error, identical for REST bodies and MCP `structuredContent`. */
export interface ErrorBody {
  error_code: ErrorCode;
  message: string;
  request_id: string;
  details?: ErrorDetails;
}

export function errorBody(error: ToolError, requestId: string): ErrorBody {
  const body: ErrorBody = { error_code: error.code, message: error.message, request_id: requestId };
  if (error.details !== undefined) body.details = error.details;
  return body;
}
