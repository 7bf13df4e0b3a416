/** RIS scheduling: book, move, cancel, the day's worklist, and the study status state machine. */
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import { ToolError } from '../../core/errors.js';
import {
  addDays,
  isoWeekdayOf,
  localParts,
  localToInstant,
  minutesToClock,
  parseCallerTime,
  spokenDate,
  spokenTime,
  toZonedIso,
} from '../../core/practice-time.js';
import type { AnyTool } from '../../core/tool.js';
import { defineTool } from '../../core/tool.js';
import { actorOf, appointmentInScope, orderInScope, type RisDeps } from './ris.access.js';
import { type Appointment, getAppointment, transitionAppointment } from './ris.appointments.store.js';
import { book } from './ris.booking.js';
import { closedDay, opensOn, WEEKDAY_NAMES } from './ris.calendar.js';
import { calendarBetween, workingRooms } from './ris.closures.store.js';
import { getOrder } from './ris.orders.store.js';
import { appointmentOut, worklistItemOut } from './ris.output.js';
import { getPatient } from './ris.patients.store.js';
import { canReschedule, canTransition, notBeforeAppointmentDay, TRANSITIONS } from './ris.rules.js';
import {
  cancelInput,
  rescheduleInput,
  scheduleInput,
  scheduleOutput,
  statusOutput,
  updateStatusInput,
  worklistInput,
  worklistOutput,
} from './ris.schemas.js';
import type { StudyStatus } from './ris.tables.js';
import { worklist } from './ris.worklist.store.js';

export function scheduleTools(deps: RisDeps): AnyTool[] {
  const schedule = defineTool({
    name: 'ris_schedule_appointment',
    title: 'Schedule an appointment',
    description:
      'Books an order into a room of its modality: the requested start_time if it is free and within ' +
      'opening hours, otherwise the next free slot (or CONFLICT naming the next free time when ' +
      'if_taken is "fail"). Without start_time it books the earliest free slot; stat orders are booked ' +
      'today at the earliest free minute, urgent within 2 days. Never double-books a room.',
    input: scheduleInput,
    output: scheduleOutput,
    permission: 'ris:schedule',
    annotations: WRITE,
    phi: true,
    examples: [
      {
        description: 'A requested time, local to the practice',
        parameters: { accession_number: 'ACC00000123', start_time: '2026-03-02T10:30', room: 'CT-1' },
      },
      { description: 'Earliest free slot in any room', parameters: { accession_number: 'ACC00000123' } },
    ],
    async handler(input, ctx) {
      const order = await orderInScope(deps, ctx, input.accession_number);
      const tz = await deps.timeZone();
      const requested = input.start_time ? parseCallerTime(input.start_time, tz) : undefined;
      const booked = await book(deps.db, {
        order,
        requestedStart: requested,
        room: input.room,
        ifTaken: input.if_taken,
        now: deps.now(),
        timeZone: tz,
        actor: actorOf(ctx),
      });
      return bookingResult(await mustGet(deps, booked.appointmentId), requested, tz);
    },
  });

  const reschedule = defineTool({
    name: 'ris_reschedule_appointment',
    title: 'Move an appointment',
    description:
      'Moves a BOOKED appointment to a new start_time (same rules as scheduling: the requested time if ' +
      'free, else the next free slot, or CONFLICT with if_taken "fail"). The old time is freed in the ' +
      'same transaction. Appointments that have started cannot move.',
    input: rescheduleInput,
    output: scheduleOutput,
    permission: 'ris:schedule',
    annotations: WRITE,
    phi: true,
    examples: [
      {
        description: 'Patient asked for the afternoon',
        parameters: { appointment_id: 42, start_time: '2026-03-02T14:00+02:00', reason: 'Patient request' },
      },
    ],
    async handler(input, ctx) {
      const appointment = await appointmentInScope(deps, ctx, input.appointment_id);
      if (!canReschedule(appointment.status)) {
        throw new ToolError(
          'CONFLICT',
          `Appointment ${appointment.appointmentId} is ${appointment.status}; only BOOKED appointments can be moved.`,
          { appointment_id: appointment.appointmentId, status: appointment.status },
        );
      }
      const order = await orderInScope(deps, ctx, appointment.accessionNumber);
      const tz = await deps.timeZone();
      const requested = parseCallerTime(input.start_time, tz);
      const from = `${toZonedIso(appointment.start, tz)} in ${appointment.room}`;
      await book(deps.db, {
        order,
        requestedStart: requested,
        room: input.room,
        ifTaken: input.if_taken,
        now: deps.now(),
        timeZone: tz,
        actor: actorOf(ctx),
        moving: {
          appointmentId: appointment.appointmentId,
          note: `moved from ${from}${input.reason ? `: ${input.reason}` : ''}`,
        },
      });
      return bookingResult(await mustGet(deps, appointment.appointmentId), requested, tz);
    },
  });

  const cancel = defineTool({
    name: 'ris_cancel_appointment',
    title: 'Cancel an appointment',
    description:
      'Cancels a BOOKED or REGISTERED appointment and frees its slot; the order stays and can be booked ' +
      'again. Needs confirmation: show the person the appointment first.',
    input: cancelInput,
    output: statusOutput,
    permission: 'ris:cancel',
    annotations: { ...WRITE, destructiveHint: true },
    phi: true,
    confirmation: true,
    examples: [
      { description: 'Patient cancelled', parameters: { appointment_id: 42, reason: 'Patient unwell' } },
    ],
    async describeAction(input, ctx) {
      const appointment = await appointmentInScope(deps, ctx, input.appointment_id);
      if (!canTransition(appointment.status, 'CANCELLED')) throw illegalTransition(appointment, 'CANCELLED');
      const [patient, order] = await Promise.all([
        getPatient(deps.db, appointment.patientId),
        getOrder(deps.db, appointment.accessionNumber),
      ]);
      const who = patient
        ? `${patient.givenNames} ${patient.familyName}'s`
        : `patient ${appointment.patientId}'s`;
      const what = order?.procedureDescription ?? appointment.modality;
      const when = spokenTime(appointment.start, await deps.timeZone());
      return (
        `Cancel ${who} ${what} on ${when} in ${appointment.room} (appointment ${appointment.appointmentId}, ` +
        `${appointment.accessionNumber}); reason: ${input.reason}. The slot is freed; the order stays and can be booked again.`
      );
    },
    async handler(input, ctx) {
      return changeStatus(deps, ctx, input.appointment_id, 'CANCELLED', input.reason);
    },
  });

  const updateStatus = defineTool({
    name: 'ris_update_study_status',
    title: 'Update study status',
    description:
      'Moves an appointment through the study workflow: BOOKED → REGISTERED (patient arrived) → ' +
      'IN_PROGRESS → COMPLETED → REPORTED → DELIVERED, or BOOKED → NO_SHOW. An illegal step answers ' +
      'CONFLICT naming the allowed ones. Each status is set by the roles the policy grants it to ' +
      '(the front desk REGISTERED and NO_SHOW, radiographers IN_PROGRESS and COMPLETED, radiologists ' +
      "REPORTED); IN_PROGRESS and COMPLETED are refused before the appointment's day unless an " +
      'administrator gives a reason. Every change is recorded with who and when. Cancel with ' +
      'ris_cancel_appointment.',
    input: updateStatusInput,
    output: statusOutput,
    permission: 'ris:update_status',
    // Who may set which status is policy data: ris:status_<status>; the early override ris:status_override.
    // A status no step leads to (BOOKED) needs no right: it is refused as an illegal step (CONFLICT).
    inputPermissions: (input) => [
      ...(REACHABLE.has(input.status)
        ? [
            {
              permission: `ris:status_${input.status.toLowerCase()}`,
              action: `set an appointment to ${input.status}`,
            },
          ]
        : []),
      ...(input.reason !== undefined
        ? [{ permission: 'ris:status_override', action: 'override the appointment-day rule (reason)' }]
        : []),
    ],
    annotations: WRITE,
    phi: true,
    examples: [
      { description: 'Patient has arrived', parameters: { appointment_id: 42, status: 'REGISTERED' } },
      {
        description: "An administrator records a scan done before the appointment's day",
        parameters: {
          appointment_id: 42,
          status: 'IN_PROGRESS',
          reason: 'Patient came in a day early; slot free, radiologist agreed',
        },
      },
    ],
    async handler(input, ctx) {
      return changeStatus(deps, ctx, input.appointment_id, input.status, input.note ?? null, input.reason);
    },
  });

  const getWorklist = defineTool({
    name: 'ris_get_worklist',
    title: 'Day worklist',
    description:
      "A day's appointments (default today, practice time) in time order, stat before urgent before " +
      'routine at the same time; filter by modality, room or status. Use it for "what is on CT-1 today?".',
    input: worklistInput,
    output: worklistOutput,
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      { description: "Today's worklist", parameters: {} },
      { description: 'CT rooms on one day', parameters: { date: '2026-03-02', modality: 'CT' } },
    ],
    async handler(input, ctx) {
      const tz = await deps.timeZone();
      const date = input.date ?? localParts(deps.now(), tz).date;
      const entries = await worklist(
        deps.db,
        {
          from: localToInstant(date, 0, tz),
          to: localToInstant(addDays(date, 1), 0, tz),
          ...(input.modality ? { modality: input.modality } : {}),
          ...(input.room ? { room: input.room } : {}),
          ...(input.status ? { status: input.status } : {}),
          limit: input.limit,
        },
        await ctx.patientScope(),
      );
      ctx.touchPatients(...new Set(entries.map((e) => e.patientId)));
      const opening = await openingOf(deps, date, input);
      return {
        date,
        time_zone: tz,
        ...opening,
        worklist: entries.map((e) => worklistItemOut(e, tz)),
        count: entries.length,
      };
    },
  });

  return [schedule, reschedule, cancel, updateStatus, getWorklist];
}

/** The statuses some step leads to. */
const REACHABLE: ReadonlySet<StudyStatus> = new Set(Object.values(TRANSITIONS).flat());

/** How far ahead a closed day's worklist looks for the next open day (a long closure, a room out of service). */
const NEXT_OPEN_LOOKAHEAD_DAYS = 366;

/**
 * Whether the day is open for the filtered rooms (opening hours, closures, public holidays and holiday
 * openings); if not, the next open day and a sentence saying why, naming the holiday or the closure.
 */
async function openingOf(
  deps: RisDeps,
  date: string,
  filter: { modality?: string | undefined; room?: string | undefined },
): Promise<{ open: boolean; next_open_date?: string; closed_notice?: string }> {
  const rooms = await workingRooms(deps.db, filter);
  const lastDay = addDays(date, NEXT_OPEN_LOOKAHEAD_DAYS);
  const calendar = await calendarBetween(deps.db, date, lastDay);
  const closed = closedDay(date, date, rooms, calendar, filter);
  if (!closed) return { open: true };
  for (let next = addDays(date, 1); next <= lastDay; next = addDays(next, 1)) {
    if (rooms.some((room) => opensOn(room, next, calendar))) {
      return {
        open: false,
        next_open_date: next,
        closed_notice: `${closed.sentence} Next open day: ${WEEKDAY_NAMES[isoWeekdayOf(next) - 1]} ${next}.`,
      };
    }
  }
  const never = rooms.some((room) => room.hours.size > 0)
    ? `No room opens in the ${NEXT_OPEN_LOOKAHEAD_DAYS} days after it.`
    : 'No room has opening hours on any day of the week.';
  return { open: false, closed_notice: `${closed.sentence} ${never}` };
}

async function changeStatus(
  deps: RisDeps,
  ctx: Parameters<AnyTool['handler']>[1],
  appointmentId: number,
  to: StudyStatus,
  note: string | null,
  /** An administrator's reason to override the appointment-day rule (the pipeline checked the right). */
  overrideReason?: string,
) {
  const appointment = await appointmentInScope(deps, ctx, appointmentId);
  const from = appointment.status;
  if (!canTransition(from, to)) throw illegalTransition(appointment, to);
  const tz = await deps.timeZone();
  const today = localParts(deps.now(), tz).date;
  const day = localParts(appointment.start, tz).date;
  let recorded = note;
  if (notBeforeAppointmentDay(to) && today < day) {
    if (overrideReason === undefined) {
      throw new ToolError(
        'CONFLICT',
        `Appointment ${appointmentId} is on ${spokenTime(appointment.start, tz)}; it cannot become ${to} before ` +
          `that day (today is ${spokenDate(today)}). If the examination really is happening today, an ` +
          'administrator can set it with a reason.',
        { appointment_id: appointmentId, status: from, appointment_date: day, today },
      );
    }
    const override = `${to} before the appointment's day (${spokenDate(day)}), overridden: ${overrideReason}`;
    recorded = note ? `${note} [${override}]` : override;
  } else if (overrideReason !== undefined) {
    recorded = note ? `${note} [reason: ${overrideReason}]` : `reason: ${overrideReason}`;
  }
  const changedAt = await deps.db
    .transaction()
    .execute((trx) => transitionAppointment(trx, appointmentId, from, to, actorOf(ctx), recorded));
  if (!changedAt) {
    // Someone else changed it between our read and our write; report what it is now.
    const now = await mustGet(deps, appointmentId);
    throw illegalTransition(now, to);
  }
  return {
    appointment: appointmentOut(await mustGet(deps, appointmentId), tz),
    previous_status: from,
    changed_by: ctx.principal.subject,
    changed_at: toZonedIso(changedAt, tz),
  };
}

function illegalTransition(appointment: Appointment, to: StudyStatus): ToolError {
  const allowed = TRANSITIONS[appointment.status];
  const next =
    allowed.length > 0
      ? `Allowed from ${appointment.status}: ${allowed.join(', ')}.`
      : `${appointment.status} is final.`;
  return new ToolError(
    'CONFLICT',
    `Appointment ${appointment.appointmentId} is ${appointment.status} and cannot become ${to}. ${next}`,
    { appointment_id: appointment.appointmentId, status: appointment.status, allowed: [...allowed] },
  );
}

async function mustGet(deps: RisDeps, appointmentId: number): Promise<Appointment> {
  const appointment = await getAppointment(deps.db, appointmentId);
  if (!appointment) throw new ToolError('NOT_FOUND', `No appointment ${appointmentId}.`);
  return appointment;
}

function bookingResult(appointment: Appointment, requested: Date | undefined, tz: string) {
  const moved = requested !== undefined && appointment.start.getTime() !== requested.getTime();
  const local = localParts(appointment.start, tz);
  const when = `${local.date} ${minutesToClock(local.minutes)} in ${appointment.room}`;
  return {
    appointment: appointmentOut(appointment, tz),
    patient_id: appointment.patientId,
    requested_start: requested ? toZonedIso(requested, tz) : null,
    moved,
    message: moved ? `The requested time was taken; booked the next free slot: ${when}.` : `Booked ${when}.`,
  };
}
