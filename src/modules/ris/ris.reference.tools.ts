/**
 * The practice's reference data as tools: referring physicians, rooms with their weekly opening hours, and
 * procedures. Everyone with `ris:read` looks them up (an assistant finds "Dr Naidoo" and the code of a CT
 * head); administrators (`ris:reference`) add and change them. A room out of service for a period is a
 * closure (ris.closures.tools.ts); `active` here takes a room out of use until further notice.
 */
import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import { invalidField, invalidParameters, ToolError } from '../../core/errors.js';
import { clockToMinutes, localParts, spokenTime, toZonedIso } from '../../core/practice-time.js';
import type { AnyTool, ToolAnnotations } from '../../core/tool.js';
import { defineTool } from '../../core/tool.js';
import type { RisDeps } from './ris.access.js';
import {
  findPhysician,
  insertPhysician,
  type PhysicianClash,
  type PhysicianEntry,
  searchPhysicians,
  updatePhysician,
} from './ris.physicians.store.js';
import {
  insertProcedure,
  listProcedureEntries,
  procedureEntry,
  updateProcedure,
} from './ris.procedures.store.js';
import {
  defaultTariffCodes,
  physicianLabel,
  physicianNotFound,
  physiciansNamedLike,
  procedureNotFound,
  proceduresLike,
  roomNotFound,
  tariffCodeProblems,
  unknownModality,
} from './ris.reference.checks.js';
import {
  addPhysicianInput,
  addProcedureInput,
  addRoomInput,
  listProceduresInput,
  listRoomsInput,
  physicianEntryOut,
  physicianEntrySchema,
  physicianListedOut,
  physicianListedSchema,
  procedureOut,
  procedureSchema,
  roomOut,
  roomSchema,
  searchPhysiciansInput,
  setRoomHoursInput,
  updatePhysicianInput,
  updateProcedureInput,
  updateRoomInput,
  windowsOf,
} from './ris.reference.schemas.js';
import {
  ensureModality,
  insertRoom,
  listRoomEntries,
  type OpeningWindow,
  type RoomEntry,
  replaceRoomHours,
  roomEntry,
  upcomingAppointments,
  updateRoom,
} from './ris.rooms.store.js';

/** A change that may be repeated with the same effect. */
const UPDATE: ToolAnnotations = { ...WRITE, idempotentHint: true };
/** Replaces what was there (a room's week of hours). */
const REPLACE: ToolAnnotations = { ...WRITE, idempotentHint: true, destructiveHint: true };

export function referenceTools(deps: RisDeps): AnyTool[] {
  return [...physicianTools(deps), ...roomTools(deps), ...procedureTools(deps)];
}

// ---------------------------------------------------------------------------------------------------------
// Referring physicians
// ---------------------------------------------------------------------------------------------------------

function physicianTools(deps: RisDeps): AnyTool[] {
  const physicianOutput = z.object({ physician: physicianEntrySchema });

  const search = defineTool({
    name: 'ris_search_physicians',
    title: 'Search referring physicians',
    description:
      'Finds referring physicians by part of the name (any order; accents and case ignored: "naidoo", ' +
      '"Kav Naid"), by practice number (or its first digits) or by HPCSA number. Active physicians only ' +
      'unless include_inactive. Use it to find the practice number an order needs. When a name finds ' +
      'nobody, close_matches names the physicians with similar names.',
    input: searchPhysiciansInput,
    output: z.object({
      physicians: z.array(physicianListedSchema),
      count: z.number().int(),
      close_matches: z.array(physicianListedSchema).optional(),
    }),
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      { description: 'By name', parameters: { name: 'naidoo' } },
      { description: 'By practice number', parameters: { practice_number: '0510001' } },
    ],
    async handler(input) {
      const found = await searchPhysicians(deps.db, {
        ...(input.name ? { name: input.name } : {}),
        ...(input.practice_number ? { practiceNumber: input.practice_number } : {}),
        ...(input.hpcsa_number ? { hpcsaNumber: input.hpcsa_number } : {}),
        includeInactive: input.include_inactive,
        limit: input.limit,
      });
      const result = { physicians: found.map(physicianListedOut), count: found.length };
      if (found.length > 0 || !input.name) return result;
      const similar = await physiciansNamedLike(deps.db, input.name);
      return { ...result, close_matches: similar.map(physicianListedOut) };
    },
  });

  const add = defineTool({
    name: 'ris_add_physician',
    title: 'Add a referring physician',
    description:
      'Adds a referring physician: 7-digit practice number, HPCSA number (MP...), title and names, and ' +
      'optionally phone, e-mail and their login (user_subject: that login then sees the patients they ' +
      'referred). A practice or HPCSA number already on file answers CONFLICT naming who holds it.',
    input: addPhysicianInput,
    output: physicianOutput,
    permission: 'ris:reference',
    annotations: WRITE,
    phi: false,
    examples: [
      {
        description: 'A new referrer',
        parameters: {
          practice_number: '0510001',
          hpcsa_number: 'MP0510001',
          family_name: 'Naidoo',
          given_names: 'Kavitha',
          phone: '+27 31 555 0100',
          email: 'reception@naidoo-gp.example.org',
        },
      },
    ],
    async handler(input) {
      const fields = {
        practiceNumber: input.practice_number,
        hpcsaNumber: input.hpcsa_number,
        title: input.title,
        familyName: input.family_name,
        givenNames: input.given_names,
        phone: input.phone ?? null,
        email: input.email ?? null,
        userSubject: input.user_subject ?? null,
        active: input.active,
      };
      const written = await insertPhysician(deps.db, fields);
      if ('clash' in written) throw await physicianClash(deps, written.clash, fields);
      return { physician: physicianEntryOut(written.entry) };
    },
  });

  const update = defineTool({
    name: 'ris_update_physician',
    title: 'Change or deactivate a referring physician',
    description:
      'Changes the fields given of the physician with this practice_number (new_practice_number renumbers; ' +
      'null clears phone, e-mail or login). active false deactivates: the physician stays on existing ' +
      'orders but new orders naming them are refused; active true reactivates.',
    input: updatePhysicianInput,
    output: physicianOutput,
    permission: 'ris:reference',
    annotations: UPDATE,
    phi: false,
    examples: [
      {
        description: 'New phone number',
        parameters: { practice_number: '0510001', phone: '+27 31 555 0199' },
      },
      { description: 'Deactivate (retired)', parameters: { practice_number: '0510001', active: false } },
    ],
    async handler(input) {
      const entry = await findPhysician(deps.db, { practiceNumber: input.practice_number });
      if (!entry)
        throw await physicianNotFound(deps.db, input.practice_number, undefined, { includeInactive: true });
      const fields = {
        practiceNumber: input.new_practice_number,
        hpcsaNumber: input.hpcsa_number,
        title: input.title,
        familyName: input.family_name,
        givenNames: input.given_names,
        phone: input.phone,
        email: input.email,
        userSubject: input.user_subject,
        active: input.active,
      };
      const written = await updatePhysician(deps.db, entry.physicianId, fields);
      if ('clash' in written) throw await physicianClash(deps, written.clash, fields);
      return { physician: physicianEntryOut(written.entry) };
    },
  });

  return [search, add, update];
}

/** CONFLICT naming the physician who already holds a practice number, HPCSA number or login. */
async function physicianClash(
  deps: RisDeps,
  clash: PhysicianClash,
  fields: { practiceNumber?: string; hpcsaNumber?: string; userSubject?: string | null },
): Promise<ToolError> {
  const value =
    clash === 'practice_number'
      ? fields.practiceNumber
      : clash === 'hpcsa_number'
        ? fields.hpcsaNumber
        : fields.userSubject;
  const holder: PhysicianEntry | undefined = value
    ? await findPhysician(
        deps.db,
        clash === 'practice_number'
          ? { practiceNumber: value }
          : clash === 'hpcsa_number'
            ? { hpcsaNumber: value }
            : { userSubject: value },
      )
    : undefined;
  const what = { practice_number: 'Practice number', hpcsa_number: 'HPCSA number', user_subject: 'Login' }[
    clash
  ];
  const who = holder
    ? `${physicianLabel(holder)}${holder.active ? '' : ' (deactivated)'}`
    : 'another physician';
  return new ToolError(
    'CONFLICT',
    `${what} ${value} already belongs to ${who}. Change that physician with ris_update_physician instead of adding another.`,
    { field: clash, ...(holder ? { physician: physicianEntryOut(holder) } : {}) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Rooms and opening hours
// ---------------------------------------------------------------------------------------------------------

function roomTools(deps: RisDeps): AnyTool[] {
  const list = defineTool({
    name: 'ris_list_rooms',
    title: 'List rooms with their hours',
    description:
      'The rooms (optionally of one modality) with modality, slot grid and weekly opening hours (several ' +
      'windows on one day are breaks). Rooms out of use only with include_inactive. Days a room is closed ' +
      '(holidays, service periods) are closures, listed by the closure tools.',
    input: listRoomsInput,
    output: z.object({ rooms: z.array(roomSchema), count: z.number().int() }),
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      { description: 'Every room in use', parameters: {} },
      { description: 'The CT rooms', parameters: { modality: 'CT' } },
    ],
    async handler(input) {
      const rooms = await listRoomEntries(deps.db, {
        ...(input.modality ? { modality: input.modality } : {}),
        includeInactive: input.include_inactive,
      });
      return { rooms: rooms.map(roomOut), count: rooms.length };
    },
  });

  const add = defineTool({
    name: 'ris_add_room',
    title: 'Add a room',
    description:
      'Adds a room of a modality with its slot grid and, optionally, its weekly hours (else set them with ' +
      'ris_set_room_hours: a room without hours takes no bookings). A modality new to the practice needs ' +
      'modality_description. A name already in use (in any case) answers CONFLICT.',
    input: addRoomInput,
    output: z.object({ room: roomSchema }),
    permission: 'ris:reference',
    annotations: WRITE,
    phi: false,
    examples: [
      {
        description: 'A second ultrasound room, weekdays with a lunch break',
        parameters: {
          room: 'US-2',
          description: 'Ultrasound room 2',
          modality: 'US',
          grid_minutes: 15,
          hours: [1, 2, 3, 4, 5].flatMap((weekday) => [
            { weekday, opens_at: '08:00', closes_at: '12:30' },
            { weekday, opens_at: '13:30', closes_at: '17:00' },
          ]),
        },
      },
    ],
    async handler(input) {
      const unknown = await unknownModality(deps.db, input.modality);
      if (unknown && !input.modality_description)
        throw invalidField('modality', `${unknown}; give modality_description to add it`);
      if (unknown && input.modality_description)
        await ensureModality(deps.db, { modality: input.modality, description: input.modality_description });
      const roomId = await insertRoom(deps.db, {
        room: input.room,
        description: input.description,
        modality: input.modality,
        gridMinutes: input.grid_minutes,
        active: input.active,
      });
      if (roomId === undefined) {
        const existing = await roomEntry(deps.db, input.room);
        throw new ToolError(
          'CONFLICT',
          `Room ${existing?.room ?? input.room} exists already${existing ? ` (${existing.modality}${existing.active ? '' : ', out of use'})` : ''}. Change it with ris_update_room, or choose another name.`,
          { room: existing?.room ?? input.room },
        );
      }
      if (input.hours) await replaceRoomHours(deps.db, roomId, windowsOf(input.hours));
      return { room: roomOut(await mustGetRoom(deps, input.room)) };
    },
  });

  const changeOutput = z.object({
    room: roomSchema,
    upcoming_appointments: z
      .number()
      .int()
      .describe('Appointments still booked in the room from now on (not cancelled, missed or done)'),
    notice: z.string().optional().describe('What to do about those appointments, when something needs doing'),
  });

  const update = defineTool({
    name: 'ris_update_room',
    title: 'Change a room or take it out of use',
    description:
      'Changes the fields given of a room: new_room renames it, grid_minutes the slot grid, modality (only ' +
      'while nothing is booked in it from now on), active false takes it out of use until set true again ' +
      '(no new bookings; appointments already booked stay and are counted so they can be moved). A period ' +
      'out of service (a service visit next Tuesday) is a room closure, not this.',
    input: updateRoomInput,
    output: changeOutput,
    permission: 'ris:reference',
    annotations: UPDATE,
    phi: false,
    examples: [
      { description: 'Finer slot grid', parameters: { room: 'MR-1', grid_minutes: 15 } },
      { description: 'Out of use until further notice', parameters: { room: 'CT-2', active: false } },
    ],
    async handler(input) {
      const entry = await roomEntry(deps.db, input.room);
      if (!entry) throw await roomNotFound(deps.db, input.room);
      const now = deps.now();
      const booked = await upcomingAppointments(deps.db, entry.roomId, now);
      if (input.modality !== undefined && input.modality !== entry.modality) {
        const unknown = await unknownModality(deps.db, input.modality);
        if (unknown && !input.modality_description)
          throw invalidField('modality', `${unknown}; give modality_description to add it`);
        if (booked.length > 0)
          throw new ToolError(
            'CONFLICT',
            `${entry.room} has ${booked.length} ${entry.modality} appointment(s) booked from now on, so its modality cannot change. Move them first (ris_reschedule_appointment), or add a new room with ris_add_room.`,
            { room: entry.room, upcoming_appointments: booked.length },
          );
        if (input.modality_description)
          await ensureModality(deps.db, {
            modality: input.modality,
            description: input.modality_description,
          });
      }
      const renamed = await updateRoom(deps.db, entry.roomId, {
        room: input.new_room,
        description: input.description,
        modality: input.modality,
        gridMinutes: input.grid_minutes,
        active: input.active,
      });
      if (!renamed)
        throw new ToolError(
          'CONFLICT',
          `A room named ${input.new_room} exists already. Choose another name.`,
          { room: input.new_room },
        );
      const room = await mustGetRoom(deps, input.new_room ?? entry.room);
      const notice =
        !room.active && booked.length > 0
          ? `${room.room} is out of use, but ${booked.length} appointment(s) from ${spokenTime(booked[0]!.start, await deps.timeZone())} on are still booked in it: move them with ris_reschedule_appointment (ris_get_worklist with room ${room.room} lists them).`
          : undefined;
      return {
        room: roomOut(room),
        upcoming_appointments: booked.length,
        ...(notice ? { notice } : {}),
      };
    },
  });

  const setHours = defineTool({
    name: 'ris_set_room_hours',
    title: "Set a room's weekly opening hours",
    description:
      "Replaces a room's whole week of opening hours: one entry per window, ISO weekday (1 = Monday ... " +
      '7 = Sunday) with opens_at and closes_at (HH:MM, 24:00 allowed at the end). Several windows on one day ' +
      'are breaks; a day not listed is closed; windows of a day must not overlap. Appointments already ' +
      'booked outside the new hours are kept and listed so they can be moved.',
    input: setRoomHoursInput,
    output: z.object({
      room: roomSchema,
      outside_hours: z
        .array(z.object({ appointment_id: z.number().int(), scheduled_start: z.string() }))
        .describe('Appointments booked from now on that the new hours no longer cover (at most 50)'),
      notice: z.string().optional(),
    }),
    permission: 'ris:reference',
    annotations: REPLACE,
    phi: false,
    examples: [
      {
        description: 'Weekdays 07:00-18:00 and Saturday morning',
        parameters: {
          room: 'XR-1',
          hours: [
            ...[1, 2, 3, 4, 5].map((weekday) => ({ weekday, opens_at: '07:00', closes_at: '18:00' })),
            { weekday: 6, opens_at: '08:00', closes_at: '13:00' },
          ],
        },
      },
    ],
    async handler(input) {
      const entry = await roomEntry(deps.db, input.room);
      if (!entry) throw await roomNotFound(deps.db, input.room);
      const windows = windowsOf(input.hours);
      await replaceRoomHours(deps.db, entry.roomId, windows);
      const tz = await deps.timeZone();
      const booked = await upcomingAppointments(deps.db, entry.roomId, deps.now());
      const outside = booked.filter((a) => !withinHours(a, windows, tz));
      const room = await mustGetRoom(deps, entry.room);
      return {
        room: roomOut(room),
        outside_hours: outside
          .slice(0, 50)
          .map((a) => ({ appointment_id: a.appointmentId, scheduled_start: toZonedIso(a.start, tz) })),
        ...(outside.length > 0
          ? {
              notice: `${outside.length} appointment(s) booked in ${room.room} fall outside the new hours (the first ${spokenTime(outside[0]!.start, tz)}); they are kept: move them with ris_reschedule_appointment.`,
            }
          : {}),
      };
    },
  });

  return [list, add, update, setHours];
}

async function mustGetRoom(deps: RisDeps, room: string): Promise<RoomEntry> {
  const entry = await roomEntry(deps.db, room);
  if (!entry) throw new ToolError('INTERNAL', `Room ${room} vanished while it was being changed.`);
  return entry;
}

/** Whether an appointment lies inside one opening window of its (practice-local) day. */
function withinHours(
  appointment: { start: Date; end: Date },
  windows: readonly OpeningWindow[],
  tz: string,
): boolean {
  const start = localParts(appointment.start, tz);
  const end = start.minutes + Math.round((appointment.end.getTime() - appointment.start.getTime()) / 60_000);
  return windows.some(
    (w) =>
      w.weekday === start.isoWeekday &&
      clockToMinutes(w.opensAt) <= start.minutes &&
      end <= clockToMinutes(w.closesAt),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Procedures
// ---------------------------------------------------------------------------------------------------------

function procedureTools(deps: RisDeps): AnyTool[] {
  const procedureOutput = z.object({
    procedure: procedureSchema,
    notice: z.string().optional().describe('Something to do before the procedure can be booked'),
  });

  const list = defineTool({
    name: 'ris_list_procedures',
    title: 'List procedures',
    description:
      'The procedures an order may name: code, name, modality, slot length, preparation instructions and ' +
      'linked tariff codes. Filter by modality and by text (words of the name in any order, accents and case ' +
      'ignored: "ct head"; or the start of a code: "30"). When text finds nothing, close_matches suggests ' +
      'procedures with similar codes or names.',
    input: listProceduresInput,
    output: z.object({
      procedures: z.array(procedureSchema),
      count: z.number().int(),
      close_matches: z.array(procedureSchema).optional(),
    }),
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      { description: 'CT procedures about the head', parameters: { modality: 'CT', text: 'head' } },
      { description: 'Everything', parameters: {} },
    ],
    async handler(input) {
      const filter = input.modality ? { modality: input.modality } : {};
      const found = await listProcedureEntries(deps.db, {
        ...filter,
        ...(input.text ? { text: input.text } : {}),
        includeInactive: input.include_inactive,
        limit: input.limit,
      });
      const result = { procedures: found.map(procedureOut), count: found.length };
      if (found.length > 0 || !input.text) return result;
      const similar = await proceduresLike(deps.db, input.text, filter);
      return { ...result, close_matches: similar.map(procedureOut) };
    },
  });

  const add = defineTool({
    name: 'ris_add_procedure',
    title: 'Add a procedure',
    description:
      'Adds a procedure orders can name: code, name, modality, slot length (duration_minutes), optional ' +
      'preparation instructions, and the tariff codes it is billed with (each must be a tariff item in force ' +
      'today; default: the procedure code itself when it is one). A code already on file answers CONFLICT.',
    input: addProcedureInput,
    output: procedureOutput,
    permission: 'ris:reference',
    annotations: WRITE,
    phi: false,
    examples: [
      {
        description: 'An obstetric ultrasound with preparation',
        parameters: {
          procedure_code: 'US-OB2',
          description: 'Ultrasound obstetric, second trimester',
          modality: 'US',
          duration_minutes: 30,
          preparation: 'Drink 1 litre of water an hour before; do not empty the bladder.',
          tariff_codes: ['4031'],
        },
      },
    ],
    async handler(input) {
      const unknown = await unknownModality(deps.db, input.modality);
      if (unknown) throw invalidField('modality', `${unknown}; add a room of it first (ris_add_room)`);
      const asOf = deps.now();
      const tariffCodes =
        input.tariff_codes ?? (await defaultTariffCodes(deps.codes, input.procedure_code, asOf));
      await refuseTariffProblems(deps, tariffCodes, input.modality);
      const inserted = await insertProcedure(deps.db, input.procedure_code, {
        description: input.description,
        modality: input.modality,
        durationMinutes: input.duration_minutes,
        preparation: input.preparation ?? null,
        tariffCodes,
        active: input.active,
      });
      if (!inserted) {
        const existing = await procedureEntry(deps.db, input.procedure_code);
        throw new ToolError(
          'CONFLICT',
          `Procedure ${input.procedure_code} exists already${existing ? ` (${existing.description}, ${existing.modality})` : ''}. Change it with ris_update_procedure.`,
          { procedure_code: input.procedure_code },
        );
      }
      return procedureResult(deps, input.procedure_code);
    },
  });

  const update = defineTool({
    name: 'ris_update_procedure',
    title: 'Change or deactivate a procedure',
    description:
      'Changes the fields given of a procedure: name, modality, duration_minutes (applies to bookings made ' +
      'from now on), preparation (null clears it), tariff_codes (replaces the list; each checked against the ' +
      'tariff items in force today). active false: new orders may no longer name it; existing orders keep it.',
    input: updateProcedureInput,
    output: procedureOutput,
    permission: 'ris:reference',
    annotations: UPDATE,
    phi: false,
    examples: [
      { description: 'Longer slot', parameters: { procedure_code: '3041', duration_minutes: 45 } },
      {
        description: 'Preparation instructions',
        parameters: { procedure_code: '4011', preparation: 'Nothing to eat or drink for 6 hours before.' },
      },
    ],
    async handler(input) {
      const entry = await procedureEntry(deps.db, input.procedure_code);
      if (!entry) throw await procedureNotFound(deps.db, input.procedure_code);
      const modality = input.modality ?? entry.modality;
      if (input.modality !== undefined && input.modality !== entry.modality) {
        const unknown = await unknownModality(deps.db, input.modality);
        if (unknown) throw invalidField('modality', `${unknown}; add a room of it first (ris_add_room)`);
      }
      if (input.tariff_codes !== undefined || modality !== entry.modality)
        await refuseTariffProblems(deps, input.tariff_codes ?? entry.tariffCodes, modality);
      await updateProcedure(deps.db, entry.procedureCode, {
        description: input.description,
        modality: input.modality,
        durationMinutes: input.duration_minutes,
        preparation: input.preparation,
        tariffCodes: input.tariff_codes,
        active: input.active,
      });
      return procedureResult(deps, entry.procedureCode);
    },
  });

  return [list, add, update];
}

async function refuseTariffProblems(
  deps: RisDeps,
  tariffCodes: readonly string[],
  modality: string,
): Promise<void> {
  const problems = await tariffCodeProblems(deps.codes, tariffCodes, modality, deps.now());
  if (problems.length > 0)
    throw invalidParameters(
      problems.map((p) => ({ field: `tariff_codes.${p.index}`, message: p.message, code: 'custom' })),
    );
}

/** The procedure as stored, with a notice when no room in use can take it. */
async function procedureResult(deps: RisDeps, code: string) {
  const procedure = await procedureEntry(deps.db, code);
  if (!procedure) throw new ToolError('INTERNAL', `Procedure ${code} vanished while it was being changed.`);
  const rooms = await listRoomEntries(deps.db, { modality: procedure.modality, includeInactive: false });
  const notice =
    rooms.length === 0
      ? `No room in use is a ${procedure.modality} room, so ${procedure.procedureCode} cannot be booked yet: add one with ris_add_room.`
      : rooms.every((r) => r.hours.length === 0)
        ? `No ${procedure.modality} room has opening hours yet: set them with ris_set_room_hours.`
        : undefined;
  return { procedure: procedureOut(procedure), ...(notice ? { notice } : {}) };
}
