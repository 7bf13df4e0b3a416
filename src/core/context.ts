import type { FastifyBaseLogger } from 'fastify';
import type { Principal } from './principal.js';
import type { PatientScope } from './scope.js';

export { type Principal, ROLES, type Role } from './principal.js';

export type Door = 'rest' | 'mcp' | 'chat' | 'cli' | 'console';

export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/**
 * Everything a handler may know about its call. Handlers reach data only through their module's
 * dependencies and this context, so the chat agent acting for a user has exactly that user's rights.
 */
export interface CallContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly door: Door;
  readonly log: FastifyBaseLogger;
  /** Aborted when the caller cancels or disconnects; long handlers must pass it on. */
  readonly signal: AbortSignal;
  /** Reports progress on long work; a no-op when the door has no way to show it. */
  reportProgress(update: ProgressUpdate): void;
  /** The patients this caller may see, resolved once per call on first use. */
  patientScope(): Promise<PatientScope>;
  /** Records which patients this call touched, for the audit log. */
  touchPatients(...patientIds: string[]): void;
  /**
   * Whether this caller's role may see a kind of sensitive data (`national_id`, `clinical_text`, ...), e.g.
   * before searching by it: a search by a value the role may not see would reveal it.
   */
  mayView(kind: string): boolean;
  /**
   * Calls another tool (another module's, usually) as this same caller: through the whole pipeline, so
   * the nested call is authorised, scoped, redacted and audited like any other. Answers the tool's result
   * or throws its ToolError; a tool that needs confirmation answers CONFIRMATION_REQUIRED here too.
   */
  invoke(tool: string, parameters: Record<string, unknown>): Promise<unknown>;
}
