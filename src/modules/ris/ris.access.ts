/** What every RIS handler needs: its data, the practice clock, and scoped loading of single items. */
import type { CallContext } from '../../core/context.js';
import { ToolError } from '../../core/errors.js';
import { assertInScope, inScope, notVisible } from '../../core/scope.js';
import type { CodesApi } from '../codes/codes.api.js';
import { type Actor, type Appointment, getAppointment } from './ris.appointments.store.js';
import { getOrder, type Order } from './ris.orders.store.js';
import { getPatient, type Patient } from './ris.patients.store.js';
import type { RisDb } from './ris.tables.js';

export interface RisDeps {
  db: RisDb;
  /** Reference codes (the codes module's public API): ICD-10 rules for orders. */
  codes: CodesApi;
  /** The practice time zone from `ris.settings` (read once, then cached). */
  timeZone(): Promise<string>;
  /** The clock; tests and the benchmark may fix it. */
  now(): Date;
}

export function actorOf(ctx: CallContext): Actor {
  return { subject: ctx.principal.subject, role: ctx.principal.role };
}

/** A patient by id, in the caller's scope (the caller already knows the id, so it may be named). */
export async function patientInScope(deps: RisDeps, ctx: CallContext, patientId: string): Promise<Patient> {
  ctx.touchPatients(patientId);
  assertInScope(await ctx.patientScope(), patientId);
  const patient = await getPatient(deps.db, patientId);
  if (!patient) {
    throw new ToolError('NOT_FOUND', `No patient ${patientId}. Search with ris_search_patients.`, {
      patient_id: patientId,
    });
  }
  return patient;
}

/**
 * An order in the caller's scope. Out of scope answers OUT_OF_SCOPE without the patient id (the caller
 * asked by accession number and must not learn whose it is); the audit still records the patient.
 */
export async function orderInScope(deps: RisDeps, ctx: CallContext, accessionNumber: string): Promise<Order> {
  const order = await getOrder(deps.db, accessionNumber);
  const what = `Order ${accessionNumber}`;
  const details = { accession_number: accessionNumber };
  if (!order) {
    if ((await ctx.patientScope()).kind !== 'all') throw notVisible(what, details);
    throw new ToolError('NOT_FOUND', `No order with accession number ${accessionNumber}.`, details);
  }
  await assertPatientVisible(ctx, order.patientId, what, details);
  return order;
}

export async function appointmentInScope(
  deps: RisDeps,
  ctx: CallContext,
  appointmentId: number,
): Promise<Appointment> {
  const appointment = await getAppointment(deps.db, appointmentId);
  const what = `Appointment ${appointmentId}`;
  const details = { appointment_id: appointmentId };
  if (!appointment) {
    if ((await ctx.patientScope()).kind !== 'all') throw notVisible(what, details);
    throw new ToolError(
      'NOT_FOUND',
      `No appointment ${appointmentId}. Find it with ris_get_worklist.`,
      details,
    );
  }
  await assertPatientVisible(ctx, appointment.patientId, what, details);
  return appointment;
}

async function assertPatientVisible(
  ctx: CallContext,
  patientId: string,
  what: string,
  details: Record<string, unknown>,
) {
  ctx.touchPatients(patientId); // the audit records whose record was asked for; the caller is not told
  if (!inScope(await ctx.patientScope(), patientId)) throw notVisible(what, details);
}
