/**
 * Referring physicians as the practice keeps them: search (name folded by `ris.fold`, so accents and case do
 * not matter), add, change, deactivate, and the upsert a CSV import uses. Every function takes the database
 * handle first; rows become `PhysicianEntry` objects and never leave the module as rows.
 */
import { sql } from 'kysely';
import { constraintOf, escapeLike, recoverable, sqlState } from '../../db/sql-helpers.js';
import { type Physician, physicianFromRow } from './ris.reference.store.js';
import type { RisDb } from './ris.tables.js';

/** A referring physician as the practice keeps them (the same shape the RIS reads everywhere). */
export type PhysicianEntry = Physician;

/** The fields a physician is written with; absent ones are left as they are (or defaulted on insert). */
export interface PhysicianFields {
  practiceNumber?: string;
  hpcsaNumber?: string;
  title?: string;
  familyName?: string;
  givenNames?: string;
  phone?: string | null;
  email?: string | null;
  userSubject?: string | null;
  active?: boolean;
}

const columns = [
  'physician_id',
  'practice_number',
  'hpcsa_number',
  'title',
  'family_name',
  'given_names',
  'phone',
  'email',
  'user_subject',
  'active',
] as const;

export interface PhysicianSearch {
  /** Words that must all occur in "title given names family name" (accents and case ignored). */
  name?: string;
  /** Practice number, or its beginning. */
  practiceNumber?: string;
  hpcsaNumber?: string;
  includeInactive: boolean;
  limit: number;
}

export async function searchPhysicians(db: RisDb, search: PhysicianSearch): Promise<PhysicianEntry[]> {
  let query = db
    .selectFrom('ris.referring_physicians')
    .select(columns)
    .orderBy('family_name')
    .orderBy('given_names')
    .orderBy('practice_number')
    .limit(search.limit);
  if (!search.includeInactive) query = query.where('active', '=', true);
  for (const word of (search.name ?? '').split(/\s+/).filter(Boolean)) {
    query = query.where(sql<boolean>`search_name LIKE '%' || ris.fold(${escapeLike(word)}) || '%'`);
  }
  if (search.practiceNumber)
    query = query.where('practice_number', 'like', `${escapeLike(search.practiceNumber)}%`);
  if (search.hpcsaNumber)
    query = query.where(sql`upper(hpcsa_number)`, '=', search.hpcsaNumber.toUpperCase());
  return (await query.execute()).map(physicianFromRow);
}

export async function findPhysician(
  db: RisDb,
  by: { practiceNumber: string } | { hpcsaNumber: string } | { userSubject: string },
): Promise<PhysicianEntry | undefined> {
  const query = db.selectFrom('ris.referring_physicians').select(columns);
  const row = await ('practiceNumber' in by
    ? query.where('practice_number', '=', by.practiceNumber)
    : 'hpcsaNumber' in by
      ? query.where(sql`upper(hpcsa_number)`, '=', by.hpcsaNumber.toUpperCase())
      : query.where('user_subject', '=', by.userSubject)
  ).executeTakeFirst();
  return row ? physicianFromRow(row) : undefined;
}

/** Every physician, for close matches (a practice's referrers: hundreds, not millions). */
export async function allPhysicians(
  db: RisDb,
  options: { includeInactive: boolean },
): Promise<PhysicianEntry[]> {
  let query = db.selectFrom('ris.referring_physicians').select(columns).orderBy('practice_number');
  if (!options.includeInactive) query = query.where('active', '=', true);
  return (await query.execute()).map(physicianFromRow);
}

/** Which unique field another physician already holds, from a unique violation. */
export type PhysicianClash = 'practice_number' | 'hpcsa_number' | 'user_subject';

function clashOf(error: unknown): PhysicianClash | undefined {
  if (sqlState(error) !== '23505') return undefined;
  const constraint = constraintOf(error) ?? '';
  if (constraint.includes('hpcsa')) return 'hpcsa_number';
  if (constraint.includes('user_subject')) return 'user_subject';
  return 'practice_number';
}

/** Inserts a physician; a number or login another physician holds answers `{ clash }` instead. */
export async function insertPhysician(
  db: RisDb,
  fields: PhysicianFields &
    Required<Pick<PhysicianFields, 'practiceNumber' | 'hpcsaNumber' | 'familyName' | 'givenNames'>>,
): Promise<{ entry: PhysicianEntry } | { clash: PhysicianClash }> {
  try {
    const row = await recoverable(db, (tx) =>
      tx
        .insertInto('ris.referring_physicians')
        .values({
          practice_number: fields.practiceNumber,
          hpcsa_number: fields.hpcsaNumber,
          ...(fields.title ? { title: fields.title } : {}),
          family_name: fields.familyName,
          given_names: fields.givenNames,
          phone: fields.phone ?? null,
          email: fields.email ?? null,
          user_subject: fields.userSubject ?? null,
          active: fields.active ?? true,
        })
        .returning(columns)
        .executeTakeFirstOrThrow(),
    );
    return { entry: physicianFromRow(row) };
  } catch (error) {
    const clash = clashOf(error);
    if (clash) return { clash };
    throw error;
  }
}

/** Changes the given fields of one physician; a number or login another holds answers `{ clash }`. */
export async function updatePhysician(
  db: RisDb,
  physicianId: number,
  fields: PhysicianFields,
): Promise<{ entry: PhysicianEntry } | { clash: PhysicianClash }> {
  const set = {
    ...(fields.practiceNumber !== undefined ? { practice_number: fields.practiceNumber } : {}),
    ...(fields.hpcsaNumber !== undefined ? { hpcsa_number: fields.hpcsaNumber } : {}),
    ...(fields.title !== undefined ? { title: fields.title } : {}),
    ...(fields.familyName !== undefined ? { family_name: fields.familyName } : {}),
    ...(fields.givenNames !== undefined ? { given_names: fields.givenNames } : {}),
    ...(fields.phone !== undefined ? { phone: fields.phone } : {}),
    ...(fields.email !== undefined ? { email: fields.email } : {}),
    ...(fields.userSubject !== undefined ? { user_subject: fields.userSubject } : {}),
    ...(fields.active !== undefined ? { active: fields.active } : {}),
  };
  try {
    const row = await recoverable(db, (tx) =>
      tx
        .updateTable('ris.referring_physicians')
        .set({ ...set, updated_at: sql<Date>`now()` })
        .where('physician_id', '=', physicianId)
        .returning(columns)
        .executeTakeFirstOrThrow(),
    );
    return { entry: physicianFromRow(row) };
  } catch (error) {
    const clash = clashOf(error);
    if (clash) return { clash };
    throw error;
  }
}

/** Whether writing `fields` over `entry` would change anything. */
export function physicianDiffers(entry: PhysicianEntry, fields: PhysicianFields): boolean {
  return (Object.keys(fields) as (keyof PhysicianFields)[]).some(
    (key) => fields[key] !== undefined && fields[key] !== entry[key],
  );
}
