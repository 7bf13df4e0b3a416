/**
 * Imports one tariff table from CSV: each row is a tariff item (code, description, kind, modality) and its
 * price in the table for a period. Columns (case-insensitive, any order, extra columns ignored):
 *
 *   Code,Description,Kind,Modality,Effective_From,Effective_To,Amount_ZAR
 *   3011,CT head without contrast,item,CT,2026-01-01,,2850.00
 *
 * Kind is `item` or `modifier`; Modality is empty or a DICOM modality (CT, MR, ...); Effective_To is the
 * last day the price applies (empty: open); Amount_ZAR is rand with up to two decimals (empty: the item has
 * no price in this table, e.g. an information-only modifier). A code may have several rows (its price
 * history) if their periods do not overlap. Nothing is written when any row is rejected, unless
 * `skipInvalid`. Tariff files are small (thousands of rows), so the rows are checked together before
 * anything is written.
 */
import { batches } from '../../db/sql-helpers.js';
import {
  type CsvInput,
  type CsvRecord,
  mapHeader,
  parseRandCents,
  RowReader,
  withCsvRecords,
} from './codes.csv.js';
import { type CodesDb, TARIFF_KINDS, type TariffKind } from './codes.tables.js';
import type { ImportProgress, LineNote } from './icd10.import.js';
import {
  lockTariffImports,
  pricePeriods,
  type TariffItemRow,
  type TariffPriceRow,
  upsertTariffItems,
  upsertTariffPrices,
  upsertTariffTable,
  type WriteCounts,
} from './tariffs.store.js';

export const TARIFF_COLUMNS = [
  'Code',
  'Description',
  'Kind',
  'Modality',
  'Effective_From',
  'Effective_To',
  'Amount_ZAR',
] as const;
type TariffColumn = (typeof TARIFF_COLUMNS)[number];

export const TARIFF_CODE = /^[A-Z0-9][A-Z0-9-]{0,19}$/;
export const TARIFF_TABLE_ID = /^[a-z0-9][a-z0-9._-]{0,39}$/;

export interface TariffImportOptions {
  /** The tariff table the prices belong to, e.g. `demo` or `discovery-2026`. */
  table: string;
  /** Shown with the table; default "Imported from <source>". */
  tableDescription?: string;
  /** 'demo', or 'import:<file name>'. */
  source: string;
  skipInvalid?: boolean;
  progressEvery?: number;
  onProgress?: (progress: ImportProgress) => void;
}

export interface TariffImportReport {
  table: string;
  source: string;
  rowsRead: number;
  accepted: number;
  /** Tariff items new to the table / changed (0 when not committed). */
  items: WriteCounts & { unchanged: number };
  /** Prices new / changed (0 when not committed). */
  prices: WriteCounts & { unchanged: number };
  rejected: LineNote[];
  warnings: LineNote[];
  committed: boolean;
}

interface TariffRow {
  line: number;
  code: string;
  description: string;
  kind: TariffKind;
  modality: string | null;
  from: string;
  to: string | null;
  amountCents: number | null;
}

class RolledBack extends Error {}

const overlaps = (a: { from: string; to: string | null }, b: { from: string; to: string | null }) =>
  a.from <= (b.to ?? '9999-12-31') && b.from <= (a.to ?? '9999-12-31');
const period = (p: { from: string; to: string | null }) => `${p.from} to ${p.to ?? 'open end'}`;

/** Imports a tariff CSV (a path, or its bytes) as table `options.table`. Throws `ImportFileError` for file faults. */
export async function importTariffs(
  db: CodesDb,
  input: CsvInput,
  options: TariffImportOptions,
): Promise<TariffImportReport> {
  if (!TARIFF_TABLE_ID.test(options.table)) {
    throw new RangeError(
      `Tariff table id "${options.table}" must be 1-40 lower-case letters, digits, dots, dashes or underscores, e.g. discovery-2026`,
    );
  }
  if (options.source !== 'demo' && !/^import:.+/.test(options.source))
    throw new RangeError(`Tariff source must be "demo" or "import:<file name>", not "${options.source}"`);
  return withCsvRecords(input, (records) => importRecords(db, records, options));
}

async function importRecords(
  db: CodesDb,
  records: AsyncGenerator<CsvRecord>,
  options: TariffImportOptions,
): Promise<TariffImportReport> {
  const progressEvery = options.progressEvery ?? 5000;
  const first = await records.next();
  const header = first.done ? undefined : first.value;
  const columns = mapHeader(header, TARIFF_COLUMNS, 'a tariff');
  const width = header!.fields.length;
  const report: TariffImportReport = {
    table: options.table,
    source: options.source,
    rowsRead: 0,
    accepted: 0,
    items: { inserted: 0, updated: 0, unchanged: 0 },
    prices: { inserted: 0, updated: 0, unchanged: 0 },
    rejected: [],
    warnings: [],
    committed: false,
  };
  const rows: TariffRow[] = [];
  for await (const record of records) {
    report.rowsRead += 1;
    if (report.rowsRead % progressEvery === 0) options.onProgress?.({ rowsRead: report.rowsRead });
    const parsed = parseTariffRow(record, columns, width);
    if (typeof parsed === 'string') report.rejected.push({ line: record.line, message: parsed });
    else rows.push(parsed);
  }
  const accepted = acrossRows(rows, report.rejected);
  try {
    await db.transaction().execute(async (trx) => {
      await lockTariffImports(trx);
      // The table's prices after this import: the existing ones, replaced by the file's rows of the same
      // code and start day. A file row overlapping one that stays is rejected.
      const fileKeys = new Set(accepted.map((row) => `${row.code}|${row.from}`));
      const staying = (await pricePeriods(trx, options.table)).filter(
        (p) => !fileKeys.has(`${p.code}|${p.from}`),
      );
      const stayingByCode = groupBy(staying, (p) => p.code);
      const good = accepted.filter((row) => {
        if (row.amountCents === null) return true;
        const clash = (stayingByCode.get(row.code) ?? []).find((p) => overlaps(p, row));
        if (!clash) return true;
        report.rejected.push({
          line: row.line,
          message: `${row.code}: the price from ${period(row)} overlaps the price from ${period(clash)} already in table ${options.table}; give that one an end (a row with Code ${row.code}, Effective_From ${clash.from} and an Effective_To) in this file`,
        });
        return false;
      });
      report.rejected.sort((a, b) => a.line - b.line);
      report.accepted = good.length;
      if (report.rejected.length > 0 && !options.skipInvalid) throw new RolledBack();
      await upsertTariffTable(trx, {
        table_id: options.table,
        description: options.tableDescription ?? `Imported from ${options.source.replace(/^import:/, '')}`,
        source: options.source,
      });
      const items = itemsOf(good, options.source);
      const prices: TariffPriceRow[] = good
        .filter((row) => row.amountCents !== null)
        .map((row) => ({
          table_id: options.table,
          code: row.code,
          effective_from: row.from,
          effective_to: row.to,
          amount_cents: row.amountCents!,
          source: options.source,
        }));
      const add = (to: WriteCounts, written: WriteCounts) => {
        to.inserted += written.inserted;
        to.updated += written.updated;
      };
      // Items first: prices refer to them.
      for (const batch of batches(items)) add(report.items, await upsertTariffItems(trx, batch));
      for (const batch of batches(prices)) add(report.prices, await upsertTariffPrices(trx, batch));
      report.items.unchanged = items.length - report.items.inserted - report.items.updated;
      report.prices.unchanged = prices.length - report.prices.inserted - report.prices.updated;
    });
    report.committed = true;
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
  }
  return report;
}

function parseTariffRow(
  record: CsvRecord,
  columns: Record<TariffColumn, number>,
  width: number,
): TariffRow | string {
  if (record.problem) return `Broken CSV quoting: ${record.problem}`;
  if (record.fields.length !== width) {
    return `The row has ${record.fields.length} fields; the header has ${width} (a description with a comma must be in double quotes)`;
  }
  const r = new RowReader(record, columns);
  const rawCode = r.required('Code');
  const code = rawCode.toUpperCase();
  if (code !== '' && !TARIFF_CODE.test(code)) {
    r.problems.push(`Code "${rawCode}" must be 1-20 letters, digits or dashes`);
  }
  const kind = r.required('Kind').toLowerCase();
  if (kind !== '' && !(TARIFF_KINDS as readonly string[]).includes(kind)) {
    r.problems.push(`Kind is "${kind}"; expected item or modifier`);
  }
  const modality = r.optional('Modality')?.toUpperCase() ?? null;
  if (modality !== null && !/^[A-Z]{2,3}$/.test(modality)) {
    r.problems.push(`Modality "${modality}" is not a DICOM modality such as CT, MR, CR, US or MG`);
  }
  const from = r.day('Effective_From');
  if (from === null && r.text('Effective_From') === '') r.problems.push('Effective_From is empty');
  const to = r.day('Effective_To');
  if (from && to && to < from) r.problems.push(`Effective_To ${to} is before Effective_From ${from}`);
  const amountText = r.text('Amount_ZAR');
  const amountCents = amountText === '' ? null : (parseRandCents(amountText) ?? null);
  if (amountText !== '' && amountCents === null) {
    r.problems.push(`Amount_ZAR "${amountText}" is not an amount in rand such as 2850.00`);
  }
  const description = r.required('Description');
  if (r.problems.length > 0) return `${rawCode || '(no code)'}: ${r.problems.join('; ')}`;
  return {
    line: record.line,
    code,
    description,
    kind: kind as TariffKind,
    modality,
    from: from!,
    to,
    amountCents,
  };
}

/** Checks rows of the same code against each other; returns the rows kept, adds the others to `rejected`. */
function acrossRows(rows: readonly TariffRow[], rejected: LineNote[]): TariffRow[] {
  const kept: TariffRow[] = [];
  const byCode = new Map<string, TariffRow[]>();
  for (const row of rows) {
    const same = byCode.get(row.code) ?? [];
    const reject = (message: string) => rejected.push({ line: row.line, message: `${row.code}: ${message}` });
    const first = same[0];
    const twin = same.find((other) => other.from === row.from);
    const clash = same.find(
      (other) => other.amountCents !== null && row.amountCents !== null && overlaps(other, row),
    );
    if (first && (first.kind !== row.kind || first.modality !== row.modality)) {
      reject(
        `kind/modality ${row.kind}/${row.modality ?? '-'} differ from line ${first.line} (${first.kind}/${first.modality ?? '-'})`,
      );
    } else if (twin) reject(`a row from ${row.from} is already on line ${twin.line}`);
    else if (clash) reject(`the price from ${period(row)} overlaps line ${clash.line} (${period(clash)})`);
    else {
      same.push(row);
      byCode.set(row.code, same);
      kept.push(row);
    }
  }
  rejected.sort((a, b) => a.line - b.line);
  return kept;
}

/** `Map.groupBy`, which Node 20 lacks. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** One item per code: the description of its latest row, the widest period of its rows. */
function itemsOf(rows: readonly TariffRow[], source: string): TariffItemRow[] {
  return [...groupBy(rows, (row) => row.code).values()].map((same) => {
    const latest = same.reduce((a, b) => (b.from > a.from ? b : a));
    const from = same.reduce((min, row) => (row.from < min ? row.from : min), latest.from);
    const open = same.some((row) => row.to === null);
    const to = open ? null : same.reduce((max, row) => (row.to! > max ? row.to! : max), same[0]!.to!);
    return {
      code: latest.code,
      description: latest.description,
      kind: latest.kind,
      modality: latest.modality,
      effective_from: from,
      effective_to: to,
      source,
    };
  });
}
