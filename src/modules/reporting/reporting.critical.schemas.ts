/** The zod shapes of critical results (docs/REPORTING.md, "Critical results"). */
import { z } from 'zod';
import { CRITICAL_OUTCOMES } from './reporting.tables.js';

const zoned = z.string().describe('ISO 8601 in the practice time zone');

export const criticalOutcome = z
  .enum(CRITICAL_OUTCOMES)
  .describe(
    'CONFIRMED: the recipient read the finding back; REACHED_NO_READBACK: told, no read-back; ' +
      'UNABLE_TO_REACH: nobody could be reached',
  );

export const communicationSchema = z.object({
  communication_id: z.number().int(),
  report_id: z.number().int(),
  report_version: z.number().int().describe('The version whose finding was communicated'),
  communicated_by: z.string().describe('Who called (the signed-in user who recorded it)'),
  communicated_by_role: z.string(),
  recipient: z.string().describe('Whom they called'),
  communicated_at: zoned.describe('Server time of the record'),
  outcome: criticalOutcome,
  finding: z
    .object({ findings: z.string(), impression: z.string() })
    .describe('Snapshot of the finding as communicated'),
});

export const criticalResultSchema = z
  .object({
    open: z.boolean().describe('True until the communication is recorded'),
    communication: communicationSchema.nullable(),
  })
  .describe(
    'The critical result: open until its communication is recorded (reporting_record_critical_communication)',
  );
