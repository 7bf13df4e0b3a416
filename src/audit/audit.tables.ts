import type { ColumnType, Generated } from 'kysely';

export type AuditTables = {
  'audit.events': {
    id: ColumnType<number, number, never>;
    occurred_at: ColumnType<Date, string, never>;
    actor_subject: string | null;
    actor_role: string | null;
    door: string;
    client: string | null;
    ip: string | null;
    tool: string;
    /** JSON text on insert, parsed JSON when read. */
    parameters: ColumnType<unknown, string | null, never>;
    outcome: 'success' | 'error' | 'denied';
    error_code: string | null;
    patient_ids: string[];
    phi_accessed: boolean;
    request_id: string;
    latency_ms: number;
    prev_hash: string;
    hash: string;
  };
  'audit.chain_head': { singleton: Generated<boolean>; last_id: number; last_hash: string };
  'audit.seals': {
    id: Generated<number>;
    sealed_at: Generated<Date>;
    first_id: number;
    last_id: number;
    last_hash: string;
    event_count: number;
    export_sha256: string;
    export_name: string;
  };
};

/** An audit event as the rest of the system sees it. */
export interface AuditEvent {
  id: number;
  occurred_at: string;
  actor_subject: string | null;
  actor_role: string | null;
  door: string;
  client: string | null;
  ip: string | null;
  tool: string;
  parameters: unknown;
  outcome: 'success' | 'error' | 'denied';
  error_code: string | null;
  patient_ids: string[];
  phi_accessed: boolean;
  request_id: string;
  latency_ms: number;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
