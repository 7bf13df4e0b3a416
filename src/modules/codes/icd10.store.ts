/**
 * All of the ICD-10 table's SQL. Every function takes the database (or transaction) handle first; rows
 * become `Icd10Code` objects here.
 */
import { type Expression, type RawBuilder, sql } from 'kysely';
import { escapeLike } from '../../db/sql-helpers.js';
import type { Icd10Code } from './codes.api.js';
import type { CodesDb, CodesTables, CodesTrx } from './codes.tables.js';

/** A row as the importer writes it (dates as YYYY-MM-DD). */
export type Icd10Row = {
  [K in Exclude<keyof CodesTables['codes.icd10'], 'updated_at' | 'search'>]: K extends `${string}_date`
    ? string | null
    : CodesTables['codes.icd10'][K];
};

/** The columns compared to tell an update from a row that did not change. */
const DATA_COLUMNS = [
  'description',
  'code_3',
  'code_3_description',
  'chapter_no',
  'chapter_description',
  'group_code',
  'group_description',
  'valid_clinical_use',
  'valid_primary',
  'asterisk',
  'dagger',
  'sequelae',
  'age_range',
  'age_min_years',
  'age_under_years',
  'gender',
  'status',
  'who_start_date',
  'who_end_date',
  'who_revision_history',
  'sa_start_date',
  'sa_end_date',
  'mit_number',
  'source',
] as const;

/** A date column as YYYY-MM-DD text (pg would hand back a Date at local midnight, PGlite a string). */
export function day(column: string): RawBuilder<string | null> {
  return sql<string | null>`to_char(${sql.ref(column)}, 'YYYY-MM-DD')`;
}

function columns(prefix = 'codes.icd10') {
  const c = (name: string) => `${prefix}.${name}`;
  return [
    sql.ref<string>(c('code')).as('code'),
    sql.ref<string>(c('description')).as('description'),
    sql.ref<string>(c('code_3')).as('code_3'),
    sql.ref<string>(c('code_3_description')).as('code_3_description'),
    sql.ref<string>(c('chapter_no')).as('chapter_no'),
    sql.ref<string>(c('chapter_description')).as('chapter_description'),
    sql.ref<string>(c('group_code')).as('group_code'),
    sql.ref<string>(c('group_description')).as('group_description'),
    sql.ref<boolean>(c('valid_clinical_use')).as('valid_clinical_use'),
    sql.ref<boolean>(c('valid_primary')).as('valid_primary'),
    sql.ref<boolean>(c('asterisk')).as('asterisk'),
    sql.ref<boolean>(c('dagger')).as('dagger'),
    sql.ref<boolean>(c('sequelae')).as('sequelae'),
    sql.ref<string | null>(c('age_range')).as('age_range'),
    sql.ref<number | null>(c('age_min_years')).as('age_min_years'),
    sql.ref<number | null>(c('age_under_years')).as('age_under_years'),
    sql.ref<'M' | 'F' | null>(c('gender')).as('gender'),
    sql.ref<string | null>(c('status')).as('status'),
    day(c('who_start_date')).as('who_start_date'),
    day(c('who_end_date')).as('who_end_date'),
    day(c('sa_start_date')).as('sa_start_date'),
    day(c('sa_end_date')).as('sa_end_date'),
    sql.ref<string>(c('source')).as('source'),
  ];
}

interface SelectedRow {
  code: string;
  description: string;
  code_3: string;
  code_3_description: string;
  chapter_no: string;
  chapter_description: string;
  group_code: string;
  group_description: string;
  valid_clinical_use: boolean;
  valid_primary: boolean;
  asterisk: boolean;
  dagger: boolean;
  sequelae: boolean;
  age_range: string | null;
  age_min_years: number | null;
  age_under_years: number | null;
  gender: 'M' | 'F' | null;
  status: string | null;
  who_start_date: string | null;
  who_end_date: string | null;
  sa_start_date: string | null;
  sa_end_date: string | null;
  source: string;
}

function toCode(row: SelectedRow): Icd10Code {
  return {
    code: row.code,
    description: row.description,
    code3: row.code_3,
    code3Description: row.code_3_description,
    chapterNo: row.chapter_no,
    chapterDescription: row.chapter_description,
    groupCode: row.group_code,
    groupDescription: row.group_description,
    validClinicalUse: row.valid_clinical_use,
    validPrimary: row.valid_primary,
    asterisk: row.asterisk,
    dagger: row.dagger,
    sequelae: row.sequelae,
    ageRange: row.age_range,
    ageMinYears: row.age_min_years === null ? null : Number(row.age_min_years),
    ageUnderYears: row.age_under_years === null ? null : Number(row.age_under_years),
    gender: row.gender,
    status: row.status,
    whoStartDate: row.who_start_date,
    whoEndDate: row.who_end_date,
    saStartDate: row.sa_start_date,
    saEndDate: row.sa_end_date,
    source: row.source,
  };
}

/** The codes found among `codes` (already normalised), by code. */
export async function findIcd10(db: CodesDb, codes: readonly string[]): Promise<Map<string, Icd10Code>> {
  const wanted = [...new Set(codes)];
  if (wanted.length === 0) return new Map();
  const rows = (await db
    .selectFrom('codes.icd10')
    .select(columns())
    .where('code', '=', sql<string>`any(${wanted}::text[])`)
    .execute()) as SelectedRow[];
  return new Map(rows.map((row) => [row.code, toCode(row)]));
}

/** Codes valid for clinical use under each three-character code (at most `each` per heading, in order). */
export async function icd10Under(
  db: CodesDb,
  code3s: readonly string[],
  each = 8,
): Promise<Map<string, Icd10Code[]>> {
  const wanted = [...new Set(code3s)];
  const under = new Map<string, Icd10Code[]>();
  if (wanted.length === 0) return under;
  const rows = (await db
    .selectFrom('codes.icd10')
    .select(columns())
    .where('code_3', '=', sql<string>`any(${wanted}::text[])`)
    .where('valid_clinical_use', '=', true)
    .orderBy('code')
    .execute()) as SelectedRow[];
  for (const row of rows) {
    const list = under.get(row.code_3) ?? [];
    if (list.length < each) list.push(toCode(row));
    under.set(row.code_3, list);
  }
  return under;
}

/** Text that reads as the start of a code: "S06", "s06.", "S06.0", "R0". */
const CODE_PREFIX = /^[A-Za-z](\d{1,2}(\.\d{0,2})?)?$/;

export interface SearchOptions {
  limit: number;
  clinicalUseOnly: boolean;
}

/**
 * Codes by code prefix (in code order) or by description words, ranked: codes valid for clinical use
 * before headings, then a match in the code's own description before one in its heading's, shorter
 * descriptions first among equals. Words are read as
 * web-search syntax ("chest pain" -throat, "fracture femur"); when that finds nothing, word beginnings are
 * tried ("pneumo" finds pneumonia and pneumothorax).
 */
export async function searchIcd10(db: CodesDb, text: string, options: SearchOptions): Promise<Icd10Code[]> {
  const query = text.trim();
  if (query === '') return [];
  const base = () => {
    let q = db.selectFrom('codes.icd10').select(columns());
    if (options.clinicalUseOnly) q = q.where('valid_clinical_use', '=', true);
    return q;
  };
  if (CODE_PREFIX.test(query)) {
    const prefix = query.toUpperCase();
    const rows = (await base()
      .where('code', 'like', `${escapeLike(prefix)}%`)
      .orderBy('code')
      .limit(options.limit)
      .execute()) as SelectedRow[];
    return rows.map(toCode);
  }
  const ranked = async (tsquery: Expression<unknown>) =>
    (await base()
      .where(sql<boolean>`search @@ ${tsquery}`)
      .orderBy('valid_clinical_use', 'desc')
      .orderBy(sql`ts_rank(search, ${tsquery}, 1)`, 'desc')
      .orderBy('code')
      .limit(options.limit)
      .execute()) as SelectedRow[];
  let rows = await ranked(sql`websearch_to_tsquery('english', ${query})`);
  if (rows.length === 0) {
    const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    if (words.length > 0) {
      rows = await ranked(sql`to_tsquery('english', ${words.map((w) => `${w}:*`).join(' & ')})`);
    }
  }
  return rows.map(toCode);
}

/** Writes a batch; counts rows new to the table and rows whose content changed (unchanged rows are left). */
export async function upsertIcd10(
  trx: CodesTrx,
  rows: readonly Icd10Row[],
): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const current = sql.join(DATA_COLUMNS.map((c) => sql.ref(`codes.icd10.${c}`)));
  const incoming = sql.join(DATA_COLUMNS.map((c) => sql.ref(`excluded.${c}`)));
  const written = await trx
    .insertInto('codes.icd10')
    .values([...rows])
    .onConflict((oc) =>
      oc
        .column('code')
        .doUpdateSet((eb) => ({
          ...Object.fromEntries(DATA_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)])),
          updated_at: sql<Date>`now()`,
        }))
        .where(sql<boolean>`(${current}) IS DISTINCT FROM (${incoming})`),
    )
    // xmax is 0 for a row this statement inserted, the updating transaction's id for one it updated.
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
    .execute();
  const inserted = written.filter((row) => row.inserted).length;
  return { inserted, updated: written.length - inserted };
}

export async function countIcd10(db: CodesDb): Promise<{ total: number; demo: number }> {
  const row = await db
    .selectFrom('codes.icd10')
    .select([
      sql<number>`count(*)::int`.as('total'),
      sql<number>`(count(*) FILTER (WHERE source = 'demo'))::int`.as('demo'),
    ])
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), demo: Number(row.demo) };
}

/** Takes the ICD-10 import lock for this transaction: imports (and demo loads) run one at a time. */
export async function lockIcd10Imports(trx: CodesTrx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('codes.icd10 import'))`.execute(trx);
}
