import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { AuditEvent, AuditTables } from './audit.tables.js';

export interface AuditQuery {
  actor?: string | undefined;
  patient_id?: string | undefined;
  tool?: string | undefined;
  outcome?: 'success' | 'error' | 'denied' | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Events whose parameters held this SA ID number, by its keyed hash (the number itself is not stored). */
  sa_id_hash?: string | undefined;
  /** Events with a smaller id than this (cursor for the next page, newest first). */
  before_id?: number | undefined;
  limit: number;
}

export function auditDb(
  // biome-ignore lint/suspicious/noExplicitAny: narrowed to the audit tables here
  db: Kysely<any>,
): Kysely<AuditTables> {
  return db.withTables<AuditTables>();
}

export type AuditFilters = Omit<AuditQuery, 'before_id' | 'limit'>;

function applyFilters<O>(
  query: SelectQueryBuilder<AuditTables, 'audit.events', O>,
  filters: AuditFilters,
): SelectQueryBuilder<AuditTables, 'audit.events', O> {
  let q = query;
  if (filters.actor) q = q.where('actor_subject', '=', filters.actor);
  if (filters.tool) q = q.where('tool', '=', filters.tool);
  if (filters.outcome) q = q.where('outcome', '=', filters.outcome);
  if (filters.patient_id) q = q.where(sql<boolean>`patient_ids @> ARRAY[${filters.patient_id}]::text[]`);
  if (filters.from) q = q.where('occurred_at', '>=', new Date(filters.from) as never);
  if (filters.to) q = q.where('occurred_at', '<', new Date(filters.to) as never);
  if (filters.sa_id_hash) q = q.where(sql<boolean>`parameters->>'sa_id_number' = ${filters.sa_id_hash}`);
  return q;
}

/** Newest first, filtered in SQL (indexes on time, actor, tool and patient ids). */
export async function searchEvents(db: Kysely<AuditTables>, query: AuditQuery): Promise<AuditEvent[]> {
  let q = applyFilters(db.selectFrom('audit.events').selectAll(), query);
  if (query.before_id) q = q.where('id', '<', query.before_id);
  const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
  return rows.map(toEvent);
}

/** Oldest first from a cursor, for export. */
export async function exportEvents(
  db: Kysely<AuditTables>,
  filters: AuditFilters,
  afterId: number,
  limit: number,
): Promise<AuditEvent[]> {
  const q = applyFilters(db.selectFrom('audit.events').selectAll(), filters).where('id', '>', afterId);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map(toEvent);
}

export interface PhiAccessRow {
  actor_subject: string;
  actor_role: string | null;
  patient_id: string;
  calls: number;
  first_at: string;
  last_at: string;
  tools: string[];
}

/** Who touched which patient's data in a period (successful PHI calls only). */
export async function phiAccessReport(
  db: Kysely<AuditTables>,
  range: { from: string; to: string; patient_id?: string | undefined },
): Promise<PhiAccessRow[]> {
  const patientFilter = range.patient_id ? sql`AND p.patient_id = ${range.patient_id}` : sql``;
  const result = await sql<{
    actor_subject: string;
    actor_role: string | null;
    patient_id: string;
    calls: number;
    first_at: Date;
    last_at: Date;
    tools: string[];
  }>`
    SELECT e.actor_subject, max(e.actor_role) AS actor_role, p.patient_id, count(*)::int AS calls,
           min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at, array_agg(DISTINCT e.tool) AS tools
    FROM audit.events e CROSS JOIN LATERAL unnest(e.patient_ids) AS p(patient_id)
    WHERE e.phi_accessed AND e.occurred_at >= ${new Date(range.from)} AND e.occurred_at < ${new Date(range.to)}
      ${patientFilter}
    GROUP BY e.actor_subject, p.patient_id
    ORDER BY p.patient_id, e.actor_subject
    LIMIT 10000`.execute(db);
  return result.rows.map((r) => ({
    ...r,
    first_at: new Date(r.first_at).toISOString(),
    last_at: new Date(r.last_at).toISOString(),
  }));
}

/** Events in id order from `afterId`, a page at a time (verification and export). */
export async function eventsAfter(
  db: Kysely<AuditTables>,
  afterId: number,
  limit: number,
): Promise<AuditEvent[]> {
  const rows = await db
    .selectFrom('audit.events')
    .selectAll()
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

function toEvent(row: Record<string, unknown>): AuditEvent {
  return {
    ...(row as unknown as AuditEvent),
    id: Number(row.id),
    occurred_at: new Date(row.occurred_at as Date).toISOString(),
  };
}
