/**
 * The practice calendar as tools: South African public holidays per year (computed, core), practice and
 * room closures, and rooms that open on a public holiday. Scheduling and the worklist read the same data
 * (ris.calendar.ts), so a closure added here closes the day for booking at once.
 */
import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import { invalidField, ToolError } from '../../core/errors.js';
import {
  addDays,
  isoWeekdayOf,
  localParts,
  localToInstant,
  spokenDate,
  toZonedIso,
} from '../../core/practice-time.js';
import { holidaysOn, publicHolidays, SOUTH_AFRICA } from '../../core/public-holidays.js';
import type { AnyTool } from '../../core/tool.js';
import { defineTool } from '../../core/tool.js';
import type { RisDeps } from './ris.access.js';
import { type Closure, WEEKDAY_NAMES } from './ris.calendar.js';
import {
  closuresBetween,
  deleteClosure,
  deleteHolidayOpening,
  holidayOpeningsBetween,
  insertClosure,
  pendingAppointmentsBetween,
  roomByName,
  upsertHolidayOpening,
} from './ris.closures.store.js';
import { isoDate, room } from './ris.schemas.js';

/** The longest closure one row holds (the table checks it too). */
const MAX_CLOSURE_DAYS = 366;

const reason = z.string().trim().min(3, 'must say why, in a few words').max(200);
const zonedTime = z.string().describe('ISO-8601 with the practice offset');
const weekday = z.enum(WEEKDAY_NAMES as [string, ...string[]]);

const closureSchema = z.object({
  closure_id: z.number().int(),
  room: z.string().nullable().describe('The closed room; null: the whole practice'),
  first_day: isoDate,
  last_day: isoDate,
  reason: z.string(),
  created_by: z.string(),
  created_at: zonedTime,
});

const holidayOpeningSchema = z.object({
  room: z.string(),
  date: isoDate,
  holiday: z.string().describe('The public holiday the room opens on'),
  reason: z.string().nullable(),
  created_by: z.string(),
});

const holidaySchema = z.object({
  name: z.string(),
  date: isoDate.describe('The statutory date'),
  weekday,
  observed_date: isoDate.describe('The day it is kept: the Monday after, when the date is a Sunday'),
  observed_weekday: weekday,
  kind: z.enum(['fixed', 'easter', 'declared']),
});

const toMoveSchema = z.object({
  appointment_id: z.number().int(),
  room: z.string(),
  scheduled_start: zonedTime,
});

function closureOut(c: Closure, tz: string): z.input<typeof closureSchema> {
  return {
    closure_id: c.closureId,
    room: c.room,
    first_day: c.firstDay,
    last_day: c.lastDay,
    reason: c.reason,
    created_by: c.createdBy,
    created_at: toZonedIso(c.createdAt, tz),
  };
}

function holidayName(date: string): string | undefined {
  return (
    holidaysOn(date)
      .map((h) => (h.date === date ? h.name : `${h.name} (observed)`))
      .join(', ') || undefined
  );
}

function span(first: string, last: string): string {
  return first === last ? spokenDate(first) : `${spokenDate(first)} to ${spokenDate(last)}`;
}

export function closureTools(deps: RisDeps): AnyTool[] {
  const today = async () => localParts(deps.now(), await deps.timeZone()).date;

  const listHolidays = defineTool({
    name: 'ris_list_holidays',
    title: 'List public holidays',
    description:
      "South Africa's public holidays for a year (default this year), computed from the Public Holidays " +
      'Act: each with its date and the day it is observed (a holiday on a Sunday is kept on the Monday). ' +
      'The practice is closed on them unless a room is opened for the day (ris_open_room_on_holiday).',
    input: z.object({
      year: z
        .number()
        .int()
        .min(SOUTH_AFRICA.from_year, `must be ${SOUTH_AFRICA.from_year} or later (the Act's first year)`)
        .max(2199)
        .optional()
        .describe('Default: this year (practice time)'),
    }),
    output: z.object({
      year: z.number().int(),
      country: z.string(),
      holidays: z.array(holidaySchema),
      count: z.number().int(),
    }),
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [{ description: 'The holidays of 2026', parameters: { year: 2026 } }],
    async handler(input) {
      const year = input.year ?? Number((await today()).slice(0, 4));
      const holidays = publicHolidays(year).map((h) => ({
        name: h.name,
        date: h.date,
        weekday: WEEKDAY_NAMES[isoWeekdayOf(h.date) - 1]!,
        observed_date: h.observed,
        observed_weekday: WEEKDAY_NAMES[isoWeekdayOf(h.observed) - 1]!,
        kind: h.kind,
      }));
      return { year, country: SOUTH_AFRICA.country, holidays, count: holidays.length };
    },
  });

  const addClosure = defineTool({
    name: 'ris_add_closure',
    title: 'Close the practice or a room',
    description:
      'Closes the whole practice (no room given) or one room for whole days, first_day through last_day ' +
      '(default: one day), with a reason ("Staff training", "CT-1 scanner service"). Booking and the ' +
      'worklist treat those days as closed at once. Appointments already booked in them are listed, to be ' +
      'moved (ris_reschedule_appointment) or cancelled. Public holidays need no closure.',
    input: z.object({
      first_day: isoDate,
      last_day: isoDate.optional().describe('Default: first_day (one day)'),
      room: room.optional().describe('Omit to close the whole practice'),
      reason,
    }),
    output: z.object({
      closure: closureSchema,
      appointments_to_move: z.array(toMoveSchema).describe('Live appointments inside the closure'),
      message: z.string(),
    }),
    permission: 'ris:admin',
    annotations: WRITE,
    phi: false,
    examples: [
      {
        description: 'Year-end function',
        parameters: { first_day: '2026-12-24', reason: 'Staff year-end function' },
      },
      {
        description: 'A scanner service',
        parameters: {
          first_day: '2026-12-07',
          last_day: '2026-12-08',
          room: 'CT-1',
          reason: 'Scanner service',
        },
      },
    ],
    async handler(input, ctx) {
      const tz = await deps.timeZone();
      const first = input.first_day;
      const last = input.last_day ?? first;
      if (last < first) throw invalidField('last_day', `must be on or after first_day (${first})`);
      if (addDays(first, MAX_CLOSURE_DAYS) <= last)
        throw invalidField(
          'last_day',
          `must be within ${MAX_CLOSURE_DAYS} days of first_day; add another closure for longer`,
        );
      if (last < (await today()))
        throw invalidField('last_day', 'is in the past; closures are for today or later');
      const target = input.room ? await roomByName(deps.db, input.room) : undefined;
      if (input.room && !target)
        throw new ToolError('NOT_FOUND', `No room named ${input.room}.`, { room: input.room });
      const closure = await insertClosure(deps.db, {
        roomId: target?.roomId ?? null,
        firstDay: first,
        lastDay: last,
        reason: input.reason,
        createdBy: ctx.principal.subject,
      });
      const toMove = await pendingAppointmentsBetween(
        deps.db,
        localToInstant(first, 0, tz),
        localToInstant(addDays(last, 1), 0, tz),
        closure.roomId,
      );
      const what = target ? target.room : 'the practice';
      const move =
        toMove.length > 0
          ? ` ${toMove.length} appointment${toMove.length === 1 ? ' is' : 's are'} booked in that time: move ` +
            `${toMove.length === 1 ? 'it' : 'them'} (ris_reschedule_appointment) or cancel ${toMove.length === 1 ? 'it' : 'them'}.`
          : ' No appointments are booked in that time.';
      return {
        closure: closureOut(closure, tz),
        appointments_to_move: toMove.map((a) => ({
          appointment_id: a.appointmentId,
          room: a.room,
          scheduled_start: toZonedIso(a.start, tz),
        })),
        message: `Closed ${what} on ${span(first, last)} (${closure.reason}).${move}`,
      };
    },
  });

  const listClosures = defineTool({
    name: 'ris_list_closures',
    title: 'List closures',
    description:
      'Closures of the practice and of rooms from a day on (default today, for a year), and the rooms ' +
      'opened on public holidays in that time. Use it to plan bookings or before changing closures.',
    input: z.object({
      from: isoDate.optional().describe('Default: today (practice time)'),
      to: isoDate.optional().describe('Default: a year after from'),
      room: room.optional().describe("Only the practice's closures and this room's"),
    }),
    output: z.object({
      from: isoDate,
      to: isoDate,
      closures: z.array(closureSchema),
      holiday_openings: z.array(holidayOpeningSchema),
      count: z.number().int(),
    }),
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      { description: 'From today on', parameters: {} },
      {
        description: 'One room in December',
        parameters: { from: '2026-12-01', to: '2026-12-31', room: 'CT-1' },
      },
    ],
    async handler(input) {
      const tz = await deps.timeZone();
      const from = input.from ?? (await today());
      const to = input.to ?? addDays(from, 365);
      if (to < from) throw invalidField('to', `must be on or after from (${from})`);
      const target = input.room ? await roomByName(deps.db, input.room) : undefined;
      if (input.room && !target)
        throw new ToolError('NOT_FOUND', `No room named ${input.room}.`, { room: input.room });
      const [closures, openings] = await Promise.all([
        closuresBetween(deps.db, from, to, target?.roomId),
        holidayOpeningsBetween(deps.db, from, to),
      ]);
      return {
        from,
        to,
        closures: closures.map((c) => closureOut(c, tz)),
        holiday_openings: openings
          .filter((o) => !target || o.roomId === target.roomId)
          .map((o) => ({
            room: o.room,
            date: o.day,
            holiday: holidayName(o.day) ?? 'no longer a public holiday',
            reason: o.reason,
            created_by: o.createdBy,
          })),
        count: closures.length,
      };
    },
  });

  const removeClosure = defineTool({
    name: 'ris_remove_closure',
    title: 'Remove a closure',
    description:
      'Removes a closure (by closure_id from ris_list_closures or ris_add_closure): its days open again ' +
      "with the rooms' usual hours. Public holidays stay closed; open a room for one with ris_open_room_on_holiday.",
    input: z.object({ closure_id: z.number().int().positive() }),
    output: z.object({ closure: closureSchema, message: z.string() }),
    permission: 'ris:admin',
    annotations: { ...WRITE, destructiveHint: true },
    phi: false,
    examples: [{ description: 'Training was postponed', parameters: { closure_id: 3 } }],
    async handler(input) {
      const removed = await deleteClosure(deps.db, input.closure_id);
      if (!removed)
        throw new ToolError(
          'NOT_FOUND',
          `No closure ${input.closure_id}. List them with ris_list_closures.`,
          {
            closure_id: input.closure_id,
          },
        );
      const what = removed.room ?? 'the practice';
      return {
        closure: closureOut(removed, await deps.timeZone()),
        message: `Removed the closure of ${what} on ${span(removed.firstDay, removed.lastDay)} (${removed.reason}).`,
      };
    },
  });

  const openOnHoliday = defineTool({
    name: 'ris_open_room_on_holiday',
    title: 'Open a room on a public holiday',
    description:
      'Opens one room on a public holiday with its usual hours for that weekday (the trauma CT on Christmas ' +
      'Day), or closes it again with open: false. Other rooms stay closed; a closure still wins.',
    input: z.object({
      room,
      date: isoDate,
      open: z.boolean().default(true).describe('false: take the opening away again'),
      reason: reason.optional(),
    }),
    output: z.object({
      room: z.string(),
      date: isoDate,
      holiday: z.string(),
      open: z.boolean(),
      message: z.string(),
    }),
    permission: 'ris:admin',
    annotations: WRITE,
    phi: false,
    examples: [
      {
        description: 'Trauma cover on Christmas Day',
        parameters: { room: 'CT-1', date: '2026-12-25', reason: 'Trauma cover' },
      },
    ],
    async handler(input, ctx) {
      const holiday = holidayName(input.date);
      if (!holiday)
        throw invalidField(
          'date',
          `${spokenDate(input.date)} is not a public holiday; rooms keep their weekday hours on ordinary days`,
        );
      const target = await roomByName(deps.db, input.room);
      if (!target) throw new ToolError('NOT_FOUND', `No room named ${input.room}.`, { room: input.room });
      if (input.open) {
        await upsertHolidayOpening(deps.db, {
          roomId: target.roomId,
          day: input.date,
          reason: input.reason ?? null,
          createdBy: ctx.principal.subject,
        });
      } else if (!(await deleteHolidayOpening(deps.db, target.roomId, input.date))) {
        throw new ToolError('NOT_FOUND', `${target.room} was not opened for ${spokenDate(input.date)}.`, {
          room: target.room,
          date: input.date,
        });
      }
      return {
        room: target.room,
        date: input.date,
        holiday,
        open: input.open,
        message: input.open
          ? `${target.room} opens on ${spokenDate(input.date)} (${holiday}) with its usual ${WEEKDAY_NAMES[isoWeekdayOf(input.date) - 1]} hours.`
          : `${target.room} is closed again on ${spokenDate(input.date)} (${holiday}).`,
      };
    },
  });

  return [listHolidays, addClosure, listClosures, removeClosure, openOnHoliday];
}
