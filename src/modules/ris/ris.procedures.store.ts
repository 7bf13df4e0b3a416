/**
 * Procedures as the practice keeps them: code, name, modality, the slot length booked, preparation
 * instructions and the tariff items it is billed with. List (by modality and words or code prefix), add,
 * change, deactivate. Every function takes the database handle first; rows become `ProcedureEntry` objects.
 */
import { sql } from 'kysely';
import { escapeLike, recoverable, sqlState } from '../../db/sql-helpers.js';
import type { RisDb } from './ris.tables.js';

export interface ProcedureEntry {
  procedureCode: string;
  description: string;
  modality: string;
  durationMinutes: number;
  preparation: string | null;
  tariffCodes: string[];
  active: boolean;
}

export interface ProcedureFields {
  description?: string;
  modality?: string;
  durationMinutes?: number;
  preparation?: string | null;
  tariffCodes?: string[];
  active?: boolean;
}

const columns = [
  'procedure_code',
  'description',
  'modality',
  'duration_minutes',
  'preparation',
  'tariff_codes',
  'active',
] as const;

function toEntry(row: {
  procedure_code: string;
  description: string;
  modality: string;
  duration_minutes: number;
  preparation: string | null;
  tariff_codes: string[];
  active: boolean;
}): ProcedureEntry {
  return {
    procedureCode: row.procedure_code,
    description: row.description,
    modality: row.modality,
    durationMinutes: row.duration_minutes,
    preparation: row.preparation,
    tariffCodes: row.tariff_codes,
    active: row.active,
  };
}

export interface ProcedureFilter {
  modality?: string;
  /** Words that must all occur in the code or name (accents and case ignored), or the start of a code. */
  text?: string;
  includeInactive: boolean;
  limit: number;
}

export async function listProcedureEntries(db: RisDb, filter: ProcedureFilter): Promise<ProcedureEntry[]> {
  let query = db.selectFrom('ris.procedures').select(columns).orderBy('procedure_code').limit(filter.limit);
  if (!filter.includeInactive) query = query.where('active', '=', true);
  if (filter.modality) query = query.where('modality', '=', filter.modality);
  const text = filter.text?.trim();
  if (text) {
    const words = text.split(/\s+/).filter(Boolean);
    query = query.where((eb) =>
      eb.or([
        eb(sql`upper(procedure_code)`, 'like', `${escapeLike(text.toUpperCase())}%`),
        eb.and(
          words.map(
            (word) =>
              sql<boolean>`ris.fold(procedure_code || ' ' || description) LIKE '%' || ris.fold(${escapeLike(word)}) || '%'`,
          ),
        ),
      ]),
    );
  }
  return (await query.execute()).map(toEntry);
}

/** One procedure by code (any case), active or not. */
export async function procedureEntry(db: RisDb, code: string): Promise<ProcedureEntry | undefined> {
  const row = await db
    .selectFrom('ris.procedures')
    .select(columns)
    .where(sql`upper(procedure_code)`, '=', code.toUpperCase())
    .executeTakeFirst();
  return row ? toEntry(row) : undefined;
}

/** Inserts a procedure; false when the code is taken. */
export async function insertProcedure(
  db: RisDb,
  code: string,
  fields: Required<Pick<ProcedureFields, 'description' | 'modality' | 'durationMinutes'>> & ProcedureFields,
): Promise<boolean> {
  try {
    await recoverable(db, (tx) =>
      tx
        .insertInto('ris.procedures')
        .values({
          procedure_code: code,
          description: fields.description,
          modality: fields.modality,
          duration_minutes: fields.durationMinutes,
          preparation: fields.preparation ?? null,
          tariff_codes: fields.tariffCodes ?? [],
          active: fields.active ?? true,
        })
        .execute(),
    );
    return true;
  } catch (error) {
    if (sqlState(error) === '23505') return false;
    throw error;
  }
}

export async function updateProcedure(db: RisDb, code: string, fields: ProcedureFields): Promise<void> {
  const set = {
    ...(fields.description !== undefined ? { description: fields.description } : {}),
    ...(fields.modality !== undefined ? { modality: fields.modality } : {}),
    ...(fields.durationMinutes !== undefined ? { duration_minutes: fields.durationMinutes } : {}),
    ...(fields.preparation !== undefined ? { preparation: fields.preparation } : {}),
    ...(fields.tariffCodes !== undefined ? { tariff_codes: fields.tariffCodes } : {}),
    ...(fields.active !== undefined ? { active: fields.active } : {}),
  };
  if (Object.keys(set).length === 0) return;
  await db.updateTable('ris.procedures').set(set).where('procedure_code', '=', code).execute();
}

/** Whether writing `fields` over `entry` would change anything. */
export function procedureDiffers(entry: ProcedureEntry, fields: ProcedureFields): boolean {
  return (Object.keys(fields) as (keyof ProcedureFields)[]).some((key) => {
    const value = fields[key];
    if (value === undefined) return false;
    if (Array.isArray(value)) return value.join('|') !== entry.tariffCodes.join('|');
    return value !== entry[key];
  });
}
