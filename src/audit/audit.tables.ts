import type { ColumnType, Generated, Selectable } from 'kysely';

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
  /** Write calls' events, committed with their changes and moved onto the chain after commit. */
  'audit.intents': {
    id: Generated<number>;
    /** JSON text on insert, parsed JSON when read. */
    event: ColumnType<unknown, string, never>;
    created_at: Generated<Date>;
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

/** An audit event as the rest of the system sees it: the stored row, with its time as ISO-8601 text. */
export type AuditEvent = Omit<Selectable<AuditTables['audit.events']>, 'occurred_at'> & {
  occurred_at: string;
};

export const GENESIS_HASH = '0'.repeat(64);
