import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../src/core/annotations.js';
import type { DomainEvents } from '../../src/core/domain-events.js';
import { ToolError } from '../../src/core/errors.js';
import type { PracticeZone } from '../../src/core/practice-time.js';
import { type AnyTool, defineTool } from '../../src/core/tool.js';
import { insertCase, listCases } from './teaching.store.js';
import type { TeachingDb } from './teaching.tables.js';

export interface TeachingDeps {
  db: TeachingDb;
  events: DomainEvents;
  zone: PracticeZone;
}

/** The little of the RIS's `ris_get_order` answer this module needs: read through the pipeline, not RIS code. */
const orderAnswer = z.object({ order: z.object({ patient_id: z.string() }) });

const caseOutput = z.object({
  case_id: z.number().int(),
  accession_number: z.string(),
  patient_id: z.string(),
  // Named `findings`, so the field-level redaction map covers it for every role that may not see clinical text.
  findings: z.string(),
  added_by: z.string(),
  added_at: z.string(),
});

export function teachingTools(deps: TeachingDeps): AnyTool[] {
  return [
    defineTool({
      name: 'teaching_add_case',
      title: 'Add a study to the teaching file',
      description:
        'Keeps an interesting study for teaching, with what it shows. Use it when a radiologist says a case ' +
        'is worth teaching. The study must be an order you may see; each study is kept once.',
      input: z.object({
        accession_number: z.string().trim().toUpperCase().min(1).max(32),
        findings: z.string().trim().min(3, 'say what the case shows').max(500),
      }),
      output: caseOutput,
      permission: 'teaching:write',
      annotations: WRITE,
      phi: true,
      examples: [
        {
          description: 'A classic case',
          parameters: { accession_number: 'ACC00000123', findings: 'Tension pneumothorax, left.' },
        },
      ],
      async handler(input, ctx) {
        // Another module's data, as this same caller: authorised, scoped and audited like any call.
        const { order } = orderAnswer.parse(
          await ctx.invoke('ris_get_order', { accession_number: input.accession_number }),
        );
        ctx.touchPatients(order.patient_id);
        const added = await deps.db.transaction().execute(async (tx) => {
          const row = await insertCase(tx, {
            accessionNumber: input.accession_number,
            patientId: order.patient_id,
            note: input.findings,
            addedBy: ctx.principal.subject,
          });
          if (!row) return undefined;
          // Written with the change: the event exists exactly when the case does.
          await deps.events.publish(tx, {
            type: 'teaching.case.added',
            key: input.accession_number,
            payload: { case_id: row.caseId },
          });
          return row;
        });
        if (!added)
          throw new ToolError('CONFLICT', 'This study is already in the teaching file.', {
            accession_number: input.accession_number,
          });
        return {
          case_id: added.caseId,
          accession_number: input.accession_number,
          patient_id: order.patient_id,
          findings: input.findings,
          added_by: ctx.principal.subject,
          added_at: await deps.zone.format(added.addedAt),
        };
      },
    }),
    defineTool({
      name: 'teaching_list_cases',
      title: 'List teaching cases',
      description: 'The teaching file, newest first: studies kept for teaching and what each shows.',
      input: z.object({ limit: z.number().int().min(1).max(100).default(20) }),
      output: z.object({ cases: z.array(caseOutput) }),
      permission: 'teaching:read',
      annotations: READ_ONLY,
      phi: true,
      examples: [{ description: 'The latest cases', parameters: {} }],
      async handler(input, ctx) {
        const cases = await listCases(deps.db, await ctx.patientScope(), input.limit);
        ctx.touchPatients(...cases.map((c) => c.patientId));
        return {
          cases: await Promise.all(
            cases.map(async (c) => ({
              case_id: c.caseId,
              accession_number: c.accessionNumber,
              patient_id: c.patientId,
              findings: c.note,
              added_by: c.addedBy,
              added_at: await deps.zone.format(c.addedAt),
            })),
          ),
        };
      },
    }),
  ];
}
