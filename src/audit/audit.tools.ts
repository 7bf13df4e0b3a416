import type { Kysely } from 'kysely';
import { z } from 'zod';
import { READ_ONLY } from '../core/annotations.js';
import { ToolError } from '../core/errors.js';
import type { PracticeZone } from '../core/practice-time.js';
import { defineTool } from '../core/tool.js';
import { keyedIdentifier } from './audit.sanitise.js';
import { exportEvents, phiAccessReport, searchEvents } from './audit.store.js';
import type { AuditEvent, AuditTables } from './audit.tables.js';

const isoInstant = z.iso.datetime({
  offset: true,
  message: 'must be an ISO-8601 date-time, e.g. 2026-11-01T00:00:00Z',
});

const filters = {
  actor: z.string().min(1).max(200).optional().describe('Subject (user id) of the caller'),
  patient_id: z.string().min(1).max(64).optional().describe('Only events that touched this patient'),
  tool: z.string().min(1).max(128).optional(),
  outcome: z.enum(['success', 'error', 'denied']).optional(),
  from: isoInstant.optional().describe('Inclusive start of the period'),
  to: isoInstant.optional().describe('Exclusive end of the period'),
};

const eventSchema = z.object({
  id: z.number().int(),
  occurred_at: z.string(),
  actor_subject: z.string().nullable(),
  actor_role: z.string().nullable(),
  door: z.string(),
  client: z.string().nullable(),
  ip: z.string().nullable(),
  tool: z.string(),
  parameters: z.unknown(),
  outcome: z.enum(['success', 'error', 'denied']),
  error_code: z.string().nullable(),
  patient_ids: z.array(z.string()),
  phi_accessed: z.boolean(),
  request_id: z.string(),
  latency_ms: z.number(),
  hash: z.string(),
});

function checkRange(from?: string, to?: string): void {
  if (from && to && new Date(from) >= new Date(to)) {
    throw new ToolError('INVALID_PARAMETERS', '"from" must be before "to".', {
      fields: [{ field: 'from', message: 'must be before to' }],
    });
  }
}

function publicEvent(event: AuditEvent): z.input<typeof eventSchema> {
  const { prev_hash: _prev, ...rest } = event;
  return rest;
}

/**
 * The audit tools. Times people read (search results, the PHI access report) are in the practice zone with
 * its offset; the export for a SIEM stays in UTC, the form log pipelines expect.
 */
export function auditTools(db: Kysely<AuditTables>, zone: PracticeZone, identifierKey: Buffer) {
  const searchAudit = defineTool({
    name: 'admin_search_audit',
    title: 'Search the audit log',
    description:
      'Searches the audit log of every tool call (who, what, when, which patients, outcome), newest first. ' +
      'Filter by actor, patient_id, tool, outcome and time range; page with before_id = next_before_id.',
    input: z.object({
      ...filters,
      sa_id_number: z
        .string()
        .regex(/^[0-9]{13}$/, 'must be a 13-digit SA ID number')
        .optional()
        .describe('Events whose parameters held this SA ID number (only for roles that may see SA IDs)'),
      before_id: z.number().int().positive().optional().describe('Cursor from next_before_id'),
      limit: z.number().int().min(1).max(500).default(50),
    }),
    output: z.object({
      events: z.array(eventSchema),
      count: z.number().int(),
      next_before_id: z.number().int().nullable(),
    }),
    permission: 'audit:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      {
        description: 'Denied calls today',
        parameters: { outcome: 'denied', from: '2026-11-23T00:00:00+02:00' },
      },
      { description: 'Everything that touched one patient', parameters: { patient_id: 'UPC000123' } },
    ],
    async handler(input, ctx) {
      checkRange(input.from, input.to);
      // The log keeps SA IDs as keyed hashes; a role that may see SA IDs finds events by hashing the number.
      if (input.sa_id_number && !ctx.mayView('national_id'))
        throw new ToolError(
          'FORBIDDEN',
          'Your role may not see SA ID numbers, so it may not search by them.',
        );
      const { sa_id_number, ...query } = input;
      const events = await searchEvents(db, {
        ...query,
        ...(sa_id_number ? { sa_id_hash: keyedIdentifier(sa_id_number, identifierKey) } : {}),
      });
      const last = events.at(-1);
      return {
        events: await Promise.all(
          events.map(async (event) => ({
            ...publicEvent(event),
            occurred_at: await zone.format(new Date(event.occurred_at)),
          })),
        ),
        count: events.length,
        next_before_id: events.length === input.limit && last ? last.id : null,
      };
    },
  });

  const phiReport = defineTool({
    name: 'admin_get_phi_access_report',
    title: 'PHI access report',
    description:
      "Who accessed which patients' data in a period (POPIA access review): one row per person and patient " +
      'with the number of calls, first and last access and the tools used.',
    input: z.object({ from: isoInstant, to: isoInstant, patient_id: filters.patient_id }),
    output: z.object({
      rows: z.array(
        z.object({
          actor_subject: z.string(),
          actor_role: z.string().nullable(),
          patient_id: z.string(),
          calls: z.number().int(),
          first_at: z.string(),
          last_at: z.string(),
          tools: z.array(z.string()),
        }),
      ),
      count: z.number().int(),
    }),
    permission: 'audit:read',
    annotations: READ_ONLY,
    phi: true,
    async handler(input) {
      checkRange(input.from, input.to);
      const rows = await phiAccessReport(db, input);
      const shown = await Promise.all(
        rows.map(async (row) => ({
          ...row,
          first_at: await zone.format(new Date(row.first_at)),
          last_at: await zone.format(new Date(row.last_at)),
        })),
      );
      return { rows: shown, count: shown.length };
    },
  });

  const exportAudit = defineTool({
    name: 'admin_export_audit',
    title: 'Export the audit log',
    description:
      'Exports audit events in a period as CSV or JSON Lines for a SIEM, oldest first, up to 10,000 per call; ' +
      'continue with after_id = next_after_id.',
    input: z.object({
      ...filters,
      format: z.enum(['jsonl', 'csv']).default('jsonl'),
      after_id: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(10_000).default(10_000),
    }),
    output: z.object({
      format: z.enum(['jsonl', 'csv']),
      content: z.string(),
      count: z.number().int(),
      next_after_id: z.number().int().nullable(),
    }),
    permission: 'audit:read',
    annotations: READ_ONLY,
    phi: true,
    async handler(input) {
      checkRange(input.from, input.to);
      const events = await exportEvents(db, input, input.after_id, input.limit);
      const content =
        input.format === 'csv' ? toCsv(events) : events.map((e) => JSON.stringify(e)).join('\n');
      const last = events.at(-1);
      return {
        format: input.format,
        content,
        count: events.length,
        next_after_id: events.length === input.limit && last ? last.id : null,
      };
    },
  });

  return [searchAudit, phiReport, exportAudit];
}

const CSV_COLUMNS: (keyof AuditEvent)[] = [
  'id',
  'occurred_at',
  'actor_subject',
  'actor_role',
  'door',
  'client',
  'ip',
  'tool',
  'outcome',
  'error_code',
  'patient_ids',
  'phi_accessed',
  'request_id',
  'latency_ms',
  'parameters',
  'prev_hash',
  'hash',
];

export function toCsv(events: AuditEvent[]): string {
  return [CSV_COLUMNS.join(','), ...csvRows(events)].join('\n');
}

export const CSV_HEADER = CSV_COLUMNS.join(',');

/** One CSV line per event, no header. */
export function csvRows(events: AuditEvent[]): string[] {
  const cell = (value: unknown): string => {
    const text =
      value === null || value === undefined
        ? ''
        : Array.isArray(value)
          ? value.join(';')
          : typeof value === 'object'
            ? JSON.stringify(value)
            : String(value);
    // Quote everything that could break a row; neutralise spreadsheet formulas (CSV injection).
    const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  return events.map((event) => CSV_COLUMNS.map((c) => cell(event[c])).join(','));
}
