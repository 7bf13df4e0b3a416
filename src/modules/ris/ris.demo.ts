/**
 * Synthetic RIS demo data, generated in code and deterministic from a seed (and the start date): referring
 * physicians, patients, orders and a week of appointments. Given the PACS demo studies, it registers the
 * same patients and accession numbers so that RIS and PACS tell one story. Re-running with the same seed
 * adds nothing (existing patients and orders are left alone).
 */
import { createHash } from 'node:crypto';
import { addDays, isoWeekdayOf, localParts, localToInstant } from '../../core/practice-time.js';
import { createRng, type Rng } from '../../dicom/synthetic.js';
import type { Actor, NewAppointment } from './ris.appointments.store.js';
import {
  advanceSequences,
  bulkInsertAppointments,
  bulkInsertOrders,
  bulkInsertPatients,
} from './ris.demo.store.js';
import type { NewOrder } from './ris.orders.store.js';
import type { NewPatient } from './ris.patients.store.js';
import {
  listProcedures,
  listRooms,
  type NewPhysician,
  type Procedure,
  upsertPhysician,
} from './ris.reference.store.js';
import { luhnCheckDigit, type RoomSchedule } from './ris.rules.js';
import type { Priority, RisDb, Sex, StudyStatus } from './ris.tables.js';

/** A study as the PACS demo generator describes it (DICOM shapes: Family^Given, YYYYMMDD). */
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
}

export interface RisDemoOptions {
  seed: number;
  /** PACS studies to mirror; without them the demo generates its own patients. */
  studies?: readonly DemoStudy[];
  /** Patients to generate for the week's bookings (default 60). */
  patients?: number;
  /** First day of the week of appointments, YYYY-MM-DD practice time (default today). */
  startDate?: string;
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

// The same six names the PACS generator writes into ReferringPhysicianName; `user_subject` lets
// `upc-mcp token --sub dr.naidoo --role referring_doctor` see that doctor's patients.
const PHYSICIANS: readonly NewPhysician[] = [
  ['Naidoo', 'Kavitha', 'dr.naidoo'],
  ['Botha', 'Hendrik', 'dr.botha'],
  ['Mokoena', 'Lindiwe', 'dr.mokoena'],
  ['Patel', 'Vikesh', 'dr.patel'],
  ['Ndlovu', 'Sibusiso', 'dr.ndlovu'],
  ['Smit', 'Elna', 'dr.smit'],
].map(([familyName, givenNames, userSubject], i) => ({
  practiceNumber: `05${String(10_001 + i * 37).padStart(5, '0')}`,
  hpcsaNumber: `MP0${String(512_340 + i * 11).padStart(6, '0')}`,
  familyName: familyName!,
  givenNames: givenNames!,
  phone: `+27 11 555 ${String(1000 + i).slice(-4)}`,
  email: `${userSubject}@referrers.example`,
  userSubject: userSubject!,
}));

// biome-ignore format: compact word lists
const FAMILY = ['Dlamini', 'Nkosi', 'Naidoo', 'van der Merwe', 'Botha', 'Mokoena', 'Khumalo', 'Pillay', 'Ndlovu', 'Mahlangu', 'Zulu', 'Petersen', 'Jacobs', 'Govender', 'Sithole', 'Molefe', 'Coetzee', 'Hendricks', 'Adams', 'Moodley'];
const GIVEN: Record<'F' | 'M', readonly string[]> = {
  F: [
    'Thandiwe',
    'Lerato',
    'Ayesha',
    'Anika',
    'Nomvula',
    'Priya',
    'Zanele',
    'Chantelle',
    'Precious',
    'Lindiwe',
  ],
  M: ['Sipho', 'Thabo', 'Johan', 'Rajesh', 'Bongani', 'Pieter', 'Mandla', 'Ashwin', 'Kagiso', 'Sizwe'],
};
const SCHEMES = ['Discovery Health', 'Momentum Health', 'Bonitas', 'GEMS', 'Bestmed'];
// biome-ignore format: indications with plausible ICD-10 codes
const INDICATIONS: readonly [string, string[]][] = [
  ['Headache, rule out intracranial pathology', ['R51']],
  ['Abdominal pain, query appendicitis', ['R10.3']],
  ['Chronic cough', ['R05']],
  ['Fall with wrist pain, query scaphoid fracture', ['S62.0', 'W19']],
  ['Low back pain', ['M54.5']],
  ['Knee injury, fell playing rugby', ['S83.2', 'W01']],
  ['Breast cancer screening', ['Z12.3']],
  ['Antenatal scan, 20 weeks', ['Z34.9']],
  ['Chest pain, exclude pulmonary embolism', ['R07.4']],
];

/** mulberry32 seeded from SHA-256 of (seed, stream): independent, repeatable streams. */
/** A deterministic stream per purpose, so adding one kind of demo row does not reshuffle the others. */
function rngFor(seed: number, stream: string): Rng {
  return createRng(createHash('sha256').update(`upc-ris-demo:${seed}:${stream}`).digest().readUInt32BE(0));
}

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

export async function seedRisDemo(db: RisDb, options: RisDemoOptions): Promise<RisDemoReport> {
  const tz = options.timeZone ?? 'Africa/Johannesburg';
  const now = options.now ?? new Date();
  const physicianIds: number[] = [];
  for (const p of PHYSICIANS) physicianIds.push(await upsertPhysician(db, p));
  const procedures = await listProcedures(db);
  const rooms = await listRooms(db);

  const fromStudies = patientsFromStudies(options.studies ?? []);
  // The week is booked across generated patients too, so a few mirrored PACS patients do not each get
  // hundreds of appointments.
  const generated = generatePatients(options.seed, options.patients ?? 60);
  const patients = [...fromStudies, ...generated];
  const patientCount = await bulkInsertPatients(db, patients);

  const plan = new DemoPlan(options.seed, tz, physicianIds, procedures);
  for (const study of options.studies ?? []) plan.addPastStudy(study, rooms);
  const bookable = patients.map((p) => p.patientId!).filter(Boolean);
  const startDate = options.startDate ?? localParts(now, tz).date;
  if (bookable.length > 0)
    plan.addWeek(startDate, options.days ?? 7, options.fill ?? 0.6, rooms, bookable, now);

  const newOrders = await bulkInsertOrders(db, plan.orders);
  // Appointments only for orders this run created, so a re-run cannot collide with earlier bookings.
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

function patientsFromStudies(studies: readonly DemoStudy[]): NewPatient[] {
  const byId = new Map<string, NewPatient>();
  for (const s of studies) {
    if (byId.has(s.patient_id)) continue;
    const [family = s.patient_name, ...given] = s.patient_name.split('^');
    byId.set(s.patient_id, {
      patientId: s.patient_id,
      familyName: family,
      givenNames: given.filter(Boolean).join(' ') || '-',
      birthDate: dicomDate(s.birth_date),
      sex: (['M', 'F', 'O'].includes(s.sex) ? s.sex : 'O') as Sex,
      createdBy: ACTOR.subject,
    });
  }
  return [...byId.values()];
}

function generatePatients(seed: number, count: number): NewPatient[] {
  const base = 900_000 + (createHash('sha256').update(`patients:${seed}`).digest().readUInt32BE(0) % 50_000);
  const list: NewPatient[] = [];
  const usedIds = new Set<string>();
  for (let i = 0; i < count; i++) {
    const rng = rngFor(seed, `patient/${i}`);
    const sex: 'F' | 'M' = rng() < 0.55 ? 'F' : 'M';
    const birth = new Date(
      Date.UTC(1940 + Math.floor(rng() * 80), Math.floor(rng() * 12), 1 + Math.floor(rng() * 28)),
    );
    const birthDate = birth.toISOString().slice(0, 10);
    const hasAid = rng() < 0.8;
    // SA ID numbers are unique; a generated clash (same birth date and serial) just goes without one.
    const saId = rng() < 0.7 ? demoSaId(birthDate, sex, i) : undefined;
    const saIdNumber = saId && !usedIds.has(saId) ? saId : undefined;
    if (saIdNumber) usedIds.add(saIdNumber);
    list.push({
      patientId: `UPC${base + i}`,
      familyName: pick(rng, FAMILY),
      givenNames: pick(rng, GIVEN[sex]),
      birthDate,
      sex,
      phone: `+27 8${Math.floor(rng() * 3) + 1} 555 ${String(Math.floor(rng() * 10_000)).padStart(4, '0')}`,
      saIdNumber,
      medicalAidScheme: hasAid ? pick(rng, SCHEMES) : undefined,
      medicalAidNumber: hasAid ? `M${String(Math.floor(rng() * 1e9)).padStart(9, '0')}` : undefined,
      createdBy: ACTOR.subject,
    });
  }
  return list;
}

/** A valid (Luhn-checked) but synthetic SA ID; the serial keeps demo numbers unique. */
function demoSaId(birthDate: string, sex: 'F' | 'M', serial: number): string {
  const yymmdd = birthDate.slice(2, 4) + birthDate.slice(5, 7) + birthDate.slice(8, 10);
  const partial = `${yymmdd}${String((sex === 'M' ? 5000 : 0) + (serial % 5000)).padStart(4, '0')}08`;
  return partial + luhnCheckDigit(partial);
}

function dicomDate(yyyymmdd: string): string {
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
}

/** Builds orders and non-overlapping appointments in memory; the database checks them on insert. */
class DemoPlan {
  readonly orders: (NewOrder & { accessionNumber: string })[] = [];
  readonly appointments: NewAppointment[] = [];
  /** Next free minute per room and day, for placing past PACS studies back to back. */
  readonly #cursor = new Map<string, number>();
  #nextAccession: number;

  constructor(
    private readonly seed: number,
    private readonly tz: string,
    private readonly physicianIds: readonly number[],
    private readonly procedures: readonly Procedure[],
  ) {
    this.#nextAccession =
      90_000_000 + (createHash('sha256').update(`acc:${seed}`).digest().readUInt32BE(0) % 5_000_000);
  }

  addPastStudy(study: DemoStudy, rooms: readonly (RoomSchedule & { modality: string })[]): void {
    const rng = rngFor(this.seed, `study/${study.accession_number}`);
    const procedure = this.#procedureFor(study.modality, rng, study.study_description);
    const room = rooms.find((r) => r.modality === study.modality);
    if (!procedure || !room) return; // a modality the RIS does not schedule: nothing to mirror
    const day = dicomDate(study.study_date);
    const key = `${room.roomId}/${day}`;
    const startMinute = this.#cursor.get(key) ?? 8 * 60;
    this.#cursor.set(key, startMinute + procedure.durationMinutes);
    const start = localToInstant(day, startMinute, this.tz);
    this.#order(
      study.accession_number,
      study.patient_id,
      procedure,
      rng,
      study.referring_physician_name,
      start,
    );
    this.appointments.push({
      accessionNumber: study.accession_number,
      roomId: room.roomId,
      start,
      end: new Date(start.getTime() + procedure.durationMinutes * 60_000),
      // The images are in the PACS, so the study happened and was reported.
      status: 'DELIVERED',
      actor: ACTOR,
    });
  }

  addWeek(
    startDate: string,
    days: number,
    fill: number,
    rooms: readonly (RoomSchedule & { modality: string })[],
    patients: readonly string[],
    now: Date,
  ): void {
    for (let d = 0; d < days; d++) {
      const day = addDays(startDate, d);
      for (const room of rooms) {
        const rng = rngFor(this.seed, `week/${day}/${room.room}`);
        for (const window of room.hours.get(isoWeekdayOf(day)) ?? []) {
          let minute = Math.max(window.opens, this.#cursor.get(`${room.roomId}/${day}`) ?? 0);
          while (minute < window.closes) {
            const procedure = this.#procedureFor(room.modality, rng);
            if (!procedure || minute + procedure.durationMinutes > window.closes) break;
            if (rng() < fill) {
              const start = localToInstant(day, minute, this.tz);
              const end = new Date(start.getTime() + procedure.durationMinutes * 60_000);
              const accession = `ACC${this.#nextAccession++}`;
              this.#order(
                accession,
                pick(rng, patients),
                procedure,
                rng,
                undefined,
                new Date(start.getTime() - 3 * 86_400_000),
              );
              this.appointments.push({
                accessionNumber: accession,
                roomId: room.roomId,
                start,
                end,
                status: demoStatus(start, end, now, rng),
                actor: ACTOR,
              });
              minute += procedure.durationMinutes;
            } else {
              minute += room.gridMinutes;
            }
          }
        }
      }
    }
  }

  #procedureFor(modality: string, rng: Rng, description?: string): Procedure | undefined {
    const options = this.procedures.filter((p) => p.modality === modality);
    return (
      options.find((p) => p.description === description) ??
      (options.length > 0 ? pick(rng, options) : undefined)
    );
  }

  #order(
    accession: string,
    patientId: string,
    procedure: Procedure,
    rng: Rng,
    physicianName: string | undefined,
    createdAt: Date,
  ) {
    const [indication, codes] = pick(rng, INDICATIONS);
    const named = PHYSICIANS.findIndex((p) => physicianName?.startsWith(`${p.familyName}^`));
    const roll = rng();
    const priority: Priority = roll < 0.05 ? 'stat' : roll < 0.2 ? 'urgent' : 'routine';
    this.orders.push({
      accessionNumber: accession,
      patientId,
      procedureCode: procedure.procedureCode,
      modality: procedure.modality,
      clinicalIndication: indication,
      icd10Codes: codes,
      priority,
      referringPhysicianId:
        this.physicianIds[named >= 0 ? named : Math.floor(rng() * this.physicianIds.length)]!,
      createdBy: ACTOR.subject,
      createdAt,
    });
  }
}

/** Where an appointment would be in its workflow at `now`. */
function demoStatus(start: Date, end: Date, now: Date, rng: Rng): StudyStatus {
  if (start > now)
    return start.getTime() - now.getTime() < 30 * 60_000 && rng() < 0.5 ? 'REGISTERED' : 'BOOKED';
  if (end > now) return 'IN_PROGRESS';
  const roll = rng();
  return roll < 0.05 ? 'NO_SHOW' : roll < 0.3 ? 'COMPLETED' : roll < 0.6 ? 'REPORTED' : 'DELIVERED';
}
