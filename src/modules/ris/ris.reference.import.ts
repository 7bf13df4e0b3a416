/**
 * Imports reference data from CSV (`upc-mcp import physicians|procedures|rooms FILE`): each row is checked
 * with the same schemas the tools use, rows are matched to what is on file by their natural key (practice
 * number, procedure code, room name) and added or updated, so importing the same file twice changes nothing.
 * All or nothing: one rejected row means nothing is written, unless `skipInvalid`.
 *
 * The CSV itself is read by the caller (the CLI streams it with the codes module's reader) and handed over
 * as records; the first record is the header. Columns are found by name, in any case and any order; extra
 * columns are ignored. An empty cell leaves that field as it is (a new row gets the default); single
 * fields are cleared with the tools.
 */
import type { z } from 'zod';
import type { CodesApi } from '../codes/codes.api.js';
import {
  findPhysician,
  insertPhysician,
  type PhysicianFields,
  physicianDiffers,
  updatePhysician,
} from './ris.physicians.store.js';
import {
  insertProcedure,
  type ProcedureFields,
  procedureDiffers,
  procedureEntry,
  updateProcedure,
} from './ris.procedures.store.js';
import {
  defaultTariffCodes,
  physicianLabel,
  tariffCodeProblems,
  unknownModality,
} from './ris.reference.checks.js';
import {
  addPhysicianInput,
  addProcedureInput,
  addRoomInput,
  parseWeekText,
  windowsOf,
} from './ris.reference.schemas.js';
import {
  ensureModality,
  insertRoom,
  replaceRoomHours,
  roomEntry,
  upcomingAppointments,
  updateRoom,
} from './ris.rooms.store.js';
import type { RisDb } from './ris.tables.js';

export const REFERENCE_KINDS = ['physicians', 'procedures', 'rooms'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

/** One CSV record: the line it starts on, its fields, and a quoting problem if the reader found one. */
export interface ReferenceRecord {
  line: number;
  fields: string[];
  problem?: string;
}

/** The file cannot be imported at all (its header is wrong): nothing is. */
export class ReferenceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceFileError';
  }
}

export interface ReferenceImportOptions {
  skipInvalid?: boolean;
  /** The product clock's now: tariff items must be in force on its day; bookings from then on count. */
  now: Date;
}

export interface ReferenceImportReport {
  kind: ReferenceKind;
  rowsRead: number;
  accepted: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: { line: number; message: string }[];
  committed: boolean;
}

interface Column {
  name: string;
  field: string;
  required: boolean;
  type?: 'integer' | 'flag' | 'list' | 'week';
}

/** The columns of each kind of file, and the tool parameter each fills. */
export const REFERENCE_COLUMNS: Record<ReferenceKind, readonly Column[]> = {
  physicians: [
    { name: 'Practice_Number', field: 'practice_number', required: true },
    { name: 'HPCSA_Number', field: 'hpcsa_number', required: true },
    { name: 'Title', field: 'title', required: false },
    { name: 'Family_Name', field: 'family_name', required: true },
    { name: 'Given_Names', field: 'given_names', required: true },
    { name: 'Phone', field: 'phone', required: false },
    { name: 'Email', field: 'email', required: false },
    { name: 'User_Subject', field: 'user_subject', required: false },
    { name: 'Active', field: 'active', required: false, type: 'flag' },
  ],
  procedures: [
    { name: 'Code', field: 'procedure_code', required: true },
    { name: 'Description', field: 'description', required: true },
    { name: 'Modality', field: 'modality', required: true },
    { name: 'Duration_Minutes', field: 'duration_minutes', required: true, type: 'integer' },
    { name: 'Preparation', field: 'preparation', required: false },
    { name: 'Tariff_Codes', field: 'tariff_codes', required: false, type: 'list' },
    { name: 'Active', field: 'active', required: false, type: 'flag' },
  ],
  rooms: [
    { name: 'Room', field: 'room', required: true },
    { name: 'Description', field: 'description', required: true },
    { name: 'Modality', field: 'modality', required: true },
    { name: 'Modality_Description', field: 'modality_description', required: false },
    { name: 'Grid_Minutes', field: 'grid_minutes', required: false, type: 'integer' },
    { name: 'Hours', field: 'hours', required: false, type: 'week' },
    { name: 'Active', field: 'active', required: false, type: 'flag' },
  ],
};

const SCHEMAS = {
  physicians: addPhysicianInput,
  procedures: addProcedureInput,
  rooms: addRoomInput,
} as const;
const KEY_FIELD = { physicians: 'practice_number', procedures: 'procedure_code', rooms: 'room' } as const;

type Parsed<K extends ReferenceKind> = Partial<z.output<(typeof SCHEMAS)[K]>>;

interface Row<K extends ReferenceKind = ReferenceKind> {
  line: number;
  key: string;
  /** Only the fields the row gives. */
  values: Parsed<K>;
  /** A new procedure without Tariff_Codes: its own code when that is a tariff item (as the tool does). */
  defaultTariffCodes?: string[];
}

class RolledBack extends Error {}

export async function importReference(
  db: RisDb,
  codes: CodesApi,
  kind: ReferenceKind,
  records: AsyncIterable<ReferenceRecord>,
  options: ReferenceImportOptions,
): Promise<ReferenceImportReport> {
  const report: ReferenceImportReport = {
    kind,
    rowsRead: 0,
    accepted: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    rejected: [],
    committed: false,
  };
  const reject = (line: number, key: string, message: string) =>
    report.rejected.push({ line, message: `${key || '(no key)'}: ${message}` });
  let columns: { column: Column; index: number }[] | undefined;
  let width = 0;
  const rows: Row[] = [];
  const seen = new Map<string, number>();
  for await (const record of records) {
    if (!columns) {
      columns = mapColumns(kind, record.fields);
      width = record.fields.length;
      continue;
    }
    report.rowsRead += 1;
    const parsed = parseRow(kind, record, columns, width);
    if ('problem' in parsed) {
      reject(record.line, parsed.key, parsed.problem);
      continue;
    }
    const earlier = seen.get(parsed.key.toUpperCase());
    if (earlier !== undefined) {
      reject(record.line, parsed.key, `already on line ${earlier}`);
      continue;
    }
    seen.set(parsed.key.toUpperCase(), record.line);
    rows.push(parsed);
  }
  if (!columns) throw new ReferenceFileError(`The file is empty: expected the header line of a ${kind} file`);

  // Tariff items are checked before the transaction: the codes module reads on connections of its own.
  let good =
    kind === 'procedures' ? await withTariffs(codes, rows as Row<'procedures'>[], options, reject) : rows;
  try {
    await db.transaction().execute(async (trx) => {
      good = await checkAgainstFile(trx, kind, good, options, reject);
      report.rejected.sort((a, b) => a.line - b.line);
      report.accepted = good.length;
      if (report.rejected.length > 0 && !options.skipInvalid) throw new RolledBack();
      for (const row of good) {
        const outcome = await write(trx, kind, row);
        report[outcome] += 1;
      }
    });
    report.committed = true;
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
  }
  return report;
}

function mapColumns(kind: ReferenceKind, header: readonly string[]): { column: Column; index: number }[] {
  const positions = new Map<string, number>();
  for (const [index, name] of header.entries()) {
    const key = name.trim().toLowerCase();
    if (positions.has(key)) throw new ReferenceFileError(`The header has column "${name.trim()}" twice`);
    positions.set(key, index);
  }
  const expected = REFERENCE_COLUMNS[kind];
  const missing = expected.filter((c) => c.required && !positions.has(c.name.toLowerCase()));
  if (missing.length > 0) {
    throw new ReferenceFileError(
      `This is not a ${kind} file: the header lacks ${missing.map((c) => c.name).join(', ')}. ` +
        `Columns: ${expected.map((c) => (c.required ? c.name : `[${c.name}]`)).join(', ')}; found: ${header.join(', ') || '(nothing)'}`,
    );
  }
  return expected.flatMap((column) => {
    const index = positions.get(column.name.toLowerCase());
    return index === undefined ? [] : [{ column, index }];
  });
}

function parseRow(
  kind: ReferenceKind,
  record: ReferenceRecord,
  columns: readonly { column: Column; index: number }[],
  width: number,
): Row | { key: string; problem: string } {
  const keyColumn = columns.find((c) => c.column.field === KEY_FIELD[kind])!;
  const key = (record.fields[keyColumn.index] ?? '').trim();
  if (record.problem) return { key, problem: `Broken CSV quoting: ${record.problem}` };
  if (record.fields.length !== width)
    return {
      key,
      problem: `The row has ${record.fields.length} fields; the header has ${width} (text with a comma must be in double quotes)`,
    };
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const { column, index } of columns) {
    const text = (record.fields[index] ?? '').trim();
    if (text === '') continue;
    const value = cellValue(column, text);
    if (value instanceof CellProblem) problems.push(value.message);
    else raw[column.field] = value;
  }
  const parsed = SCHEMAS[kind].safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '');
      const name = columns.find((c) => c.column.field === field)?.column.name ?? field;
      const where =
        issue.path.length > 1 && field === 'hours' ? ` (${describeHoursIssue(issue.path, raw)})` : '';
      problems.push(`${name} ${issue.message}${where}`);
    }
  }
  if (problems.length > 0 || !parsed.success) return { key, problem: problems.join('; ') };
  const given = new Set(Object.keys(raw));
  const values = Object.fromEntries(Object.entries(parsed.data).filter(([field]) => given.has(field)));
  return { line: record.line, key: String(values[KEY_FIELD[kind]] ?? key), values };
}

class CellProblem {
  constructor(readonly message: string) {}
}

function cellValue(column: Column, text: string): unknown {
  switch (column.type) {
    case 'integer':
      return /^\d{1,6}$/.test(text)
        ? Number(text)
        : new CellProblem(`${column.name} "${text}" is not a whole number`);
    case 'flag': {
      const flag = text.toUpperCase();
      if (['Y', 'YES', 'TRUE', '1'].includes(flag)) return true;
      if (['N', 'NO', 'FALSE', '0'].includes(flag)) return false;
      return new CellProblem(`${column.name} is "${text}"; expected Y or N`);
    }
    case 'list':
      return text.split(/[\s;|]+/).filter(Boolean);
    case 'week': {
      const week = parseWeekText(text);
      return typeof week === 'string' ? new CellProblem(`${column.name}: ${week}`) : week;
    }
    default:
      return text;
  }
}

function describeHoursIssue(path: readonly PropertyKey[], raw: Record<string, unknown>): string {
  const window = (raw.hours as { weekday: number; opens_at: string; closes_at: string }[] | undefined)?.[
    Number(path[1])
  ];
  const day = window ? ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][window.weekday - 1] : undefined;
  return window ? `${day} ${window.opens_at}-${window.closes_at}` : `window ${String(path[1])}`;
}

async function withTariffs(
  codes: CodesApi,
  rows: Row<'procedures'>[],
  options: ReferenceImportOptions,
  reject: (line: number, key: string, message: string) => void,
): Promise<Row[]> {
  const kept: Row[] = [];
  for (const row of rows) {
    const { values } = row;
    if (values.tariff_codes === undefined) {
      kept.push(row);
      continue;
    }
    const problems = await tariffCodeProblems(codes, values.tariff_codes, values.modality ?? '', options.now);
    if (problems.length === 0) kept.push(row);
    else reject(row.line, row.key, problems.map((p) => `Tariff_Codes: ${p.message}`).join('; '));
  }
  for (const row of kept) {
    if ((row as Row<'procedures'>).values.tariff_codes === undefined)
      row.defaultTariffCodes = await defaultTariffCodes(codes, row.key, options.now);
  }
  return kept;
}

/** Checks that need what is on file: known modalities, numbers other physicians hold, rooms in use. */
async function checkAgainstFile(
  db: RisDb,
  kind: ReferenceKind,
  rows: readonly Row[],
  options: ReferenceImportOptions,
  reject: (line: number, key: string, message: string) => void,
): Promise<Row[]> {
  const kept: Row[] = [];
  // Modalities a row of this file adds (a room with Modality_Description): later rows may use them.
  const added = new Set<string>();
  for (const row of rows) {
    const problem = await rowProblem(db, kind, row, options, added);
    if (problem) {
      reject(row.line, row.key, problem);
      continue;
    }
    kept.push(row);
    const v = row.values as Parsed<'rooms'>;
    if (kind === 'rooms' && v.modality && v.modality_description) added.add(v.modality);
  }
  return kept;
}

async function rowProblem(
  db: RisDb,
  kind: ReferenceKind,
  row: Row,
  options: ReferenceImportOptions,
  added: ReadonlySet<string>,
): Promise<string | undefined> {
  if (kind === 'physicians') {
    const v = row.values as Parsed<'physicians'>;
    for (const [by, column] of [
      [{ hpcsaNumber: v.hpcsa_number }, 'HPCSA_Number'],
      [{ userSubject: v.user_subject }, 'User_Subject'],
    ] as const) {
      const value = Object.values(by)[0];
      if (!value) continue;
      const holder = await findPhysician(db, by as { hpcsaNumber: string } | { userSubject: string });
      if (holder && holder.practiceNumber !== row.key)
        return `${column} ${value} already belongs to ${physicianLabel(holder)}`;
    }
    return undefined;
  }
  const v = row.values as Parsed<'procedures'> & Parsed<'rooms'>;
  const unknown = added.has(v.modality ?? '') ? undefined : await unknownModality(db, v.modality ?? '');
  if (unknown && !(kind === 'rooms' && v.modality_description))
    return `Modality: ${unknown}${kind === 'rooms' ? '; add a Modality_Description column to add it' : ''}`;
  if (kind === 'rooms') {
    const existing = await roomEntry(db, row.key);
    if (existing && v.modality !== undefined && v.modality !== existing.modality) {
      const booked = await upcomingAppointments(db, existing.roomId, options.now);
      if (booked.length > 0)
        return `Modality: ${existing.room} is ${existing.modality} with ${booked.length} appointment(s) booked from now on; move them before changing its modality`;
    }
  }
  return undefined;
}

async function write(
  db: RisDb,
  kind: ReferenceKind,
  row: Row,
): Promise<'inserted' | 'updated' | 'unchanged'> {
  switch (kind) {
    case 'physicians':
      return writePhysician(db, row as Row<'physicians'>);
    case 'procedures':
      return writeProcedure(db, row as Row<'procedures'>);
    case 'rooms':
      return writeRoom(db, row as Row<'rooms'>);
  }
}

async function writePhysician(
  db: RisDb,
  row: Row<'physicians'>,
): Promise<'inserted' | 'updated' | 'unchanged'> {
  const v = row.values;
  const fields: PhysicianFields = {
    hpcsaNumber: v.hpcsa_number,
    title: v.title,
    familyName: v.family_name,
    givenNames: v.given_names,
    phone: v.phone,
    email: v.email,
    userSubject: v.user_subject,
    active: v.active,
  };
  const existing = await findPhysician(db, { practiceNumber: row.key });
  if (!existing) {
    const written = await insertPhysician(db, {
      ...fields,
      practiceNumber: row.key,
      hpcsaNumber: v.hpcsa_number!,
      familyName: v.family_name!,
      givenNames: v.given_names!,
    });
    if ('clash' in written)
      throw new Error(`line ${row.line}: ${written.clash} taken by a concurrent change`);
    return 'inserted';
  }
  if (!physicianDiffers(existing, fields)) return 'unchanged';
  const written = await updatePhysician(db, existing.physicianId, fields);
  if ('clash' in written) throw new Error(`line ${row.line}: ${written.clash} taken by a concurrent change`);
  return 'updated';
}

async function writeProcedure(
  db: RisDb,
  row: Row<'procedures'>,
): Promise<'inserted' | 'updated' | 'unchanged'> {
  const v = row.values;
  const fields: ProcedureFields = {
    description: v.description,
    modality: v.modality,
    durationMinutes: v.duration_minutes,
    preparation: v.preparation,
    tariffCodes: v.tariff_codes,
    active: v.active,
  };
  const existing = await procedureEntry(db, row.key);
  if (!existing) {
    const inserted = await insertProcedure(db, row.key, {
      ...fields,
      description: v.description!,
      modality: v.modality!,
      durationMinutes: v.duration_minutes!,
      tariffCodes: v.tariff_codes ?? row.defaultTariffCodes ?? [],
    });
    if (!inserted) throw new Error(`line ${row.line}: procedure ${row.key} added by a concurrent change`);
    return 'inserted';
  }
  if (!procedureDiffers(existing, fields)) return 'unchanged';
  await updateProcedure(db, existing.procedureCode, fields);
  return 'updated';
}

async function writeRoom(db: RisDb, row: Row<'rooms'>): Promise<'inserted' | 'updated' | 'unchanged'> {
  const v = row.values;
  if (v.modality_description && v.modality)
    await ensureModality(db, { modality: v.modality, description: v.modality_description });
  const hours = v.hours ? windowsOf(v.hours) : undefined;
  const existing = await roomEntry(db, row.key);
  if (!existing) {
    const roomId = await insertRoom(db, {
      room: row.key,
      description: v.description!,
      modality: v.modality!,
      gridMinutes: v.grid_minutes,
      active: v.active,
    });
    if (roomId === undefined)
      throw new Error(`line ${row.line}: room ${row.key} added by a concurrent change`);
    if (hours) await replaceRoomHours(db, roomId, hours);
    return 'inserted';
  }
  const fields = {
    description: v.description,
    modality: v.modality,
    gridMinutes: v.grid_minutes,
    active: v.active,
  };
  const changed = (Object.keys(fields) as (keyof typeof fields)[]).filter(
    (key) => fields[key] !== undefined && fields[key] !== existing[key],
  );
  const sameHours = hours === undefined || weekKey(hours) === weekKey(existing.hours);
  if (changed.length === 0 && sameHours) return 'unchanged';
  if (changed.length > 0) await updateRoom(db, existing.roomId, fields);
  if (!sameHours && hours) await replaceRoomHours(db, existing.roomId, hours);
  return 'updated';
}

function weekKey(hours: readonly { weekday: number; opensAt: string; closesAt: string }[]): string {
  return hours
    .map((h) => `${h.weekday} ${h.opensAt}-${h.closesAt}`)
    .sort()
    .join(',');
}
