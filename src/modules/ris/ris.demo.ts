/**
 * Synthetic RIS demo data, deterministic from a seed and the product clock: referring physicians, patients,
 * orders and a week of appointments. Everything comes from the demo practice's plan
 * (src/demo/practice-plan.ts), which the PACS demo uses too: given the PACS demo's studies, the RIS
 * registers the same patients and accession numbers with the same procedure, indication, codes and day.
 *
 * The week starts today (the product clock's day, in the practice zone) and books the open days among the
 * next seven: days a room has hours and the practice calendar does not close (public holidays, closures).
 * Priorities follow `ris.priority_rules`: an order is placed before its appointment and before now, stat
 * orders the same day (so they are booked today, never on another day), urgent ones within the urgent
 * horizon, routine ones within the routine horizon. When today is closed there are no stat orders: what
 * would have been one is booked on the next open day as urgent.
 *
 * Re-running adds nothing for the same seed and day (existing orders are left alone); on a later day it
 * adds only what does not clash with the appointments already there.
 */
import {
  addDays,
  isoWeekdayOf,
  localParts,
  localToInstant,
  parseCallerTime,
} from '../../core/practice-time.js';
import {
  DEMO_PHYSICIANS,
  type DemoIndication,
  type DemoProcedure,
  demoPatient,
  demoPatientById,
  demoProcedure,
  demoRng,
  GENERIC_INDICATION,
  indicationsFor,
  type PatientFacts,
  physicianIndexOf,
  pick,
  prioritiesFor,
  weekAccessionBase,
} from '../../demo/practice-plan.js';
import type { Rng } from '../../dicom/synthetic.js';
import type { Actor, NewAppointment } from './ris.appointments.store.js';
import { opensOn, type PracticeCalendar } from './ris.calendar.js';
import { calendarBetween } from './ris.closures.store.js';
import {
  advanceSequences,
  bulkInsertAppointments,
  bulkInsertOrders,
  bulkInsertPatients,
  existingAccessions,
  liveAppointmentsBetween,
  patientFacts,
} from './ris.demo.store.js';
import type { NewOrder } from './ris.orders.store.js';
import type { NewPatient } from './ris.patients.store.js';
import {
  getPriorityRule,
  listProcedures,
  listRooms,
  type NewPhysician,
  type PriorityRule,
  type Procedure,
  upsertPhysician,
} from './ris.reference.store.js';
import { luhnCheckDigit, type RoomSchedule } from './ris.rules.js';
import { PRIORITIES, type Priority, type RisDb, type Sex, type StudyStatus } from './ris.tables.js';

/** A study as the PACS demo describes it (DICOM shapes: Family^Given, YYYYMMDD, HHMMSS). */
export interface DemoStudy {
  patient_id: string;
  patient_name: string;
  birth_date: string;
  sex: string;
  accession_number: string;
  modality: string;
  study_date: string;
  study_description: string;
  /** DICOM PN, e.g. `Naidoo^Kavitha^^Dr`; matched to a demo physician when given. */
  referring_physician_name?: string;
  /** The appointment starts then when the room is free (default: the first free time that day). */
  study_time?: string;
  /** The RIS procedure (default: the one whose description is `study_description`, in the modality). */
  procedure_code?: string;
  clinical_indication?: string;
  icd10_codes?: readonly string[];
  priority?: Priority;
  /** When the order was placed, practice time `YYYY-MM-DDTHH:MM` (default a week before, 09:00). */
  ordered_at?: string;
}

export interface RisDemoOptions {
  seed: number;
  /** PACS studies to mirror; without them the demo generates its own patients. */
  studies?: readonly DemoStudy[];
  /** Demo patients to book the week for (default 60); PACS patients are booked too. */
  patients?: number;
  /** First day of the week of appointments, YYYY-MM-DD practice time (default today). */
  startDate?: string;
  /** Calendar days from `startDate` (default 7); closed days among them are skipped. */
  days?: number;
  /** Share of grid slots booked, 0..1 (default 0.6). */
  fill?: number;
  timeZone?: string;
  now?: Date;
}

export interface RisDemoReport {
  physicians: number;
  patients: number;
  orders: number;
  appointments: number;
}

const ACTOR: Actor = { subject: 'demo-seed', role: 'admin' };

const PHYSICIANS: readonly NewPhysician[] = DEMO_PHYSICIANS.map((p, i) => ({
  practiceNumber: `05${String(10_001 + i * 37).padStart(5, '0')}`,
  hpcsaNumber: `MP0${String(512_340 + i * 11).padStart(6, '0')}`,
  familyName: p.familyName,
  givenNames: p.givenNames,
  phone: `+27 11 555 ${String(1000 + i).slice(-4)}`,
  email: `${p.userSubject}@referrers.example`,
  userSubject: p.userSubject,
}));

const SCHEMES = ['Discovery Health', 'Momentum Health', 'Bonitas', 'GEMS', 'Bestmed'];

type Room = RoomSchedule & { modality: string };

/** A RIS procedure the plan knows: the row (duration) and the plan's entry (body part, indications). */
interface BookableProcedure {
  row: Procedure;
  plan: DemoProcedure;
}

/** A patient the demo books, with what the fitting rules need. */
interface DemoPerson extends PatientFacts {
  patientId: string;
}

export async function seedRisDemo(db: RisDb, options: RisDemoOptions): Promise<RisDemoReport> {
  const tz = options.timeZone ?? 'Africa/Johannesburg';
  const now = options.now ?? new Date();
  const today = localParts(now, tz).date;
  const physicianIds: number[] = [];
  for (const p of PHYSICIANS) physicianIds.push(await upsertPhysician(db, p));
  // Only procedures the plan describes: a practice's own rows have no indications to draw from.
  const procedures = new Map<string, BookableProcedure>();
  for (const row of await listProcedures(db)) {
    const plan = demoProcedure(row.procedureCode);
    if (plan && plan.modality === row.modality) procedures.set(row.procedureCode, { row, plan });
  }
  const rooms = await listRooms(db);
  const rules = {
    stat: await getPriorityRule(db, 'stat'),
    urgent: await getPriorityRule(db, 'urgent'),
    routine: await getPriorityRule(db, 'routine'),
  };

  const studies = options.studies ?? [];
  const planned = Array.from({ length: options.patients ?? 60 }, (_, i) => demoPatient(options.seed, i));
  const patients = new Map<string, NewPatient & { facts: DemoPerson }>();
  for (const p of planned) patients.set(p.patientId, planPatientRow(options.seed, p));
  for (const s of studies) {
    if (patients.has(s.patient_id)) continue;
    const p = demoPatientById(options.seed, s.patient_id);
    const same = p && `${p.familyName}^${p.givenNames}` === s.patient_name && p.sex === s.sex;
    patients.set(s.patient_id, same ? planPatientRow(options.seed, p) : studyPatientRow(s));
  }
  const patientCount = await bulkInsertPatients(db, [...patients.values()]);
  // A patient id already taken by someone else (registered before the demo) gets no demo orders.
  const stored = await patientFacts(db, [...patients.keys()]);
  const people = [...patients.values()]
    .map((p) => p.facts)
    .filter(
      (p) => stored.get(p.patientId)?.sex === p.sex && stored.get(p.patientId)?.birthDate === p.birthDate,
    );

  const startDate = options.startDate ?? today;
  const days = options.days ?? 7;
  const studyDays = studies.map((s) => isoDate(s.study_date));
  const firstDay = [startDate, ...studyDays].sort()[0]!;
  const lastDay = [addDays(startDate, days), ...studyDays].sort().at(-1)!;
  const calendar = await calendarBetween(db, firstDay, lastDay);

  const plan = new WeekPlan({
    seed: options.seed,
    tz,
    now,
    today,
    physicianIds,
    procedures: [...procedures.values()],
    rooms,
    rules,
    calendar,
  });
  const byId = new Map(people.map((p) => [p.patientId, p]));
  for (const study of studies) {
    const person = byId.get(study.patient_id);
    if (person) plan.addPastStudy(study, person);
  }
  if (people.length > 0) plan.addWeek(startDate, days, options.fill ?? 0.6, people);

  // Orders already there (an earlier run) stay as they are; new ones must not clash with their bookings.
  const existing = await existingAccessions(
    db,
    plan.orders.map((o) => o.accessionNumber),
  );
  const clashes = await clashingAccessions(db, plan.appointments);
  const orders = plan.orders.filter(
    (o) => !existing.has(o.accessionNumber) && !clashes.has(o.accessionNumber),
  );
  const newOrders = await bulkInsertOrders(db, orders);
  const appointments = plan.appointments.filter((a) => newOrders.has(a.accessionNumber));
  const appointmentCount = await bulkInsertAppointments(db, appointments);
  await advanceSequences(db);
  return {
    physicians: physicianIds.length,
    patients: patientCount,
    orders: newOrders.size,
    appointments: appointmentCount,
  };
}

/** Planned appointments that overlap one already in the database (from a run on an earlier day). */
async function clashingAccessions(db: RisDb, planned: readonly NewAppointment[]): Promise<Set<string>> {
  const clashes = new Set<string>();
  if (planned.length === 0) return clashes;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const a of planned) {
    from = Math.min(from, a.start.getTime());
    to = Math.max(to, a.end.getTime());
  }
  const taken = await liveAppointmentsBetween(db, new Date(from), new Date(to));
  if (taken.length === 0) return clashes;
  // By room and UTC day of the start (an appointment is shorter than a day: look at the day before too).
  const bucket = (roomId: number, ms: number) => `${roomId}/${Math.floor(ms / DAY_MS)}`;
  const byBucket = new Map<string, { start: Date; end: Date }[]>();
  for (const t of taken) {
    const key = bucket(t.roomId, t.start.getTime());
    byBucket.set(key, [...(byBucket.get(key) ?? []), t]);
  }
  for (const a of planned) {
    const ms = a.start.getTime();
    const near = [
      ...(byBucket.get(bucket(a.roomId, ms)) ?? []),
      ...(byBucket.get(bucket(a.roomId, ms - DAY_MS)) ?? []),
    ];
    if (near.some((t) => t.start < a.end && a.start < t.end)) clashes.add(a.accessionNumber);
  }
  return clashes;
}

// ---------------------------------------------------------------------------------------------------------
// Patients
// ---------------------------------------------------------------------------------------------------------

/** A plan patient as a RIS row, with the details only the RIS keeps (phone, SA ID, medical aid). */
function planPatientRow(seed: number, p: ReturnType<typeof demoPatient>): NewPatient & { facts: DemoPerson } {
  const rng = demoRng(seed, `patient-details/${p.index}`);
  const hasAid = rng() < 0.8;
  return {
    patientId: p.patientId,
    familyName: p.familyName,
    givenNames: p.givenNames,
    birthDate: p.birthDate,
    sex: p.sex,
    phone: `+27 8${Math.floor(rng() * 3) + 1} 555 ${String(Math.floor(rng() * 10_000)).padStart(4, '0')}`,
    saIdNumber: rng() < 0.7 ? demoSaId(p.birthDate, p.sex, p.index) : undefined,
    medicalAidScheme: hasAid ? pick(rng, SCHEMES) : undefined,
    medicalAidNumber: hasAid ? `M${String(Math.floor(rng() * 1e9)).padStart(9, '0')}` : undefined,
    createdBy: ACTOR.subject,
    facts: { patientId: p.patientId, sex: p.sex, birthDate: p.birthDate, expecting: p.expecting },
  };
}

/** A patient known only from a PACS study (not one of the plan's): what the DICOM header says. */
function studyPatientRow(s: DemoStudy): NewPatient & { facts: DemoPerson } {
  const [family = s.patient_name, ...given] = s.patient_name.split('^');
  const sex = (['M', 'F', 'O'].includes(s.sex) ? s.sex : 'O') as Sex;
  const birthDate = isoDate(s.birth_date);
  return {
    patientId: s.patient_id,
    familyName: family,
    givenNames: given.filter(Boolean).join(' ') || '-',
    birthDate,
    sex,
    createdBy: ACTOR.subject,
    facts: { patientId: s.patient_id, sex, birthDate },
  };
}

/**
 * A valid (Luhn-checked) but synthetic SA ID. The serial is the plan index, so demo numbers stay unique
 * (the birth date and serial together) whichever patients a run creates.
 */
function demoSaId(birthDate: string, sex: 'F' | 'M', serial: number): string {
  const yymmdd = birthDate.slice(2, 4) + birthDate.slice(5, 7) + birthDate.slice(8, 10);
  const partial = `${yymmdd}${String((sex === 'M' ? 5000 : 0) + (serial % 5000)).padStart(4, '0')}08`;
  return partial + luhnCheckDigit(partial);
}

/** YYYYMMDD → YYYY-MM-DD */
function isoDate(yyyymmdd: string): string {
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
}

// ---------------------------------------------------------------------------------------------------------
// The plan of orders and appointments
// ---------------------------------------------------------------------------------------------------------

interface WeekPlanInput {
  seed: number;
  tz: string;
  now: Date;
  /** The product clock's day, YYYY-MM-DD in the practice zone. */
  today: string;
  physicianIds: readonly number[];
  procedures: readonly BookableProcedure[];
  rooms: readonly Room[];
  rules: Readonly<Record<Priority, PriorityRule>>;
  calendar: PracticeCalendar;
}

/** A stat order is booked within this long of coming in (the earliest free time today). */
const STAT_WAIT_MINUTES = 180;
/** How soon before its appointment an order of each priority is placed, at the latest. */
const LEAD_MINUTES: Readonly<Record<Priority, number>> = { stat: 15, urgent: 30, routine: 60 };
/** Routine orders are placed at least a day ahead, and (when the horizon allows) up to three weeks. */
const ROUTINE_DAYS_AHEAD = { min: 1, max: 21 };
/** Referrers place orders in office hours (minutes after local midnight). */
const OFFICE = { from: 7 * 60, until: 17 * 60 };
const MINUTE = 60_000;
const DAY_MS = 86_400_000;

/** Whole days from `from` to `to` (YYYY-MM-DD), negative when `to` is earlier. */
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/**
 * Builds orders and non-overlapping appointments in memory (the database checks them again on insert): a
 * room is in one appointment at a time, and so is a patient.
 */
class WeekPlan {
  readonly orders: (NewOrder & { accessionNumber: string })[] = [];
  readonly appointments: NewAppointment[] = [];
  /** Booked intervals per room and day, and per patient and day. */
  readonly #roomBusy = new Map<string, { start: number; end: number }[]>();
  readonly #patientBusy = new Map<string, { start: number; end: number }[]>();
  #nextAccession: number;

  constructor(private readonly input: WeekPlanInput) {
    this.#nextAccession = weekAccessionBase(input.seed);
  }

  /** A PACS study: its order, and its appointment on the study's day (DELIVERED: the images exist). */
  addPastStudy(study: DemoStudy, person: DemoPerson): void {
    const { procedures, rooms, calendar, tz } = this.input;
    const procedure =
      procedures.find((p) => p.row.procedureCode === study.procedure_code) ??
      procedures.find(
        (p) =>
          p.row.modality === study.modality &&
          p.row.description.toLowerCase() === study.study_description.trim().toLowerCase(),
      );
    // A study the RIS has no procedure for is not mirrored: any other procedure would contradict the PACS.
    if (!procedure) return;
    const rng = demoRng(this.input.seed, `study/${study.accession_number}`);
    const day = isoDate(study.study_date);
    const wanted = study.study_time
      ? Number(study.study_time.slice(0, 2)) * 60 + Number(study.study_time.slice(2, 4))
      : 0;
    const duration = procedure.row.durationMinutes;
    // The wanted time, else the first free time after it, else the first free time that day.
    const rank = (minute: number) => (minute >= wanted ? minute - wanted : 24 * 60 + minute);
    const placed = rooms
      .filter((room) => room.modality === procedure.row.modality && opensOn(room, day, calendar))
      .flatMap((room) =>
        (room.hours.get(isoWeekdayOf(day)) ?? []).flatMap((w) => {
          const starts: number[] = [];
          if (wanted >= w.opens && wanted + duration <= w.closes) starts.push(wanted);
          for (let m = w.opens; m + duration <= w.closes; m += room.gridMinutes) starts.push(m);
          return starts.map((minute) => ({ room, minute }));
        }),
      )
      .filter(({ room, minute }) => this.#roomFree(room, day, minute, duration))
      .sort((a, b) => rank(a.minute) - rank(b.minute) || a.room.room.localeCompare(b.room.room))[0];

    const given = study.clinical_indication && study.icd10_codes?.length;
    const indication: DemoIndication = given
      ? { text: study.clinical_indication!, codes: study.icd10_codes! }
      : pickOr(rng, indicationsFor(procedure.plan, person, day, false), GENERIC_INDICATION);
    const start = localToInstant(day, placed?.minute ?? wanted, tz);
    this.#order(study.accession_number, person.patientId, procedure, indication, {
      priority: study.priority ?? 'routine',
      createdAt: study.ordered_at
        ? parseCallerTime(study.ordered_at, tz)
        : localToInstant(addDays(day, -7), 9 * 60, tz),
      physician: physicianIndexOf(study.referring_physician_name) ?? Math.floor(rng() * PHYSICIANS.length),
    });
    // A day with no free time left keeps the order without an appointment rather than bend the hours.
    if (placed) this.#book(study.accession_number, placed.room, person, day, start, duration, 'DELIVERED');
  }

  /** Appointments for `days` calendar days from `startDate`, on the days each room opens. */
  addWeek(startDate: string, days: number, fill: number, people: readonly DemoPerson[]): void {
    const { rooms, procedures, calendar, tz, now } = this.input;
    for (let d = 0; d < days; d++) {
      const day = addDays(startDate, d);
      for (const room of rooms) {
        if (!opensOn(room, day, calendar)) continue;
        const options = procedures.filter((p) => p.row.modality === room.modality);
        if (options.length === 0) continue;
        const rng = demoRng(this.input.seed, `week/${day}/${room.room}`);
        for (const window of room.hours.get(isoWeekdayOf(day)) ?? []) {
          let minute = window.opens;
          while (minute < window.closes) {
            const procedure = pick(rng, options);
            const duration = procedure.row.durationMinutes;
            if (minute + duration > window.closes) break;
            if (this.#roomFree(room, day, minute, duration) && rng() < fill) {
              const start = localToInstant(day, minute, tz);
              const end = new Date(start.getTime() + duration * MINUTE);
              const when = this.#orderWindows(room, day, start);
              const booking = this.#patientFor(rng, procedure, people, day, start, end, when);
              if (booking) {
                const { person, indication } = booking;
                const priority = choosePriority(rng, indication, when);
                const accession = `ACC${this.#nextAccession++}`;
                this.#order(accession, person.patientId, procedure, indication, {
                  priority,
                  createdAt:
                    placedAt(rng, when[priority]) ?? new Date(Math.min(now.getTime(), start.getTime())),
                  physician: Math.floor(rng() * PHYSICIANS.length),
                });
                this.#book(accession, room, person, day, start, duration, demoStatus(start, end, now, rng));
                minute += duration;
                continue;
              }
            }
            minute += room.gridMinutes;
          }
        }
      }
    }
  }

  /**
   * A patient free at that time, and an indication of the procedure that fits them that day and whose
   * priority an order placed by now can have (no fracture booked three weeks ahead), if one is found.
   */
  #patientFor(
    rng: Rng,
    procedure: BookableProcedure,
    people: readonly DemoPerson[],
    day: string,
    start: Date,
    end: Date,
    when: OrderWindows,
  ): { person: DemoPerson; indication: DemoIndication } | undefined {
    // Only a long benchmark range books days no order could have been placed for yet: routine ones then.
    const beyondHorizons = PRIORITIES.every((p) => when[p].length === 0);
    for (let attempt = 0; attempt < 30; attempt++) {
      const person = pick(rng, people);
      const busy = this.#patientBusy.get(`${person.patientId}/${day}`) ?? [];
      // Fifteen minutes between two appointments of one patient, to walk from one room to the next.
      const clash = busy.some(
        (b) => b.start < end.getTime() + 15 * MINUTE && start.getTime() - 15 * MINUTE < b.end,
      );
      if (clash) continue;
      const fitting = indicationsFor(procedure.plan, person, day).filter((i) =>
        beyondHorizons ? !i.urgency : possiblePriorities(i, when).length > 0,
      );
      // Most referrals are not pressing: routine indications count twice.
      const weighted = fitting.flatMap((i) => (i.urgency ? [i] : [i, i]));
      if (weighted.length > 0) return { person, indication: pick(rng, weighted) };
    }
    return undefined;
  }

  /**
   * When an order for this appointment could have been placed, per priority (`ris.priority_rules`): before
   * now and before the appointment; stat the same day (today only); urgent within the urgent horizon;
   * routine one day to three weeks ahead (within its horizon). Office hours; a stat order comes in while
   * the room is open, at most three hours before its appointment.
   */
  #orderWindows(room: Room, day: string, start: Date): OrderWindows {
    const { now, today, tz, rules } = this.input;
    const windows = (priority: Priority): Window[] => {
      if (priority === 'stat' && day !== today) return [];
      const latest = Math.min(now.getTime(), start.getTime() - LEAD_MINUTES[priority] * MINUTE);
      const horizon = rules[priority].sameDayOnly ? 0 : rules[priority].horizonDays;
      // Days before the appointment: never after today, never beyond the horizon.
      const nearest = Math.max(priority === 'routine' ? ROUTINE_DAYS_AHEAD.min : 0, daysBetween(today, day));
      const furthest =
        priority === 'routine' ? Math.min(horizon, Math.max(nearest, ROUTINE_DAYS_AHEAD.max)) : horizon;
      const opens = room.hours.get(isoWeekdayOf(day))?.[0]?.opens ?? OFFICE.from;
      const list: Window[] = [];
      for (let back = furthest; back >= nearest; back--) {
        const orderDay = addDays(day, -back);
        const from =
          priority === 'stat'
            ? Math.max(
                localToInstant(orderDay, opens, tz).getTime(),
                start.getTime() - STAT_WAIT_MINUTES * MINUTE,
              )
            : localToInstant(orderDay, OFFICE.from, tz).getTime();
        const until = Math.min(latest, localToInstant(orderDay, OFFICE.until, tz).getTime());
        if (until > from) list.push({ from, until });
      }
      return list;
    };
    return { stat: windows('stat'), urgent: windows('urgent'), routine: windows('routine') };
  }

  #roomFree(room: Room, day: string, minute: number, duration: number): boolean {
    const start = localToInstant(day, minute, this.input.tz).getTime();
    const end = start + duration * MINUTE;
    return !(this.#roomBusy.get(`${room.roomId}/${day}`) ?? []).some((b) => b.start < end && start < b.end);
  }

  #order(
    accession: string,
    patientId: string,
    procedure: BookableProcedure,
    indication: DemoIndication,
    how: { priority: Priority; createdAt: Date; physician: number },
  ): void {
    this.orders.push({
      accessionNumber: accession,
      patientId,
      procedureCode: procedure.row.procedureCode,
      modality: procedure.row.modality,
      clinicalIndication: indication.text,
      icd10Codes: [...indication.codes],
      priority: how.priority,
      referringPhysicianId: this.input.physicianIds[how.physician]!,
      createdBy: ACTOR.subject,
      createdAt: how.createdAt,
    });
  }

  #book(
    accession: string,
    room: Room,
    person: DemoPerson,
    day: string,
    start: Date,
    duration: number,
    status: StudyStatus,
  ): void {
    const end = new Date(start.getTime() + duration * MINUTE);
    const interval = { start: start.getTime(), end: end.getTime() };
    for (const [map, key] of [
      [this.#roomBusy, `${room.roomId}/${day}`],
      [this.#patientBusy, `${person.patientId}/${day}`],
    ] as const) {
      const list = map.get(key) ?? [];
      list.push(interval);
      map.set(key, list);
    }
    this.appointments.push({
      accessionNumber: accession,
      roomId: room.roomId,
      start,
      end,
      status,
      actor: ACTOR,
    });
  }
}

/** Spans of time (epoch ms) an order could have been placed in. */
interface Window {
  from: number;
  until: number;
}
type OrderWindows = Readonly<Record<Priority, Window[]>>;

/** The indication's priorities that an order placed by now can have for this appointment. */
function possiblePriorities(indication: DemoIndication, when: OrderWindows): Priority[] {
  return prioritiesFor(indication).filter((p) => when[p].length > 0);
}

/**
 * Acute indications are stat half the time when they can be (today, within hours), else urgent; those
 * seen soon are urgent two times in five; the rest routine. Days beyond every horizon (only a long
 * benchmark range) are routine.
 */
function choosePriority(rng: Rng, indication: DemoIndication, when: OrderWindows): Priority {
  const possible = possiblePriorities(indication, when);
  if (possible.length === 0) return 'routine';
  if (possible.length === 1) return possible[0]!;
  return rng() < (indication.urgency === 'acute' ? 0.5 : 0.4) ? possible[0]! : possible[1]!;
}

/** A minute in one of the windows, or undefined when there is none. */
function placedAt(rng: Rng, windows: readonly Window[]): Date | undefined {
  if (windows.length === 0) return undefined;
  const w = pick(rng, windows);
  return new Date(w.from + Math.floor((rng() * (w.until - w.from)) / MINUTE) * MINUTE);
}

function pickOr<T>(rng: Rng, list: readonly T[], fallback: T): T {
  return list.length > 0 ? pick(rng, list) : fallback;
}

/** Where an appointment would be in its workflow at `now`. */
function demoStatus(start: Date, end: Date, now: Date, rng: Rng): StudyStatus {
  if (start > now)
    return start.getTime() - now.getTime() < 30 * 60_000 && rng() < 0.5 ? 'REGISTERED' : 'BOOKED';
  if (end > now) return 'IN_PROGRESS';
  const roll = rng();
  return roll < 0.05 ? 'NO_SHOW' : roll < 0.3 ? 'COMPLETED' : roll < 0.6 ? 'REPORTED' : 'DELIVERED';
}
