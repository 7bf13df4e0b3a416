import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import type { PracticeZone } from '../../core/practice-time.js';
import type { PatientScopeSource } from '../../core/scope.js';
import { defineTool } from '../../core/tool.js';
import { activeAssignments, assignPatient, type SecurityTables } from '../../security/users.store.js';

/** Assignments widen a referring doctor's scope to a patient until they expire (second opinions, cover). */
export function assignmentScopeSource(db: Kysely<SecurityTables>, clock: Clock): PatientScopeSource {
  return { patientsFor: (principal) => activeAssignments(db, principal.subject, clock.now()) };
}

export function assignmentTools(db: Kysely<SecurityTables>, clock: Clock, zone: PracticeZone) {
  return [
    defineTool({
      name: 'admin_assign_patient',
      title: 'Assign a patient to a doctor',
      description:
        "Gives a referring doctor access to one patient's records until the assignment expires (e.g. a second " +
        'opinion or covering for a colleague). Re-assigning extends or shortens the expiry.',
      input: z.object({
        subject: z.string().min(1).max(200).describe("The doctor's user id (token subject)"),
        patient_id: z.string().min(1).max(64),
        days: z.number().int().min(1).max(365).default(30).describe('How long the access lasts'),
        reason: z.string().min(3).max(500).describe('Why the access is needed (kept for the audit)'),
      }),
      output: z.object({ subject: z.string(), patient_id: z.string(), expires_at: z.string() }),
      permission: 'admin:assign',
      annotations: { readOnlyHint: false, idempotentHint: true, destructiveHint: false },
      phi: true,
      async handler(input, ctx) {
        const expiresAt = new Date(clock.now().getTime() + input.days * 86_400_000);
        await assignPatient(db, {
          subject: input.subject,
          patientId: input.patient_id,
          expiresAt,
          assignedBy: ctx.principal.subject,
          reason: input.reason,
        });
        ctx.touchPatients(input.patient_id);
        return {
          subject: input.subject,
          patient_id: input.patient_id,
          expires_at: await zone.format(expiresAt),
        };
      },
    }),
  ];
}
