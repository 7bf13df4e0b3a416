import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import type { DeadLetters } from '../../core/domain-events.js';
import { ToolError } from '../../core/errors.js';
import { defineTool } from '../../core/tool.js';

const eventId = z
  .string()
  .regex(/^[1-9][0-9]{0,17}$/, 'an event id is a positive whole number, as admin_list_dead_letters shows it')
  .describe('The event id, from admin_list_dead_letters');
const handlerName = z
  .string()
  .min(1)
  .max(200)
  .describe('The handler that failed, e.g. billing.draft_invoice_on_report_signed');

const deadLetterSchema = z.object({
  event_id: z.string(),
  type: z.string().describe('The event type, e.g. reporting.report.signed'),
  key: z.string().describe('What the event is about: an accession number, a report id'),
  handler: z.string(),
  attempts: z.number().int(),
  last_error: z.string().nullable().describe('The last failure: its kind and code, never its message'),
  occurred_at: z.iso.datetime(),
});

export function outboxTools(outbox: DeadLetters) {
  return [
    defineTool({
      name: 'admin_list_dead_letters',
      title: 'List undelivered events',
      description:
        'Lists domain events that one module could not deliver to another after every retry (dead letters): ' +
        'e.g. a signed report for which billing never drafted an invoice. Each row names the event, the ' +
        'handler that failed, how often it was tried and the kind of its last error. Use it when an ' +
        'expected follow-up did not happen, or when the dead-letter alert fires; after fixing the cause, ' +
        'send each one again with admin_retry_dead_letter.',
      input: z.object({
        limit: z.number().int().min(1).max(200).default(50).describe('At most this many, newest first'),
      }),
      output: z.object({ dead_letters: z.array(deadLetterSchema), count: z.number().int() }),
      permission: 'admin:read',
      annotations: READ_ONLY,
      phi: false,
      examples: [{ description: 'The 20 most recent dead letters', parameters: { limit: 20 } }],
      async handler(input) {
        const rows = await outbox.deadLetters({ limit: input.limit });
        return {
          dead_letters: rows.map((row) => ({
            event_id: row.eventId,
            type: row.type,
            key: row.key,
            handler: row.handler,
            attempts: row.attempts,
            last_error: row.lastError,
            occurred_at: row.occurredAt.toISOString(),
          })),
          count: rows.length,
        };
      },
    }),
    defineTool({
      name: 'admin_retry_dead_letter',
      title: 'Deliver an undelivered event again',
      description:
        'Puts one dead letter (an event a handler failed to process after every retry) back in the delivery ' +
        'queue with its attempt count reset; it is delivered again within seconds. Use it after the cause ' +
        'is fixed (the other system is back, a bad record is corrected). Handlers are idempotent, so a ' +
        'retry never does the work twice. Take event_id and handler from admin_list_dead_letters.',
      input: z.object({ event_id: eventId, handler: handlerName }),
      output: z.object({
        event_id: z.string(),
        handler: z.string(),
        status: z.literal('pending').describe('Queued again; it leaves admin_list_dead_letters'),
      }),
      permission: 'admin:write',
      annotations: WRITE,
      phi: false,
      examples: [
        {
          description: 'Retry the invoice draft for event 1042',
          parameters: { event_id: '1042', handler: 'billing.draft_invoice_on_report_signed' },
        },
      ],
      async handler(input) {
        if (!(await outbox.retryDead(input.event_id, input.handler))) {
          throw new ToolError(
            'NOT_FOUND',
            `Event ${input.event_id} has no dead delivery to handler "${input.handler}" (it may have been ` +
              'retried already). List the current ones with admin_list_dead_letters.',
            { event_id: input.event_id, handler: input.handler },
          );
        }
        return { event_id: input.event_id, handler: input.handler, status: 'pending' as const };
      },
    }),
  ];
}
