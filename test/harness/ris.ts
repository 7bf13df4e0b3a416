/** RIS test helpers: each test creates its own rooms, physicians, patients and orders. */
import type { LightMyRequestResponse } from 'fastify';
import type { Role } from '../../src/core/context.js';
import { luhnCheckDigit } from '../../src/modules/ris/ris.rules.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import type { TestApp } from './app.js';

export { nextMonday, TZ } from './clock.js';

export type Caller = Role | { role: Role; subject?: string; patients?: string[] };

let counter = 0;
/** Unique per process, so tests in one file never collide on numbers or names. */
export function unique(): number {
  counter += 1;
  return (process.pid % 1000) * 1000 + counter;
}

export interface Called {
  status: number;
  ok: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  result: any;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  error: any;
  raw: LightMyRequestResponse;
}

/** POST /mcp/v1/invoke as a caller, with optional idempotency key or confirmation token. */
export async function call(
  t: TestApp,
  tool: string,
  parameters: Record<string, unknown>,
  as: Caller = 'admin',
  context: Record<string, string> = {},
): Promise<Called> {
  const caller = typeof as === 'string' ? { role: as } : as;
  const token = await t.tokenFor(caller.role, {
    ...(caller.subject ? { subject: caller.subject } : {}),
    ...(caller.patients ? { patients: caller.patients } : {}),
  });
  const raw = await t.app.inject({
    method: 'POST',
    url: '/mcp/v1/invoke',
    headers: { authorization: `Bearer ${token}` },
    payload: { tool, parameters, context },
  });
  const body = raw.json();
  return { status: raw.statusCode, ok: raw.statusCode === 200, result: body.result, error: body.error, raw };
}

/** Calls a confirmation tool: first ask, then confirm with the token. */
export async function callConfirmed(
  t: TestApp,
  tool: string,
  parameters: Record<string, unknown>,
  as: Caller = 'admin',
): Promise<Called> {
  const first = await call(t, tool, parameters, as);
  if (first.error?.error_code !== 'CONFIRMATION_REQUIRED') return first;
  return call(t, tool, parameters, as, { confirmation_token: first.error.details.confirmation_token });
}

/** A valid SA ID number for a birth date (YYYY-MM-DD) and sex. */
export function saIdFor(birthDate: string, sex: 'M' | 'F', serial = unique() % 5000): string {
  const yymmdd = birthDate.slice(2, 4) + birthDate.slice(5, 7) + birthDate.slice(8, 10);
  const gender = String((sex === 'M' ? 5000 : 0) + (serial % 5000)).padStart(4, '0');
  const partial = `${yymmdd}${gender}08`;
  return partial + luhnCheckDigit(partial);
}

/**
 * A private modality with its own rooms, hours and one procedure, so a test's bookings never meet another
 * test's. Hours are Monday-Friday unless given.
 */
export async function createRoomSet(
  t: TestApp,
  options: {
    rooms: number;
    opens?: string;
    closes?: string;
    weekdays?: number[];
    durationMinutes?: number;
    gridMinutes?: number;
  },
): Promise<{ modality: string; rooms: string[]; procedureCode: string }> {
  const db = risDb(t.app.parts.database);
  const n = unique();
  const modality = `Q${String.fromCharCode(65 + (n % 26))}${String.fromCharCode(65 + (Math.floor(n / 26) % 26))}`;
  await db
    .insertInto('ris.modalities')
    .values({ modality, description: 'test modality' })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const rooms: string[] = [];
  for (let i = 1; i <= options.rooms; i++) {
    const name = `${modality}-${n}-${i}`;
    const row = await db
      .insertInto('ris.rooms')
      .values({ room: name, description: 'test room', modality, grid_minutes: options.gridMinutes ?? 15 })
      .returning('room_id')
      .executeTakeFirstOrThrow();
    for (const day of options.weekdays ?? [1, 2, 3, 4, 5]) {
      await db
        .insertInto('ris.room_hours')
        .values({
          room_id: row.room_id,
          iso_weekday: day,
          opens_at: options.opens ?? '08:00',
          closes_at: options.closes ?? '12:00',
        })
        .execute();
    }
    rooms.push(name);
  }
  const procedureCode = `T${n}`;
  await db
    .insertInto('ris.procedures')
    .values({
      procedure_code: procedureCode,
      description: 'test procedure',
      modality,
      duration_minutes: options.durationMinutes ?? 30,
    })
    .execute();
  return { modality, rooms, procedureCode };
}

export async function createPhysician(
  t: TestApp,
  userSubject?: string,
): Promise<{ practiceNumber: string; hpcsaNumber: string }> {
  const n = unique();
  const practiceNumber = String(1_000_000 + n).slice(-7);
  const hpcsaNumber = `MP${String(n).padStart(7, '0')}`;
  await risDb(t.app.parts.database)
    .insertInto('ris.referring_physicians')
    .values({
      practice_number: practiceNumber,
      hpcsa_number: hpcsaNumber,
      family_name: `Naidoo${n}`,
      given_names: 'Kavitha',
      phone: '+27 31 555 0100',
      email: `dr${n}@example.org`,
      user_subject: userSubject ?? null,
    })
    .execute();
  return { practiceNumber, hpcsaNumber };
}

export async function registerPatient(t: TestApp, overrides: Record<string, unknown> = {}): Promise<string> {
  const n = unique();
  const res = await call(
    t,
    'ris_register_patient',
    { family_name: `Dlamini${n}`, given_names: 'Thandiwe', birth_date: '1984-02-29', sex: 'F', ...overrides },
    'receptionist',
  );
  if (!res.ok) throw new Error(`register failed: ${JSON.stringify(res.error)}`);
  return res.result.patient.patient_id as string;
}

export async function createOrder(
  t: TestApp,
  patientId: string,
  procedureCode: string,
  practiceNumber: string,
  priority: 'routine' | 'urgent' | 'stat' = 'routine',
): Promise<string> {
  const res = await call(
    t,
    'ris_create_order',
    {
      patient_id: patientId,
      procedure_code: procedureCode,
      clinical_indication: 'Abdominal pain, query appendicitis',
      icd10_codes: ['R10.4'],
      priority,
      referring_practice_number: practiceNumber,
    },
    'receptionist',
  );
  if (!res.ok) throw new Error(`order failed: ${JSON.stringify(res.error)}`);
  return res.result.order.accession_number as string;
}
