/**
 * The RIS's reactions to other modules' domain events. The RIS imports no other module: a handler reads
 * the identifiers in the event's payload and uses the RIS's own stores. Delivery is at least once, so
 * every handler is idempotent (the compare-and-set status change does nothing the second time).
 */
import type { EventHandler } from '../../core/domain-events.js';
import { latestAppointmentFor, transitionAppointment } from './ris.appointments.store.js';
import { canTransition } from './ris.rules.js';
import type { RisDb } from './ris.tables.js';

/** A signed report moves its study's appointment from COMPLETED to REPORTED. */
export function reportedOnReportSigned(db: RisDb): EventHandler {
  return {
    name: 'ris.reported_on_report_signed',
    types: ['reporting.report.signed'],
    async handle(event, context) {
      const accessionNumber = String(event.payload.accession_number ?? event.key);
      const signedBy = typeof event.payload.signed_by === 'string' ? event.payload.signed_by : 'reporting';
      const note = `report ${String(event.payload.report_id)} version ${String(event.payload.version)} signed`;
      await db.transaction().execute(async (trx) => {
        const appointment = await latestAppointmentFor(trx, accessionNumber);
        if (!appointment) {
          context.log.warn(
            { accession_number: accessionNumber },
            'report signed for an order with no appointment',
          );
          return;
        }
        // Already there (a redelivery, or set by hand): nothing to do.
        if (appointment.status === 'REPORTED' || appointment.status === 'DELIVERED') return;
        if (!canTransition(appointment.status, 'REPORTED')) {
          context.log.warn(
            {
              accession_number: accessionNumber,
              appointment_id: appointment.appointmentId,
              status: appointment.status,
            },
            'report signed before the study was COMPLETED; the appointment is left as it is',
          );
          return;
        }
        // Compare-and-set: a concurrent change (another delivery) makes this a no-op.
        await transitionAppointment(
          trx,
          appointment.appointmentId,
          appointment.status,
          'REPORTED',
          { subject: signedBy, role: 'radiologist' },
          note,
        );
      });
    },
  };
}
