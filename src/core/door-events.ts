import type { FastifyBaseLogger } from 'fastify';
import type { Door, Principal } from './context.js';
import type { ErrorCode } from './errors.js';
import type { AuditSink } from './pipeline.js';

/** A request a door answered itself, before or instead of the pipeline (sign-in, a refused token). */
export interface DoorEvent {
  door: Door;
  tool: string;
  requestId: string;
  ip: string;
  client: string;
  parameters: Record<string, unknown>;
  principal?: Principal;
  outcome: 'success' | 'error' | 'denied';
  errorCode?: ErrorCode;
  durationMs: number;
  /** The Node request this event is about (marks it audited). */
  raw?: object;
}

/**
 * Audits such a request in the same shape as pipeline calls. A failed audit write is logged, not thrown:
 * these requests hand out no patient data, and the caller already has its answer.
 */
export async function recordDoorEvent(
  audit: AuditSink,
  log: FastifyBaseLogger,
  event: DoorEvent,
): Promise<void> {
  if (event.raw) markAudited(event.raw);
  await audit
    .record({
      request: {
        tool: event.tool,
        parameters: event.parameters,
        door: event.door,
        requestId: event.requestId,
        credentials: { bearer: undefined },
        client: event.client,
        ip: event.ip,
      },
      ...(event.principal ? { principal: event.principal } : {}),
      parameters: event.parameters,
      outcome: event.outcome,
      ...(event.errorCode ? { errorCode: event.errorCode } : {}),
      durationMs: event.durationMs,
    })
    .catch((error: unknown) =>
      log.error({ err: (error as Error).message, tool: event.tool }, 'audit write failed'),
    );
}

/** Who sent a request, as every door event records it (and the request itself, marked audited). */
export function requestFacts(request: {
  raw: object;
  id: string;
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}): Pick<DoorEvent, 'raw' | 'requestId' | 'ip' | 'client'> {
  const agent = request.headers['user-agent'];
  return {
    raw: request.raw,
    requestId: request.id,
    ip: request.ip,
    client: typeof agent === 'string' ? agent : 'unknown',
  };
}

/** A door's answer as an audit outcome: success, a refusal (denied) or a failure of ours (error). */
export function doorOutcome(code: ErrorCode | undefined): DoorEvent['outcome'] {
  if (!code) return 'success';
  return code === 'INTERNAL' ? 'error' : 'denied';
}

/** Requests a door has already audited (through the pipeline or as a door event). */
const audited = new WeakSet<object>();

/** Marks a request (its raw Node request) as audited, so the refusal safety net does not audit it again. */
export function markAudited(raw: object): void {
  audited.add(raw);
}

export function wasAudited(raw: object): boolean {
  return audited.has(raw);
}
