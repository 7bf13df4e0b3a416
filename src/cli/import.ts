import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { clockFor } from '../core/clock.js';
import { PracticeZone } from '../core/practice-time.js';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createCodesApi } from '../modules/codes/codes.api.js';
import { type CsvRecord, ImportFileError, readCsv } from '../modules/codes/codes.csv.js';
import { codesDb } from '../modules/codes/codes.tables.js';
import { type Icd10ImportReport, importIcd10, type LineNote } from '../modules/codes/icd10.import.js';
import { importTariffs, TARIFF_TABLE_ID, type TariffImportReport } from '../modules/codes/tariffs.import.js';
import {
  importReference,
  REFERENCE_COLUMNS,
  REFERENCE_KINDS,
  ReferenceFileError,
  type ReferenceImportReport,
  type ReferenceKind,
} from '../modules/ris/ris.reference.import.js';
import { risDb } from '../modules/ris/ris.tables.js';
import { fail, ok, warn } from './output.js';

export const IMPORT_HELP = `Usage: upc-mcp import icd10 FILE [--skip-invalid]
       upc-mcp import tariffs FILE [--table ID] [--description TEXT] [--skip-invalid]
       upc-mcp import physicians|procedures|rooms FILE [--skip-invalid]

Loads reference codes and the practice's reference data into the configured database (running migrations
first); see docs/CODES.md and docs/RIS.md ("Reference data").
  icd10     the SA ICD-10 Master Industry Table as CSV (UTF-8, with its published header: Number,
            Chapter_No, ..., ICD10_Code, WHO_Full_Desc, Valid_ICD10_ClinicalUse, ..., SA_End_Date).
            Codes are added or updated, never deleted; rows are marked source "mit:<file name>".
  tariffs   a tariff table as CSV: Code,Description,Kind,Modality,Effective_From,Effective_To,Amount_ZAR.
            --table ID names the table (default: the file name, e.g. discovery-2026.csv → discovery-2026).
  physicians  ${columnsOf('physicians')}
  procedures  ${columnsOf('procedures')}
              (Tariff_Codes: tariff items in force today, separated by spaces)
  rooms       ${columnsOf('rooms')}
              (Hours: "Mon-Fri 07:00-18:00; Sat 08:00-13:00", breaks as "Mon-Fri 07:00-12:30,13:30-17:00")
            Rows are added or updated by practice number, code or room name: importing a file again
            changes nothing. [Optional] columns may be left out; an empty cell keeps what is on file.

All or nothing: if any row is rejected, nothing is imported and every rejected row is listed with its
line number. --skip-invalid imports the good rows and still lists the rejected ones.
Progress goes to stderr every 5000 rows.
Exit codes: 0 imported; 1 nothing imported because the command, the file or its header is wrong;
2 rows were rejected (nothing imported, or only the good rows with --skip-invalid).`;

/** Rejected rows shown in full; the rest are counted. */
const SHOWN = 20;
const PROGRESS_EVERY = 5000;

export async function importCommand(config: Config, args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseImportArgs>;
  try {
    parsed = parseImportArgs(args);
  } catch (error) {
    console.error(fail((error as Error).message));
    console.error(IMPORT_HELP);
    return 1;
  }
  const { kind, file, values } = parsed;
  if (isReferenceKind(kind))
    return importReferenceCommand(config, kind, file, values['skip-invalid'] ?? false);
  const table = values.table?.trim().toLowerCase() ?? tableFromFile(file);
  if (kind === 'tariffs' && !TARIFF_TABLE_ID.test(table)) {
    console.error(
      fail(
        `"${table}" cannot be a tariff table id: use 1-40 lower-case letters, digits, dots, dashes or underscores (--table discovery-2026)`,
      ),
    );
    return 1;
  }
  const progress = ({ rowsRead }: { rowsRead: number }) =>
    console.error(`  ${kind}: ${rowsRead.toLocaleString('en-ZA')} rows read…`);
  // No statement time limit: an import is a one-off batch, not a call someone waits on.
  const database = await openDatabase({ ...config, DATABASE_STATEMENT_TIMEOUT_MS: 0 });
  try {
    await migrate(database);
    const db = codesDb(database);
    const name = path.basename(file);
    const options = {
      skipInvalid: values['skip-invalid'] ?? false,
      progressEvery: PROGRESS_EVERY,
      onProgress: progress,
    };
    if (kind === 'icd10') {
      const report = await importIcd10(db, file, { ...options, source: `mit:${name}` });
      return printIcd10(report, file);
    }
    const report = await importTariffs(db, file, {
      ...options,
      table,
      source: `import:${name}`,
      ...(values.description ? { tableDescription: values.description } : {}),
    });
    return printTariffs(report, file);
  } catch (error) {
    if (error instanceof ImportFileError) {
      console.error(fail(`${file}: ${error.message}`));
      console.error(fail('Nothing was imported.'));
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
}

function parseImportArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      table: { type: 'string' },
      description: { type: 'string' },
      'skip-invalid': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [kind, file, ...extra] = positionals;
  if (kind !== 'icd10' && kind !== 'tariffs' && !isReferenceKind(kind))
    throw new Error(
      `What to import: "icd10", "tariffs", "physicians", "procedures" or "rooms"${kind ? `, not "${kind}"` : ''}`,
    );
  if (!file) throw new Error(`Name the ${kind} CSV file to import`);
  if (extra.length > 0) throw new Error(`Unexpected arguments: ${extra.join(' ')} (one file per import)`);
  if (kind !== 'tariffs' && (values.table || values.description))
    throw new Error('--table and --description are for tariff imports');
  return { kind, file, values } as const;
}

/** discovery-2026.csv → discovery-2026 */
function tableFromFile(file: string): string {
  return path
    .basename(file)
    .replace(/\.[^.]*$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 40);
}

const n = (count: number) => count.toLocaleString('en-ZA');

function printRejected(rejected: readonly LineNote[], what: string): void {
  if (rejected.length === 0) return;
  console.error(fail(`${n(rejected.length)} ${what} rejected:`));
  for (const row of rejected.slice(0, SHOWN)) console.error(`    line ${row.line}: ${row.message}`);
  if (rejected.length > SHOWN) console.error(`    … and ${n(rejected.length - SHOWN)} more rejected rows`);
}

function printWarnings(warnings: readonly LineNote[]): void {
  if (warnings.length === 0) return;
  console.error(warn(`${n(warnings.length)} rows imported with a warning:`));
  for (const row of warnings.slice(0, SHOWN)) console.error(`    line ${row.line}: ${row.message}`);
  if (warnings.length > SHOWN) console.error(`    … and ${n(warnings.length - SHOWN)} more`);
}

/** The closing line and exit code shared by both kinds. */
function outcome(committed: boolean, rejected: number, accepted: number): number {
  if (!committed) {
    console.error(
      fail(
        `Nothing was imported: fix the rejected rows and import again, or add --skip-invalid to import the ${n(accepted)} good rows.`,
      ),
    );
    return 2;
  }
  return rejected > 0 ? 2 : 0;
}

function printIcd10(report: Icd10ImportReport, file: string): number {
  console.log(`ICD-10 import from ${file} (source "${report.source}")`);
  console.log(`  rows read   ${n(report.rowsRead)}`);
  console.log(`  accepted    ${n(report.accepted)}`);
  console.log(`  rejected    ${n(report.rejected.length)}`);
  if (report.committed) {
    console.log(`  inserted    ${n(report.inserted)}`);
    console.log(`  updated     ${n(report.updated)}`);
    console.log(`  unchanged   ${n(report.unchanged)}`);
    console.log(
      `  the table now holds ${n(report.tableTotal)} codes` +
        (report.notInFile > 0 ? `, ${n(report.notInFile)} of them not in this file (kept)` : ''),
    );
  }
  printWarnings(report.warnings);
  printRejected(report.rejected, 'rows');
  if (report.committed) {
    const skipped = report.rejected.length > 0 ? ` (${n(report.rejected.length)} rejected rows skipped)` : '';
    console.log(ok(`ICD-10 codes imported${skipped}`));
  }
  return outcome(report.committed, report.rejected.length, report.accepted);
}

function printTariffs(report: TariffImportReport, file: string): number {
  console.log(`Tariff import from ${file} into table "${report.table}" (source "${report.source}")`);
  console.log(`  rows read   ${n(report.rowsRead)}`);
  console.log(`  accepted    ${n(report.accepted)}`);
  console.log(`  rejected    ${n(report.rejected.length)}`);
  if (report.committed) {
    const counts = (c: TariffImportReport['items']) =>
      `${n(c.inserted)} inserted, ${n(c.updated)} updated, ${n(c.unchanged)} unchanged`;
    console.log(`  items       ${counts(report.items)}`);
    console.log(`  prices      ${counts(report.prices)}`);
  }
  printWarnings(report.warnings);
  printRejected(report.rejected, 'rows');
  if (report.committed) {
    const skipped = report.rejected.length > 0 ? ` (${n(report.rejected.length)} rejected rows skipped)` : '';
    console.log(ok(`tariff table "${report.table}" imported${skipped}`));
  }
  return outcome(report.committed, report.rejected.length, report.accepted);
}

function isReferenceKind(kind: string | undefined): kind is ReferenceKind {
  return (REFERENCE_KINDS as readonly (string | undefined)[]).includes(kind);
}

/** A kind's columns ([optional] in brackets), wrapped under the help's second column. */
function columnsOf(kind: ReferenceKind): string {
  const lines = [''];
  for (const c of REFERENCE_COLUMNS[kind]) {
    const name = c.required ? c.name : `[${c.name}]`;
    const last = lines.length - 1;
    if (lines[last]!.length + name.length > 80) lines.push(name);
    else lines[last] = lines[last] ? `${lines[last]},${name}` : name;
  }
  return lines.join(',\n              ');
}

/** Physicians, procedures or rooms: checked as the tools check them, upserted by their natural key. */
async function importReferenceCommand(
  config: Config,
  kind: ReferenceKind,
  file: string,
  skipInvalid: boolean,
): Promise<number> {
  const database = await openDatabase({ ...config, DATABASE_STATEMENT_TIMEOUT_MS: 0 });
  const records = readCsv(file);
  try {
    await migrate(database);
    const clock = clockFor(config.UPC_CLOCK_START);
    const report = await importReference(
      risDb(database),
      codesApiOf(database, clock),
      kind,
      counted(records, kind),
      {
        skipInvalid,
        now: clock.now(),
      },
    );
    return printReference(report, file);
  } catch (error) {
    if (error instanceof ImportFileError || error instanceof ReferenceFileError) {
      console.error(fail(`${file}: ${error.message}`));
      console.error(fail('Nothing was imported.'));
      return 1;
    }
    throw error;
  } finally {
    await records.return(undefined); // closes the file when the import stops early
    await database.close();
  }
}

/** The codes module's API over this database: procedures' tariff codes are checked with it. */
function codesApiOf(database: Database, clock: { now(): Date }) {
  const zone = new PracticeZone(database.db);
  return createCodesApi({ db: codesDb(database), timeZone: () => zone.zone(), now: () => clock.now() });
}

/** The records, with a progress line on stderr every PROGRESS_EVERY rows. */
async function* counted(records: AsyncIterable<CsvRecord>, kind: string): AsyncGenerator<CsvRecord> {
  let rows = -1; // the header is not a row
  for await (const record of records) {
    rows += 1;
    if (rows > 0 && rows % PROGRESS_EVERY === 0) console.error(`  ${kind}: ${n(rows)} rows read…`);
    yield record;
  }
}

function printReference(report: ReferenceImportReport, file: string): number {
  console.log(`${report.kind[0]!.toUpperCase()}${report.kind.slice(1)} import from ${file}`);
  console.log(`  rows read   ${n(report.rowsRead)}`);
  console.log(`  accepted    ${n(report.accepted)}`);
  console.log(`  rejected    ${n(report.rejected.length)}`);
  if (report.committed) {
    console.log(`  inserted    ${n(report.inserted)}`);
    console.log(`  updated     ${n(report.updated)}`);
    console.log(`  unchanged   ${n(report.unchanged)}`);
  }
  printRejected(report.rejected, 'rows');
  if (report.committed) {
    const skipped = report.rejected.length > 0 ? ` (${n(report.rejected.length)} rejected rows skipped)` : '';
    console.log(ok(`${report.kind} imported${skipped}`));
  }
  return outcome(report.committed, report.rejected.length, report.accepted);
}
