import { sha256Hex, stableStringify } from '../core/stable-json.js';
import type { AuditEvent } from './audit.tables.js';

/**
 * The hash of an event covers every stored field and its predecessor's hash, in a canonical form that is
 * rebuilt identically from the stored row (keys sorted, timestamps as ISO-8601 with milliseconds).
 */
export function eventHash(event: Omit<AuditEvent, 'hash'>): string {
  return sha256Hex(
    stableStringify({
      id: event.id,
      occurred_at: new Date(event.occurred_at).toISOString(),
      actor_subject: event.actor_subject,
      actor_role: event.actor_role,
      door: event.door,
      client: event.client,
      ip: event.ip,
      tool: event.tool,
      parameters: event.parameters ?? null,
      outcome: event.outcome,
      error_code: event.error_code,
      patient_ids: event.patient_ids,
      phi_accessed: event.phi_accessed,
      request_id: event.request_id,
      latency_ms: event.latency_ms,
      prev_hash: event.prev_hash,
    }),
  );
}
