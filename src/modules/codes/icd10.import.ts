/**
 * Imports the South African ICD-10 Master Industry Table (MIT) from its CSV form: about 41,000 rows,
 * streamed, checked row by row and upserted in batches inside one transaction. Every rejected row is
 * reported with its line number and why; by default one rejected row means nothing is written (the table
 * is left exactly as it was), `skipInvalid` writes the good rows and still reports the bad ones.
 */
import { type CsvInput, type CsvRecord, mapHeader, RowReader, withCsvRecords } from './codes.csv.js';
import type { CodesDb } from './codes.tables.js';
import { icd10FormatProblem, normaliseIcd10, parseAgeRange } from './icd10.rules.js';
import { countIcd10, type Icd10Row, lockIcd10Imports, upsertIcd10 } from './icd10.store.js';

/** The MIT's columns, spelled as published; found case-insensitively, in any order, extra columns ignored. */
export const MIT_COLUMNS = [
  'Number',
  'Chapter_No',
  'Chapter_Desc',
  'Group_Code',
  'Group_Desc',
  'ICD10_3_Code',
  'ICD10_3_Code_Desc',
  'ICD10_Code',
  'WHO_Full_Desc',
  'Valid_ICD10_ClinicalUse',
  'Valid_ICD10_Primary',
  'Valid_ICD10_Asterisk',
  'Valid_ICD10_Dagger',
  'Valid_ICD10_Sequelae',
  'Age_Range',
  'Gender',
  'Status',
  'WHO_Start_date',
  'WHO_End_date',
  'WHO_Revision_History',
  'SA_Start_Date',
  'SA_End_Date',
] as const;
type MitColumn = (typeof MIT_COLUMNS)[number];

export interface LineNote {
  line: number;
  message: string;
}

export interface ImportProgress {
  rowsRead: number;
}

export interface Icd10ImportOptions {
  /** 'demo', or 'mit:<file name>' (what the rows' `source` column will say). */
  source: string;
  /** Write the good rows even when some are rejected (they are still all reported). Default false. */
  skipInvalid?: boolean;
  /** Rows per INSERT; default 1000, at most 2000. */
  batchSize?: number;
  /** Calls `onProgress` every this many rows; default 5000. */
  progressEvery?: number;
  onProgress?: (progress: ImportProgress) => void;
}

export interface Icd10ImportReport {
  source: string;
  /** Data rows read (the header and blank lines not counted). */
  rowsRead: number;
  /** Rows that passed every check. */
  accepted: number;
  /** New codes written (0 when not committed). */
  inserted: number;
  /** Existing codes whose content changed (0 when not committed). */
  updated: number;
  /** Accepted rows identical to what the table held. */
  unchanged: number;
  /** Every rejected row, in file order. */
  rejected: LineNote[];
  /** Rows imported with a caveat (an Age_Range that could not be read is kept as text, not checked). */
  warnings: LineNote[];
  /** False when rejected rows stopped the import: then the table is exactly as it was. */
  committed: boolean;
  /** Codes in the table after the import. */
  tableTotal: number;
  /** Of those, codes this file did not list (kept: codes are never deleted, they get an end date). */
  notInFile: number;
}

class RolledBack extends Error {}

/** Imports an MIT CSV (a path, or its bytes) into `codes.icd10`. Throws `ImportFileError` for file faults. */
export async function importIcd10(
  db: CodesDb,
  input: CsvInput,
  options: Icd10ImportOptions,
): Promise<Icd10ImportReport> {
  if (options.source !== 'demo' && !/^mit:.+/.test(options.source))
    throw new RangeError(`ICD-10 source must be "demo" or "mit:<file name>", not "${options.source}"`);
  return withCsvRecords(input, (records) => importRecords(db, records, options));
}

async function importRecords(
  db: CodesDb,
  records: AsyncGenerator<CsvRecord>,
  options: Icd10ImportOptions,
): Promise<Icd10ImportReport> {
  // At most 2000 rows of 24 columns per statement: PostgreSQL takes at most 65,535 parameters.
  const batchSize = Math.min(Math.max(options.batchSize ?? 1000, 1), 2000);
  const progressEvery = options.progressEvery ?? 5000;
  // The header is checked before any transaction starts: a wrong file fails at once.
  const first = await records.next();
  const header = first.done ? undefined : first.value;
  const columns = mapHeader(header, MIT_COLUMNS, 'an ICD-10 Master Industry Table (MIT)');
  const width = header!.fields.length;
  const report: Icd10ImportReport = {
    source: options.source,
    rowsRead: 0,
    accepted: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    rejected: [],
    warnings: [],
    committed: false,
    tableTotal: 0,
    notInFile: 0,
  };
  const lineOf = new Map<string, number>();
  try {
    await db.transaction().execute(async (trx) => {
      await lockIcd10Imports(trx);
      let batch: Icd10Row[] = [];
      // Once a row is rejected without skipInvalid nothing will be kept: stop writing, keep checking.
      const writing = () => options.skipInvalid || report.rejected.length === 0;
      const flush = async () => {
        if (batch.length > 0 && writing()) {
          const written = await upsertIcd10(trx, batch);
          report.inserted += written.inserted;
          report.updated += written.updated;
        }
        batch = [];
      };
      for await (const record of records) {
        report.rowsRead += 1;
        if (report.rowsRead % progressEvery === 0) options.onProgress?.({ rowsRead: report.rowsRead });
        const parsed = parseMitRow(record, columns, width, options.source);
        if (typeof parsed === 'string') {
          report.rejected.push({ line: record.line, message: parsed });
          continue;
        }
        const earlier = lineOf.get(parsed.row.code);
        if (earlier !== undefined) {
          report.rejected.push({
            line: record.line,
            message: `ICD10_Code ${parsed.row.code} is already on line ${earlier}`,
          });
          continue;
        }
        lineOf.set(parsed.row.code, record.line);
        if (parsed.warning) report.warnings.push({ line: record.line, message: parsed.warning });
        report.accepted += 1;
        batch.push(parsed.row);
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      if (!writing()) throw new RolledBack();
      report.tableTotal = (await countIcd10(trx)).total;
    });
    report.committed = true;
    report.unchanged = report.accepted - report.inserted - report.updated;
    report.notInFile = report.tableTotal - report.accepted;
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
    report.inserted = 0;
    report.updated = 0;
    report.tableTotal = (await countIcd10(db)).total;
  }
  return report;
}

/** One MIT row as a table row, or why it cannot be imported (every problem, in one sentence). */
function parseMitRow(
  record: CsvRecord,
  columns: Record<MitColumn, number>,
  width: number,
  source: string,
): { row: Icd10Row; warning?: string } | string {
  if (record.problem) return `Broken CSV quoting: ${record.problem}`;
  if (record.fields.length !== width) {
    return `The row has ${record.fields.length} fields; the header has ${width} (a description with a comma must be in double quotes)`;
  }
  const r = new RowReader(record, columns);
  const rawCode = r.required('ICD10_Code');
  const code = normaliseIcd10(rawCode);
  if (rawCode !== '') {
    const problem = icd10FormatProblem(code);
    if (problem) r.problems.push(`ICD10_Code: ${problem}`);
  }
  const code3 = r.required('ICD10_3_Code').toUpperCase();
  if (code3 !== '' && code3 !== code.slice(0, 3)) {
    r.problems.push(`ICD10_3_Code "${code3}" is not the first three characters of ICD10_Code "${code}"`);
  }
  const numberText = r.text('Number');
  const number = numberText === '' ? null : Number(numberText);
  if (number !== null && !(Number.isInteger(number) && number >= 0 && number <= 2_147_483_647)) {
    r.problems.push(`Number "${numberText}" is not a whole number`);
  }
  const gender = r.text('Gender').toUpperCase();
  if (gender !== '' && gender !== 'M' && gender !== 'F') {
    r.problems.push(`Gender is "${gender}"; expected M, F or empty (either sex)`);
  }
  const ageRange = r.optional('Age_Range');
  const age = parseAgeRange(ageRange);
  const row: Icd10Row = {
    code,
    description: r.required('WHO_Full_Desc'),
    code_3: code3,
    code_3_description: r.required('ICD10_3_Code_Desc'),
    chapter_no: r.required('Chapter_No'),
    chapter_description: r.required('Chapter_Desc'),
    group_code: r.required('Group_Code'),
    group_description: r.required('Group_Desc'),
    valid_clinical_use: r.flag('Valid_ICD10_ClinicalUse'),
    valid_primary: r.flag('Valid_ICD10_Primary'),
    asterisk: r.flag('Valid_ICD10_Asterisk'),
    dagger: r.flag('Valid_ICD10_Dagger'),
    sequelae: r.flag('Valid_ICD10_Sequelae'),
    age_range: ageRange,
    age_min_years: age?.minYears ?? null,
    age_under_years: age?.underYears ?? null,
    gender: gender === 'M' || gender === 'F' ? gender : null,
    status: r.optional('Status'),
    who_start_date: r.day('WHO_Start_date'),
    who_end_date: r.day('WHO_End_date'),
    who_revision_history: r.optional('WHO_Revision_History'),
    sa_start_date: r.day('SA_Start_Date'),
    sa_end_date: r.day('SA_End_Date'),
    mit_number: number,
    source,
  };
  if (row.sa_start_date && row.sa_end_date && row.sa_end_date < row.sa_start_date) {
    r.problems.push(`SA_End_Date ${row.sa_end_date} is before SA_Start_Date ${row.sa_start_date}`);
  }
  if (r.problems.length > 0) return `${rawCode || '(no code)'}: ${r.problems.join('; ')}`;
  return age
    ? { row }
    : { row, warning: `${code}: Age_Range "${ageRange}" was not understood; kept as text, age not checked` };
}
