import type { Door, ProgressUpdate, Role } from './context.js';
import type { ConfirmationPrompt, Credentials, InvocationRequest } from './pipeline.js';
import type { RegisteredTool, ToolRegistry } from './registry.js';

/**
 * Who is on the other end of a door, established before any call is read: an HTTP request (bearer token),
 * an MCP connection (a principal already authenticated), the chat agent acting for its user, or a tool
 * acting for its own caller (`ctx.invoke`). Every door builds its pipeline calls from one of these with
 * `requestFor`, so no door assembles an InvocationRequest by hand.
 */
export interface Caller {
  credentials: Credentials;
  /** A request id for each pipeline call: the HTTP request's, or a fresh one per message. */
  nextRequestId(): string;
  /** User agent or client name, for audit. */
  client?: string | undefined;
  ip?: string | undefined;
}

/** What one call adds to its caller: cancellation, progress, retries and confirmation. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((update: ProgressUpdate) => void) | undefined;
  idempotencyKey?: string | undefined;
  confirmationToken?: string | undefined;
  confirm?: ((prompt: ConfirmationPrompt) => Promise<boolean>) | undefined;
  /** How this door takes a confirmation token back, for the CONFIRMATION_REQUIRED message. */
  confirmHow?: string | undefined;
}

/** The one way any door turns "this caller calls this tool" into a pipeline request. */
export function requestFor(
  caller: Caller,
  door: Door,
  tool: string,
  parameters: unknown,
  options: CallOptions = {},
): InvocationRequest {
  const request: InvocationRequest = {
    tool,
    parameters,
    door,
    requestId: caller.nextRequestId(),
    credentials: caller.credentials,
  };
  if (caller.client) request.client = caller.client;
  if (caller.ip) request.ip = caller.ip;
  if (options.signal) request.signal = options.signal;
  if (options.onProgress) request.onProgress = options.onProgress;
  if (options.idempotencyKey) request.idempotencyKey = options.idempotencyKey;
  if (options.confirmationToken) request.confirmationToken = options.confirmationToken;
  if (options.confirm) request.confirm = options.confirm;
  if (options.confirmHow) request.confirmHow = options.confirmHow;
  return request;
}

/** A caller with one fixed request id (an HTTP request: one call per request). */
export function callerWithId(
  requestId: string,
  credentials: Credentials,
  client?: string,
  ip?: string,
): Caller {
  return { credentials, nextRequestId: () => requestId, client, ip };
}

/**
 * Which tools a role may see and call, for any door (MCP `tools/list`, the REST list, the console, the
 * chat agent's tool list): computed once per role and refreshed when the registry grows.
 */
export class VisibleTools {
  #size = -1;
  readonly #byRole = new Map<Role, RegisteredTool[]>();

  constructor(
    private readonly registry: ToolRegistry,
    private readonly allows: (role: Role, permission: string) => boolean,
  ) {}

  forRole(role: Role): RegisteredTool[] {
    const size = this.registry.names().length;
    if (size !== this.#size) {
      this.#byRole.clear();
      this.#size = size;
    }
    let tools = this.#byRole.get(role);
    if (!tools) {
      tools = this.registry.listAllowed((permission) => this.allows(role, permission));
      this.#byRole.set(role, tools);
    }
    return tools;
  }
}
