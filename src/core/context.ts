import type { FastifyBaseLogger } from 'fastify';
import type { PatientScope } from './scope.js';

/** The clinical roles of ARCHITECTURE §6. */
export const ROLES = [
  'admin',
  'radiologist',
  'radiographer',
  'receptionist',
  'transcriptionist',
  'billing_clerk',
  'referring_doctor',
  'auditor',
] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, established once by authentication and never widened afterwards. */
export interface Principal {
  subject: string;
  role: Role;
  /** Explicit patient scope from the token (`patients` claim); undefined means "no explicit list". */
  patients?: readonly string[];
  /** The token's id (`jti`) when it has one, for audit. */
  tokenId?: string;
}

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
}
