/**
 * Inputs and outputs of the reference-data tools (physicians, rooms and hours, procedures), and the field
 * schemas the CSV import checks rows with, so that a row is accepted exactly when the tool would accept it.
 */
import { z } from 'zod';
import { clockToMinutes } from '../../core/practice-time.js';
import type { PhysicianEntry } from './ris.physicians.store.js';
import type { ProcedureEntry } from './ris.procedures.store.js';
import type { OpeningWindow, RoomEntry } from './ris.rooms.store.js';
import { modality, physicianSchema } from './ris.schemas.js';

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

// ---------------------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------------------

export const practiceNumber = z
  .string()
  .trim()
  .regex(/^[0-9]{7}$/, 'must be the 7-digit practice number, e.g. 0510001');
export const hpcsaNumber = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^MP[0-9]{6,7}$/, 'must be an HPCSA number such as MP0123456');
const personName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  .regex(/^[^^\\=]+$/, 'must not contain ^, \\ or =');
const title = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(16)
  .regex(/^[\p{L}. ]+$/u, 'must be a title such as Dr or Prof');
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 ]{8,15}$/, 'must be a phone number such as +27 82 555 0123 or 0825550123');
const email = z.email('must be an e-mail address').max(254);
const userSubject = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .describe("The physician's login (token subject): they then see the patients they referred");

export const roomName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$/,
    'must be 1-32 letters, digits, spaces, dots or dashes, e.g. CT-1',
  );
const description = (what: string) =>
  z.string().trim().min(2, `must describe the ${what}`).max(120, 'must be at most 120 characters');
export const gridMinutes = z
  .number()
  .int()
  .min(1, 'must be 1-240 minutes')
  .max(240, 'must be 1-240 minutes')
  .describe('Free slots are offered on this grid from opening time');
const modalityDescription = z
  .string()
  .trim()
  .min(2)
  .max(80)
  .describe('Adds the modality if it is new, with this description (e.g. "Bone densitometry")');

export const procedureCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9][A-Z0-9-]{0,15}$/, 'must be 1-16 letters, digits or dashes, e.g. 3011');
export const durationMinutes = z
  .number()
  .int()
  .min(5, 'must be 5-480 minutes')
  .max(480, 'must be 5-480 minutes')
  .describe('The slot length booked');
const preparation = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .describe('What the patient must do beforehand (nil by mouth 4 hours, full bladder, ...)');
export const tariffCodes = z
  .array(
    z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z0-9][A-Z0-9-]{0,19}$/, 'must be a tariff code such as 3011'),
  )
  .max(10)
  .refine((codes) => new Set(codes).size === codes.length, 'must not repeat a code')
  .describe('Tariff items billed for the procedure (codes_list_tariff_items lists them)');

const clock = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, 'must be a time HH:MM (24:00 for midnight at the end)');
export const openingWindow = z.object({
  weekday: z
    .number()
    .int()
    .min(1, 'must be 1 (Monday) to 7 (Sunday)')
    .max(7, 'must be 1 (Monday) to 7 (Sunday)'),
  opens_at: clock.refine((t) => t !== '24:00', 'cannot open at 24:00'),
  closes_at: clock,
});
/** A room's week: several windows on one day are breaks (07:00-12:00 and 13:00-17:00). */
export const weekHours = z
  .array(openingWindow)
  .max(50)
  .superRefine((windows, ctx) => {
    for (const problem of weekProblems(windows)) ctx.addIssue({ code: 'custom', ...problem });
  })
  .describe('The whole week; a day not listed is closed; several windows on one day are breaks');

/** What is wrong with a week of windows: each window opens before it closes, and windows of a day do not overlap. */
export function weekProblems(
  windows: readonly { weekday: number; opens_at: string; closes_at: string }[],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  windows.forEach((w, i) => {
    if (clockToMinutes(w.closes_at) <= clockToMinutes(w.opens_at))
      problems.push({ path: [i, 'closes_at'], message: `must be after opens_at ${w.opens_at}` });
  });
  const sorted = windows
    .map((w, i) => ({ ...w, i }))
    .sort((a, b) => a.weekday - b.weekday || a.opens_at.localeCompare(b.opens_at));
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1]!;
    const b = sorted[k]!;
    if (a.weekday === b.weekday && clockToMinutes(b.opens_at) < clockToMinutes(a.closes_at))
      problems.push({
        path: [b.i, 'opens_at'],
        message: `${WEEKDAYS[b.weekday - 1]} ${b.opens_at}-${b.closes_at} overlaps ${a.opens_at}-${a.closes_at}`,
      });
  }
  return problems;
}

export function windowsOf(week: readonly z.output<typeof openingWindow>[]): OpeningWindow[] {
  return week.map((w) => ({ weekday: w.weekday, opensAt: w.opens_at, closesAt: w.closes_at }));
}

/**
 * A week written as people write it, for CSV files: "Mon-Fri 07:00-18:00; Sat 08:00-13:00", several windows
 * with commas ("Mon-Fri 07:00-12:30,13:30-17:00"), days as ranges or lists ("Mon/Wed/Fri"), "closed" for none.
 */
export function parseWeekText(
  text: string,
): { weekday: number; opens_at: string; closes_at: string }[] | string {
  if (/^closed$/i.test(text.trim())) return [];
  const windows: { weekday: number; opens_at: string; closes_at: string }[] = [];
  for (const part of text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z/-]+)\s+(.+)$/.exec(part);
    if (!match) return `"${part}" is not "Mon-Fri 07:00-18:00"`;
    const days = parseDays(match[1]!);
    if (typeof days === 'string') return days;
    for (const range of match[2]!.split(',').map((r) => r.trim())) {
      const times = /^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/.exec(range);
      if (!times) return `"${range}" is not a time range such as 07:00-18:00`;
      const [opens, closes] = [times[1]!.padStart(5, '0'), times[2]!.padStart(5, '0')];
      for (const weekday of days) windows.push({ weekday, opens_at: opens, closes_at: closes });
    }
  }
  return windows;
}

function parseDays(text: string): number[] | string {
  const dayOf = (name: string) =>
    WEEKDAYS.findIndex((d) => d.toLowerCase() === name.slice(0, 3).toLowerCase()) + 1;
  const days: number[] = [];
  for (const item of text.split('/')) {
    const [from, to] = item.split('-');
    const first = dayOf(from ?? '');
    const last = to === undefined ? first : dayOf(to);
    if (first === 0 || last === 0 || last < first)
      return `"${text}" is not a day or days such as Mon-Fri or Sat`;
    for (let d = first; d <= last; d++) days.push(d);
  }
  return days;
}

// ---------------------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------------------

/** A physician as searches show them (to every role with ris:read: no login names). */
export const physicianListedSchema = physicianSchema.extend({ active: z.boolean() });
/** A physician as the administrator's tools show them. */
export const physicianEntrySchema = physicianListedSchema.extend({
  user_subject: z.string().nullable().describe('The login that sees the patients this physician referred'),
});

export const roomSchema = z.object({
  room: z.string(),
  description: z.string(),
  modality: z.string(),
  modality_description: z.string(),
  grid_minutes: z.number().int(),
  active: z.boolean().describe('False: out of use (no bookings); a period out of service is a closure'),
  hours: z.array(
    z.object({
      weekday: z.number().int().describe('ISO weekday, 1 = Monday'),
      day: z.enum(WEEKDAYS),
      opens_at: z.string(),
      closes_at: z.string(),
    }),
  ),
});

export const procedureSchema = z.object({
  procedure_code: z.string(),
  description: z.string(),
  modality: z.string(),
  duration_minutes: z.number().int(),
  preparation: z.string().nullable(),
  tariff_codes: z.array(z.string()),
  active: z.boolean(),
});

export function physicianListedOut(p: PhysicianEntry): z.input<typeof physicianListedSchema> {
  return {
    physician_id: p.physicianId,
    practice_number: p.practiceNumber,
    hpcsa_number: p.hpcsaNumber,
    title: p.title,
    family_name: p.familyName,
    given_names: p.givenNames,
    phone: p.phone,
    email: p.email,
    active: p.active,
  };
}

export function physicianEntryOut(p: PhysicianEntry): z.input<typeof physicianEntrySchema> {
  return { ...physicianListedOut(p), user_subject: p.userSubject };
}

export function roomOut(r: RoomEntry): z.input<typeof roomSchema> {
  return {
    room: r.room,
    description: r.description,
    modality: r.modality,
    modality_description: r.modalityDescription,
    grid_minutes: r.gridMinutes,
    active: r.active,
    hours: r.hours.map((h) => ({
      weekday: h.weekday,
      day: WEEKDAYS[h.weekday - 1]!,
      opens_at: h.opensAt,
      closes_at: h.closesAt,
    })),
  };
}

export function procedureOut(p: ProcedureEntry): z.input<typeof procedureSchema> {
  return {
    procedure_code: p.procedureCode,
    description: p.description,
    modality: p.modality,
    duration_minutes: p.durationMinutes,
    preparation: p.preparation,
    tariff_codes: p.tariffCodes,
    active: p.active,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------------------

const atLeastOneChange = (keys: readonly string[]) => (input: Record<string, unknown>) =>
  keys.some((key) => input[key] !== undefined);

export const addPhysicianInput = z.object({
  practice_number: practiceNumber,
  hpcsa_number: hpcsaNumber,
  title: title.default('Dr'),
  family_name: personName,
  given_names: personName,
  phone: phone.optional(),
  email: email.optional(),
  user_subject: userSubject.optional(),
  active: z.boolean().default(true),
});

const physicianChanges = [
  'new_practice_number',
  'hpcsa_number',
  'title',
  'family_name',
  'given_names',
  'phone',
  'email',
  'user_subject',
  'active',
] as const;
export const updatePhysicianInput = z
  .object({
    practice_number: practiceNumber.describe('Which physician (their current practice number)'),
    new_practice_number: practiceNumber.optional(),
    hpcsa_number: hpcsaNumber.optional(),
    title: title.optional(),
    family_name: personName.optional(),
    given_names: personName.optional(),
    phone: phone.nullable().optional(),
    email: email.nullable().optional(),
    user_subject: userSubject.nullable().optional(),
    active: z.boolean().optional().describe('false deactivates: kept on old orders, refused for new ones'),
  })
  .refine(atLeastOneChange(physicianChanges), {
    message: `give at least one field to change (${physicianChanges.join(', ')})`,
  });

export const searchPhysiciansInput = z.object({
  name: z
    .string()
    .trim()
    .min(2)
    .max(64)
    .optional()
    .describe('Part of the name, any order, accents and case ignored: "naidoo", "Kav Naid"'),
  practice_number: z
    .string()
    .trim()
    .regex(/^[0-9]{1,7}$/, 'must be digits of a practice number')
    .optional()
    .describe('The practice number or its beginning'),
  hpcsa_number: hpcsaNumber.optional(),
  include_inactive: z.boolean().default(false),
  limit: z.number().int().min(1).max(100).default(20),
});

export const addRoomInput = z.object({
  room: roomName,
  description: description('room'),
  modality,
  modality_description: modalityDescription.optional(),
  grid_minutes: gridMinutes.default(15),
  active: z.boolean().default(true),
  hours: weekHours.optional(),
});

const roomChanges = ['new_room', 'description', 'modality', 'grid_minutes', 'active'] as const;
export const updateRoomInput = z
  .object({
    room: roomName.describe('Which room'),
    new_room: roomName.optional().describe('A new name'),
    description: description('room').optional(),
    modality: modality.optional(),
    modality_description: modalityDescription.optional(),
    grid_minutes: gridMinutes.optional(),
    active: z
      .boolean()
      .optional()
      .describe('false takes the room out of use until set true; for a period, add a closure instead'),
  })
  .refine(atLeastOneChange(roomChanges), {
    message: `give at least one field to change (${roomChanges.join(', ')})`,
  });

export const listRoomsInput = z.object({
  modality: modality.optional(),
  include_inactive: z.boolean().default(false),
});

export const setRoomHoursInput = z.object({
  room: roomName,
  hours: weekHours,
});

export const addProcedureInput = z.object({
  procedure_code: procedureCode,
  description: description('procedure'),
  modality,
  duration_minutes: durationMinutes,
  preparation: preparation.optional(),
  tariff_codes: tariffCodes
    .optional()
    .describe('Tariff items billed; default: the procedure code itself when it is a tariff item'),
  active: z.boolean().default(true),
});

const procedureChanges = [
  'description',
  'modality',
  'duration_minutes',
  'preparation',
  'tariff_codes',
  'active',
] as const;
export const updateProcedureInput = z
  .object({
    procedure_code: procedureCode.describe('Which procedure'),
    description: description('procedure').optional(),
    modality: modality.optional(),
    duration_minutes: durationMinutes.optional(),
    preparation: preparation.nullable().optional(),
    tariff_codes: tariffCodes.optional().describe('Replaces the linked tariff items'),
    active: z.boolean().optional().describe('false: no new orders for it; existing orders keep it'),
  })
  .refine(atLeastOneChange(procedureChanges), {
    message: `give at least one field to change (${procedureChanges.join(', ')})`,
  });

export const listProceduresInput = z.object({
  modality: modality.optional(),
  text: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .optional()
    .describe('Words of the name ("ct head", accents and case ignored) or the start of a code ("30")'),
  include_inactive: z.boolean().default(false),
  limit: z.number().int().min(1).max(500).default(100),
});
