/**
 * Reading the reference files: a streaming CSV reader (RFC 4180: quoted fields may hold commas, doubled
 * quotes and line breaks), UTF-8 with or without a byte-order mark, LF or CRLF line ends; the header
 * check; and the field parsers both importers share (Y/N flags, calendar days, rand amounts). Records come
 * out one at a time with the line they start on, so a 41,000-row file never sits in memory whole.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { textProblem } from '../../core/text.js';

/** The file cannot be imported at all (unreadable, not UTF-8, wrong header, broken quoting): nothing is. */
export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export interface CsvRecord {
  /** The line the record starts on (1 = the header). */
  line: number;
  fields: string[];
  /** Set when the record breaks the CSV rules in a way that still ends it (text after a closing quote). */
  problem?: string;
}

/** A file path, or the bytes (or text) themselves. */
export type CsvInput = string | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** Opens a file for `readCsv`, failing with a sentence when it is missing, a folder or unreadable. */
export async function openCsvFile(file: string): Promise<AsyncIterable<Uint8Array>> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    throw new ImportFileError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  if (!info.isFile()) throw new ImportFileError(`Cannot read ${file}: it is not a file`);
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const chunk of stream) yield chunk as Uint8Array;
      } catch (error) {
        throw new ImportFileError(`Cannot read ${file}: ${(error as Error).message}`);
      }
    },
  };
}

/** Yields the records of a CSV stream (header included); blank lines are skipped. */
export async function* readCsv(input: CsvInput): AsyncGenerator<CsvRecord> {
  const chunks = typeof input === 'string' ? await openCsvFile(input) : input;
  // fatal: a file saved in Windows-1252 fails loudly instead of importing mangled descriptions. The decoder
  // drops a leading byte-order mark by itself.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let afterQuote = false;
  let touched = false;
  let problem: string | undefined;
  let line = 1;
  let recordLine = 1;
  let skipLf = false;
  let first = true;

  const take = (): CsvRecord | undefined => {
    const empty = !touched && field === '' && fields.length === 0;
    const record: CsvRecord | undefined = empty
      ? undefined
      : { line: recordLine, fields: [...fields, field], ...(problem ? { problem } : {}) };
    fields = [];
    field = '';
    afterQuote = false;
    touched = false;
    problem = undefined;
    recordLine = line;
    return record;
  };

  const decode = (chunk: Uint8Array | string, final: boolean): string => {
    if (typeof chunk === 'string') return chunk;
    try {
      return decoder.decode(chunk, { stream: !final });
    } catch {
      // Where: the lines of this chunk before the first byte that is not UTF-8.
      const lenient = new TextDecoder('utf-8').decode(chunk);
      const before = lenient.slice(0, Math.max(lenient.indexOf('\uFFFD'), 0));
      const near = line + (before.match(/\n/g)?.length ?? 0);
      throw new ImportFileError(
        `The file is not UTF-8 text (near line ${near}): save it as "CSV UTF-8" and import it again`,
      );
    }
  };

  const parse = function* (text: string): Generator<CsvRecord> {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (first) {
        first = false;
        if (c === '\uFEFF') continue; // a BOM in text handed over as strings
      }
      if (skipLf) {
        skipLf = false;
        if (c === '\n') continue;
      }
      if (quoted) {
        if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (c === '\n') line += 1;
          field += c;
        }
        continue;
      }
      if (c === '"') {
        touched = true;
        if (afterQuote) {
          // "" inside a quoted field: one literal quote, and still inside the quotes.
          field += '"';
          quoted = true;
          afterQuote = false;
        } else if (field === '') {
          quoted = true;
        } else {
          field += c; // a stray quote in an unquoted field (5" film) is kept as text
        }
        continue;
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        afterQuote = false;
        touched = true;
        continue;
      }
      if (c === '\r' || c === '\n') {
        line += 1;
        if (c === '\r') skipLf = true;
        const record = take();
        if (record) yield record;
        continue;
      }
      if (afterQuote) {
        if (c === ' ' || c === '\t') continue; // "A00.0" , ...: blanks after a closing quote are harmless
        problem ??= `text after a closing quote in field ${fields.length + 1}`;
      }
      field += c;
      touched = true;
    }
  };

  for await (const chunk of chunks) yield* parse(decode(chunk, false));
  yield* parse(decode(new Uint8Array(0), true));
  if (quoted) {
    throw new ImportFileError(
      `Line ${recordLine}: a quoted field is never closed (a missing " swallows the rest of the file)`,
    );
  }
  const last = take();
  if (last) yield last;
}

/** Column positions by name, found case-insensitively; every required column must be there exactly once. */
export function mapHeader<K extends string>(
  record: CsvRecord | undefined,
  required: readonly K[],
  what: string,
): Record<K, number> {
  if (!record) throw new ImportFileError(`The file is empty: expected the header line of ${what} file`);
  const names = record.fields.map((name) => name.trim());
  const positions = new Map<string, number>();
  for (const [index, name] of names.entries()) {
    const key = name.toLowerCase();
    if (positions.has(key)) throw new ImportFileError(`The header has column "${name}" twice`);
    positions.set(key, index);
  }
  const missing = required.filter((name) => !positions.has(name.toLowerCase()));
  if (missing.length > 0) {
    throw new ImportFileError(
      `This is not ${what} file: the header lacks ${missing.join(', ')}. ` +
        `Expected columns: ${required.join(', ')}; found: ${names.join(', ') || '(nothing)'}`,
    );
  }
  return Object.fromEntries(required.map((name) => [name, positions.get(name.toLowerCase())!])) as Record<
    K,
    number
  >;
}

/** One row's fields by column name, trimmed, with every problem found collected rather than thrown. */
export class RowReader<K extends string> {
  readonly problems: string[] = [];

  constructor(
    private readonly record: CsvRecord,
    private readonly columns: Record<K, number>,
  ) {}

  text(column: K): string {
    const value = (this.record.fields[this.columns[column]] ?? '').trim();
    const problem = textProblem(value);
    if (problem) {
      this.problems.push(`${column} ${problem}`);
      return '';
    }
    return value;
  }

  /** Empty text as null. */
  optional(column: K): string | null {
    return this.text(column) || null;
  }

  required(column: K): string {
    const value = this.text(column);
    if (value === '') this.problems.push(`${column} is empty`);
    return value;
  }

  /** Y or N (any case). */
  flag(column: K): boolean {
    const value = this.text(column).toUpperCase();
    if (value === 'Y') return true;
    if (value === 'N') return false;
    this.problems.push(`${column} is ${value === '' ? 'empty' : `"${value}"`}; expected Y or N`);
    return false;
  }

  /** A calendar day (see `parseDay`), or null when empty. */
  day(column: K): string | null {
    const value = this.text(column);
    if (value === '') return null;
    const day = parseDay(value);
    if (!day) {
      this.problems.push(`${column} "${value}" is not a date; use YYYY-MM-DD (or YYYY/MM/DD, DD/MM/YYYY)`);
      return null;
    }
    return day;
  }
}

const ISO_DAY = /^(\d{4})[-/]?(\d{2})[-/]?(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$/;
const SA_DAY = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?: 00:00(?::00)?)?$/;

/**
 * A calendar day as YYYY-MM-DD from the forms spreadsheets export: 2014-07-01, 2014/07/01, 20140701 (with
 * an optional midnight time), or the South African DD/MM/YYYY. Undefined when it is none of these or not a
 * real day.
 */
export function parseDay(text: string): string | undefined {
  let y: string;
  let m: string;
  let d: string;
  const iso = ISO_DAY.exec(text);
  const sa = iso ? null : SA_DAY.exec(text);
  if (iso) [, y, m, d] = iso as unknown as [string, string, string, string];
  else if (sa) {
    [, d, m, y] = sa as unknown as [string, string, string, string];
    d = d.padStart(2, '0');
    m = m.padStart(2, '0');
  } else return undefined;
  const day = `${y}-${m}-${d}`;
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day ? day : undefined;
}

/**
 * Rand as published ("2850", "2850.5", "R 2 850.50", "2,850.50") → integer cents, by string arithmetic
 * (no floating point). Undefined when it is not an amount; a decimal comma is refused as ambiguous.
 */
export function parseRandCents(text: string): number | undefined {
  const cleaned = text.replace(/^R\s*/i, '').replace(/[\s\u00a0]/g, '');
  const match = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(cleaned);
  if (!match) return undefined;
  const rands = Number(match[1]!.replaceAll(',', ''));
  const cents = Number((match[2] ?? '').padEnd(2, '0'));
  const total = rands * 100 + cents;
  return Number.isSafeInteger(total) && total <= 2_147_483_647 ? total : undefined;
}

/** Reads a CSV file's records for `use`, closing the file however `use` ends (early on a bad header). */
export async function withCsvRecords<T>(
  input: Parameters<typeof readCsv>[0],
  use: (records: AsyncGenerator<CsvRecord>) => Promise<T>,
): Promise<T> {
  const records = readCsv(input);
  try {
    return await use(records);
  } finally {
    await records.return(undefined);
  }
}
