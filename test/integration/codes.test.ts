/**
 * The codes module (src/modules/codes) against real databases: the MIT and tariff importers (file faults,
 * rejected rows with line numbers, all-or-nothing, re-imports), every ICD-10 rule through the real table,
 * ranked search, prices as of a day, the tools (called through the module's factory until app.ts wires
 * the module), the `upc-mcp import` command, and the embedded PGlite engine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { SettableClock } from '../../src/core/clock.js';
import type { CallContext } from '../../src/core/context.js';
import { ToolError } from '../../src/core/errors.js';
import type { Module, ModuleDeps } from '../../src/core/module.js';
import { PracticeZone } from '../../src/core/practice-time.js';
import { NO_TELEMETRY } from '../../src/core/telemetry.js';
import { type AnyTool, assertValidToolDefinition } from '../../src/core/tool.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import type { CodesApi, Icd10Problem, Icd10RuleId } from '../../src/modules/codes/codes.api.js';
import { ImportFileError, parseDay, parseRandCents, readCsv } from '../../src/modules/codes/codes.csv.js';
import { DEMO_TARIFF_TABLE, demoFile } from '../../src/modules/codes/codes.demo.js';
import { codesModule } from '../../src/modules/codes/codes.module.js';
import { type CodesDb, codesDb } from '../../src/modules/codes/codes.tables.js';
import { importIcd10, MIT_COLUMNS } from '../../src/modules/codes/icd10.import.js';
import { ICD10_RULES, parseAgeRange } from '../../src/modules/codes/icd10.rules.js';
import { importTariffs } from '../../src/modules/codes/tariffs.import.js';
import { Policy } from '../../src/security/policy.js';
import { REPO_ROOT, runCli } from '../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';

/** The product clock of every module built here: Monday 30 November 2026, 08:30 in Johannesburg. */
const NOW = '2026-11-30T08:30:00+02:00';
const TODAY = '2026-11-30';

// ---------------------------------------------------------------------------------------------------------
// Files in the official formats, written by the tests
// ---------------------------------------------------------------------------------------------------------

type MitColumn = (typeof MIT_COLUMNS)[number];
type MitRow = Partial<Record<MitColumn, string>> & { ICD10_Code: string; WHO_Full_Desc: string };

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** One MIT line; unspecified columns get the values of chapter I, block A00-A09, flags Y,Y,N,N,N. */
function mitLine(row: MitRow): string {
  const values: Record<MitColumn, string> = {
    Number: '',
    Chapter_No: 'I',
    Chapter_Desc: 'Certain infectious and parasitic diseases',
    Group_Code: 'A00-A09',
    Group_Desc: 'Intestinal infectious diseases',
    ICD10_3_Code: row.ICD10_Code.slice(0, 3),
    ICD10_3_Code_Desc: 'Cholera',
    Valid_ICD10_ClinicalUse: 'Y',
    Valid_ICD10_Primary: 'Y',
    Valid_ICD10_Asterisk: 'N',
    Valid_ICD10_Dagger: 'N',
    Valid_ICD10_Sequelae: 'N',
    Age_Range: '',
    Gender: '',
    Status: '',
    WHO_Start_date: '',
    WHO_End_date: '',
    WHO_Revision_History: '',
    SA_Start_Date: '',
    SA_End_Date: '',
    ...row,
  };
  return MIT_COLUMNS.map((column) => csvField(values[column])).join(',');
}

const MIT_HEADER = MIT_COLUMNS.join(',');

/** A whole MIT file as bytes: header, then lines (raw strings are taken as they are), CRLF, BOM. */
function mitFile(lines: (MitRow | string)[], options: { bom?: boolean; eol?: string } = {}): Buffer {
  const eol = options.eol ?? '\r\n';
  const text = [MIT_HEADER, ...lines.map((l) => (typeof l === 'string' ? l : mitLine(l)))].join(eol) + eol;
  return Buffer.concat([Buffer.from(options.bom === false ? '' : '\uFEFF'), Buffer.from(text, 'utf8')]);
}

const CHOLERA: MitRow[] = [
  {
    ICD10_Code: 'A00',
    WHO_Full_Desc: 'Cholera',
    Valid_ICD10_ClinicalUse: 'N',
    Valid_ICD10_Primary: 'N',
    Number: '1',
  },
  {
    ICD10_Code: 'A00.0',
    WHO_Full_Desc: 'Cholera due to Vibrio cholerae 01, biovar cholerae',
    Number: '2',
    // A quoted field holding a line break: the line numbers after it must still be right.
    WHO_Revision_History: 'revised\nin 2010',
  },
  {
    ICD10_Code: 'A00.1',
    WHO_Full_Desc: 'Cholera due to Vibrio cholerae 01, biovar eltor',
    Number: '3',
    Age_Range: '0-28 days',
    SA_Start_Date: '2014/07/01',
  },
  {
    ICD10_Code: 'A00.9',
    WHO_Full_Desc: 'Cholera, unspecified',
    Number: '4',
    Gender: 'f',
    Age_Range: '> 19 years',
  },
];

/** Rows for a code's table state, to compare before and after a failed import. */
async function snapshot(db: CodesDb): Promise<unknown[]> {
  const { rows } = await sql`SELECT * FROM codes.icd10 ORDER BY code`.execute(db);
  return rows.map((row) => ({ ...(row as Record<string, unknown>), updated_at: undefined }));
}

async function* chunksOf(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

// ---------------------------------------------------------------------------------------------------------
// A module built the way app.ts will build it, from real parts
// ---------------------------------------------------------------------------------------------------------

function notWired(what: string): never {
  throw new Error(`${what} is not wired in this test`);
}

function moduleDeps(database: Database, config = testConfig()): ModuleDeps {
  return {
    config,
    database,
    clock: new SettableClock(NOW),
    practiceZone: new PracticeZone(database.db),
    log: pino({ level: 'silent' }),
    telemetry: NO_TELEMETRY,
    system: {
      version: 'test',
      startedAt: new Date(NOW),
      health: () => notWired('system health'),
      toolCount: () => 0,
      deadLetters: {} as ModuleDeps['system']['deadLetters'],
    },
    caching: () => notWired('caching'),
    resilience: () => notWired('resilience'),
    events: { publish: async () => notWired('events') },
    use: () => notWired('use'),
  };
}

/** A context for calling a handler as the pipeline would (these tools read nothing from it). */
function contextFor(role: CallContext['principal']['role']): CallContext {
  return {
    requestId: 'codes-test',
    principal: { subject: `test-${role}`, role },
    door: 'rest',
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    reportProgress: () => {},
    patientScope: async () => ({ kind: 'all' }),
    touchPatients: () => {},
    mayView: () => true,
    invoke: async () => notWired('invoke'),
  };
}

/** Validates the input as the pipeline does, runs the handler, validates the output. */
async function callTool(tools: readonly AnyTool[], name: string, parameters: unknown) {
  const tool = tools.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const input = tool.input.parse(parameters);
  const result = await tool.handler(input, contextFor('radiologist'));
  // biome-ignore lint/suspicious/noExplicitAny: test results are inspected field by field
  return tool.output.parse(result) as any;
}

const rules = (problems: Icd10Problem[]): Icd10RuleId[] => problems.map((p) => p.rule);

// ---------------------------------------------------------------------------------------------------------

describe('codes module on PostgreSQL', { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let database: Database;
  let db: CodesDb;
  let dir: string;

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('pgAdminUrl'));
    database = await openDatabase(testConfig({ DATABASE_URL: testDb.url }));
    await migrate(database);
    db = codesDb(database);
    dir = mkdtempSync(path.join(os.tmpdir(), 'upc-codes-'));
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the application role (upc_app) may read and write every codes table: imports write', async () => {
    const { rows } = await sql<{ table_name: string; ok: boolean }>`
      SELECT table_name, bool_and(has_table_privilege('upc_app', 'codes.' || table_name, p)) AS ok
      FROM information_schema.tables, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p
      WHERE table_schema = 'codes' GROUP BY table_name ORDER BY table_name`.execute(db);
    expect(rows).toEqual(
      ['icd10', 'tariff_items', 'tariff_prices', 'tariff_tables'].map((table_name) => ({
        table_name,
        ok: true,
      })),
    );
  });

  describe('ICD-10 import (MIT CSV)', () => {
    // Lines: 1 header, 2 A00, 3-4 A00.0 (a quoted field spans two lines), 5 A00.1, 6 A00.9, then:
    const BAD: (MitRow | string)[] = [
      ...CHOLERA,
      { ICD10_Code: 'A0O.1', WHO_Full_Desc: 'Letter O instead of zero' }, // line 7
      { ICD10_Code: 'A01.0', WHO_Full_Desc: 'Typhoid fever', Valid_ICD10_Primary: 'X' }, // line 8
      mitLine({ ICD10_Code: 'A01.1', WHO_Full_Desc: 'Paratyphoid fever A' }).replace(
        'Paratyphoid fever A',
        'Paratyphoid fever, A',
      ), // line 9: an unquoted comma
      { ICD10_Code: 'A00.9', WHO_Full_Desc: 'Cholera, unspecified' }, // line 10: twice
      { ICD10_Code: 'A01.4', WHO_Full_Desc: 'Paratyphoid fever, unspecified', SA_Start_Date: '2014-13-01' }, // 11
      { ICD10_Code: 'A02.0', WHO_Full_Desc: 'Salmonella enteritis', Age_Range: 'adults only', Number: '9' }, // 12
    ];

    it('rejects the whole file when a row is bad, naming each bad row by line and reason', async () => {
      const before = await snapshot(db);
      const report = await importIcd10(db, [mitFile(BAD)], { source: 'mit:bad.csv' });
      expect(report.committed).toBe(false);
      expect(report).toMatchObject({ rowsRead: 10, accepted: 5, inserted: 0, updated: 0 });
      expect(report.rejected.map((r) => r.line)).toEqual([7, 8, 9, 10, 11]);
      expect(report.rejected[0]!.message).toBe(
        'A0O.1: ICD10_Code: "A0O.1" is not an ICD-10 code: did you mean A00.1 (the digit zero, not the letter O)?',
      );
      expect(report.rejected[1]!.message).toBe('A01.0: Valid_ICD10_Primary is "X"; expected Y or N');
      expect(report.rejected[2]!.message).toMatch(/has 23 fields; the header has 22/);
      expect(report.rejected[3]!.message).toBe('ICD10_Code A00.9 is already on line 6');
      expect(report.rejected[4]!.message).toMatch(/SA_Start_Date "2014-13-01" is not a date/);
      expect(report.warnings).toEqual([
        {
          line: 12,
          message: 'A02.0: Age_Range "adults only" was not understood; kept as text, age not checked',
        },
      ]);
      expect(await snapshot(db)).toEqual(before);
    });

    it('with skipInvalid imports the good rows (BOM, CRLF, quoted commas) and still reports the bad', async () => {
      const progress: number[] = [];
      const report = await importIcd10(db, chunksOf(mitFile(BAD), 7), {
        source: 'mit:bad.csv',
        skipInvalid: true,
        batchSize: 2,
        progressEvery: 4,
        onProgress: (p) => progress.push(p.rowsRead),
      });
      expect(report).toMatchObject({ committed: true, rowsRead: 10, accepted: 5, inserted: 5, updated: 0 });
      expect(report.rejected).toHaveLength(5);
      expect(progress).toEqual([4, 8]);
      const api = codesModule(moduleDeps(database)).api as CodesApi;
      expect(await api.icd10('A00.0')).toMatchObject({
        description: 'Cholera due to Vibrio cholerae 01, biovar cholerae',
        code3: 'A00',
        code3Description: 'Cholera',
        validClinicalUse: true,
        source: 'mit:bad.csv',
      });
      expect(await api.icd10('a00')).toMatchObject({ validClinicalUse: false, validPrimary: false });
      expect(await api.icd10('A001')).toMatchObject({
        ageRange: '0-28 days',
        ageMinYears: 0,
        ageUnderYears: parseAgeRange('0-28 days')!.underYears,
        saStartDate: '2014-07-01',
      });
      expect(await api.icd10('A00.9')).toMatchObject({ gender: 'F', ageMinYears: 20, ageUnderYears: null });
      expect(await api.icd10('A02.0')).toMatchObject({ ageRange: 'adults only', ageMinYears: null });
      expect(await api.icd10('A01.0')).toBeUndefined();
    });

    it('re-importing updates changed codes, adds new ones and counts the unchanged', async () => {
      const changed = CHOLERA.map((row) =>
        row.ICD10_Code === 'A00.9' ? { ...row, SA_End_Date: '2030-12-31' } : row,
      );
      const report = await importIcd10(
        db,
        [
          mitFile([...changed, { ICD10_Code: 'A01.0', WHO_Full_Desc: 'Typhoid fever' }], {
            bom: false,
            eol: '\n',
          }),
        ],
        { source: 'mit:second.csv' },
      );
      // Every row's source changes (another file), so all existing rows count as updated.
      expect(report).toMatchObject({ committed: true, rowsRead: 5, inserted: 1, updated: 4, unchanged: 0 });
      const again = await importIcd10(db, [mitFile([...changed], { bom: false })], {
        source: 'mit:second.csv',
      });
      expect(again).toMatchObject({ committed: true, inserted: 0, updated: 0, unchanged: 4 });
      // The codes this file did not list stay (codes are never deleted).
      expect(again.tableTotal).toBe(6);
      expect(again.notInFile).toBe(2);
      const api = codesModule(moduleDeps(database)).api as CodesApi;
      expect((await api.icd10('A00.9'))?.saEndDate).toBe('2030-12-31');
    });

    it('a failed import after batches were written leaves the table exactly as it was', async () => {
      const before = await snapshot(db);
      const rows: MitRow[] = [
        ...CHOLERA.map((row) => ({ ...row, WHO_Full_Desc: `${row.WHO_Full_Desc} (changed)` })),
        { ICD10_Code: 'A01.1', WHO_Full_Desc: 'Paratyphoid fever A' },
        { ICD10_Code: 'A01.2', WHO_Full_Desc: 'Paratyphoid fever B', Gender: 'X' },
      ];
      const report = await importIcd10(db, [mitFile(rows)], { source: 'mit:third.csv', batchSize: 1 });
      expect(report.committed).toBe(false);
      expect(report.rejected).toEqual([
        { line: 8, message: 'A01.2: Gender is "X"; expected M, F or empty (either sex)' },
      ]);
      expect(await snapshot(db)).toEqual(before);
    });

    it('refuses a file it cannot read as a whole, before writing anything', async () => {
      const attempt = (bytes: Buffer | string) =>
        importIcd10(db, typeof bytes === 'string' ? bytes : [bytes], { source: 'mit:x.csv' });
      await expect(attempt(Buffer.from('Code,Description\r\nA00,Cholera\r\n'))).rejects.toThrow(
        /not an ICD-10 Master Industry Table \(MIT\) file: the header lacks Number, Chapter_No/,
      );
      await expect(attempt(Buffer.alloc(0))).rejects.toThrow(/The file is empty/);
      const latin1 = Buffer.concat([
        mitFile(CHOLERA.slice(0, 1), { bom: false }),
        Buffer.from(`${mitLine({ ICD10_Code: 'A01.0', WHO_Full_Desc: 'Typhoid fever' })}\r\n`, 'latin1'),
        Buffer.from([0x4d, 0xe9, 0x6e, 0x0d, 0x0a]), // "Mén" in Windows-1252
      ]);
      await expect(attempt(latin1)).rejects.toThrow(/not UTF-8 text \(near line 4\)/);
      const unclosed = mitFile([
        mitLine({ ICD10_Code: 'A01.0', WHO_Full_Desc: 'Typhoid fever' }).replace('Typhoid', '"Typhoid'),
      ]);
      await expect(attempt(unclosed)).rejects.toThrow(/Line 2: a quoted field is never closed/);
      await expect(attempt(path.join(dir, 'missing.csv'))).rejects.toThrow(ImportFileError);
      await expect(attempt(path.join(dir, 'missing.csv'))).rejects.toThrow(
        /Cannot read .*missing\.csv: ENOENT/,
      );
    });

    it('streams a large file in batches (5,000 rows)', async () => {
      const rows: MitRow[] = [];
      for (let i = 0; i < 5000; i++) {
        const letter = 'BCDEFGHIJK'[Math.floor(i / 500)]!;
        const n = i % 500;
        rows.push({
          ICD10_Code: `${letter}${String(Math.floor(n / 10)).padStart(2, '0')}.${n % 10}`,
          WHO_Full_Desc: `Bulk row ${i}`,
        });
      }
      const file = path.join(dir, 'bulk.csv');
      writeFileSync(file, mitFile(rows));
      const report = await importIcd10(db, file, { source: 'mit:bulk.csv' });
      expect(report).toMatchObject({ committed: true, rowsRead: 5000, inserted: 5000, rejected: [] });
      await sql`DELETE FROM codes.icd10 WHERE source = 'mit:bulk.csv'`.execute(db);
    });
  });

  describe('field parsers', () => {
    it.each<[string, number | null, number | null]>([
      ['', null, null],
      ['0-28 days', 0, 29 / 365.25],
      ['12-55 years', 12, 56],
      ['12 - 55', 12, 56],
      ['> 19 years', 20, null],
      ['>=19 years', 19, null],
      ['< 1 year', null, 1],
      ['<= 17 years', null, 18],
      ['0-11 months', 0, 1],
      ['28 days - 1 year', 28 / 365.25, 2],
      ['65+ years', 65, null],
      ['under 5 years', null, 5],
    ])('Age_Range "%s" fits ages from %s up to %s years', (text, min, under) => {
      const bounds = parseAgeRange(text);
      expect(bounds?.minYears ?? null).toBeCloseTo(min ?? 0, 5);
      if (min === null) expect(bounds?.minYears).toBeNull();
      if (under === null) expect(bounds?.underYears).toBeNull();
      else expect(bounds?.underYears).toBeCloseTo(under, 5);
    });

    it('does not guess at an Age_Range it cannot read', () => {
      for (const text of ['adults only', '55-12 years', '< 0 years', 'newborn'])
        expect(parseAgeRange(text)).toBeUndefined();
    });

    it('reads CSV quoting: blanks after a closing quote are fine, text after it is a row problem', async () => {
      const records = [];
      const text = 'a,"b ""q"""  ,c\r\n\r\n"x"y,z\n"multi\nline",w';
      for await (const record of readCsv([text])) records.push(record);
      expect(records).toEqual([
        { line: 1, fields: ['a', 'b "q"', 'c'] },
        { line: 3, fields: ['xy', 'z'], problem: 'text after a closing quote in field 1' },
        { line: 4, fields: ['multi\nline', 'w'] },
      ]);
    });

    it('reads days and rand amounts as spreadsheets export them', () => {
      expect(
        ['2014-07-01', '2014/07/01', '20140701', '01/07/2014', '1/7/2014', '2014-07-01 00:00:00'].map(
          parseDay,
        ),
      ).toEqual(Array(6).fill('2014-07-01'));
      expect(['2014-02-30', '07/01/14', 'July 2014'].map(parseDay)).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect(['2850', '2850.5', 'R 2 850.50', '1,234.50', '0.99'].map(parseRandCents)).toEqual([
        285000, 285050, 285050, 123450, 99,
      ]);
      expect(['1 234,50', '12.345', '-5', 'R', ''].map(parseRandCents)).toEqual(Array(5).fill(undefined));
    });
  });

  describe('with the demo set loaded at start', () => {
    let module: Module;
    let api: CodesApi;
    let moduleDb: TestDatabase;
    let moduleDatabase: Database;

    beforeAll(async () => {
      // A database of its own: the import tests above write codes outside the demo set.
      moduleDb = await createTestDatabase(inject('pgAdminUrl'));
      moduleDatabase = await openDatabase(testConfig({ DATABASE_URL: moduleDb.url }));
      await migrate(moduleDatabase);
      module = codesModule(moduleDeps(moduleDatabase));
      await module.initialize!();
      api = module.api as CodesApi;
      // One code with SA dates, for the in-force rule.
      const dated = await importIcd10(
        codesDb(moduleDatabase),
        [
          mitFile([
            {
              ICD10_Code: 'A00.0',
              WHO_Full_Desc: 'Cholera due to Vibrio cholerae 01, biovar cholerae',
              SA_Start_Date: '2014-07-01',
              SA_End_Date: '2020-12-31',
            },
          ]),
        ],
        { source: 'mit:dated.csv' },
      );
      expect(dated.committed).toBe(true);
    });
    afterAll(async () => {
      await moduleDatabase?.close();
      await moduleDb?.drop();
    });

    it('marks every demo row as demo; loading again at the next start adds nothing', async () => {
      const mdb = codesDb(moduleDatabase);
      const { rows } = await sql<{ source: string; n: number }>`
        SELECT source, count(*)::int AS n FROM codes.icd10 GROUP BY source ORDER BY source`.execute(mdb);
      const demoLines = (await readFile(demoFile('icd10-demo.csv'), 'utf8')).trim().split('\n').length - 1;
      expect(rows).toEqual([
        { source: 'demo', n: demoLines },
        { source: 'mit:dated.csv', n: 1 },
      ]);
      await codesModule(moduleDeps(moduleDatabase)).initialize!();
      expect(await snapshot(mdb)).toHaveLength(demoLines + 1);
      const health = await module.healthCheck!();
      expect(health).toEqual({
        ok: true,
        details: {
          icd10_codes: demoLines + 1,
          icd10_demo_codes: demoLines,
          tariff_items: 16,
          tariff_demo_items: 16,
          tariff_tables: 1,
          tariff_prices: 16,
        },
      });
    });

    it('loads no demo data in production', async () => {
      const empty = await createTestDatabase(inject('pgAdminUrl'));
      const other = await openDatabase(testConfig({ DATABASE_URL: empty.url }));
      try {
        await migrate(other);
        const config = testConfig({
          NODE_ENV: 'production',
          JWT_SECRET_KEY: 'x'.repeat(40),
          DATABASE_URL: empty.url,
        });
        const production = codesModule(moduleDeps(other, config));
        await production.initialize!();
        expect(await production.healthCheck!()).toMatchObject({
          ok: true,
          details: { icd10_codes: 0, note: expect.stringMatching(/upc-mcp import icd10 FILE/) },
        });
      } finally {
        await other.close();
        await empty.drop();
      }
    });

    describe('ICD-10 rules, one by one', () => {
      const check = (codes: string[], context: Parameters<CodesApi['validateIcd10']>[1] = {}) =>
        api.validateIcd10(codes, { asOf: TODAY, ...context });

      it('a list that follows every rule has no problems', async () => {
        expect(await check(['S06.0', 'W19'], { patientSex: 'M', patientAgeYears: 42 })).toEqual([]);
        expect(await check(['r074'])).toEqual([]); // normalised to R07.4
        expect(await check(['A18.0†', 'M49.0*'])).toEqual([]);
      });

      it('NO_CODES', async () => {
        expect(await check([])).toEqual([
          { code: null, position: null, rule: 'NO_CODES', message: expect.stringMatching(/at least one/) },
        ]);
      });

      it('BAD_FORMAT, with a hint for US ICD-10-CM codes', async () => {
        const problems = await check(['R07,4', 'S82.101A', 'T14.8XXA', 'SO6.0']);
        expect(rules(problems)).toEqual(['BAD_FORMAT', 'BAD_FORMAT', 'BAD_FORMAT', 'BAD_FORMAT']);
        expect(problems[0]!.message).toMatch(/"R07,4" is not an ICD-10 code: expected a letter, two digits/);
        expect(problems[1]!.message).toMatch(/looks like an ICD-10-CM \(United States\) code/);
        expect(problems[2]!.message).toMatch(/looks like an ICD-10-CM \(United States\) code/);
        expect(problems[3]!.message).toMatch(/did you mean S06\.0 \(the digit zero, not the letter O\)/);
      });

      it('DUPLICATE_CODE', async () => {
        expect(await check(['R51', 'r51'])).toEqual([
          {
            code: 'R51',
            position: 2,
            rule: 'DUPLICATE_CODE',
            message: 'R51 is listed twice (positions 1 and 2): list each code once.',
          },
        ]);
      });

      it('UNKNOWN_CODE suggests the codes under its heading', async () => {
        const [problem] = await check(['R07.9']);
        expect(problem).toMatchObject({ code: 'R07.9', position: 1, rule: 'UNKNOWN_CODE' });
        expect(problem!.message).toMatch(/^R07\.9 is not in the ICD-10 table/);
        expect(problem!.message).toMatch(
          /Codes under R07: R07\.0 Pain in throat; .*R07\.4 Chest pain, unspecified\./,
        );
      });

      it('NOT_VALID_FOR_CLINICAL_USE for a heading', async () => {
        const [problem, ...rest] = await check(['R10.4', 'R07']);
        expect(rest).toEqual([]);
        expect(problem).toMatchObject({ code: 'R07', position: 2, rule: 'NOT_VALID_FOR_CLINICAL_USE' });
        expect(problem!.message).toMatch(
          /R07 \(Pain in throat and chest\) is a heading, not valid for clinical use/,
        );
      });

      it('NOT_VALID_AS_PRIMARY: asterisk, external-cause and MIT-flagged codes', async () => {
        const asterisk = await check(['G01', 'A39.0']);
        expect(rules(asterisk)).toEqual(['NOT_VALID_AS_PRIMARY']);
        expect(asterisk[0]!.message).toMatch(
          /asterisk \(manifestation\) code and cannot be the primary code/,
        );
        const external = await check(['W19', 'S06.0']);
        expect(external).toEqual([
          {
            code: 'W19',
            position: 1,
            rule: 'NOT_VALID_AS_PRIMARY',
            message:
              'W19 (Unspecified fall) is an external-cause code (V01-Y98) and cannot be the primary code: put S06.0 first and the external cause after it.',
          },
        ]);
        const flagged = await check(['Z37.0'], { patientSex: 'F', patientAgeYears: 30 });
        expect(rules(flagged)).toEqual(['NOT_VALID_AS_PRIMARY']);
        expect(flagged[0]!.message).toMatch(/not valid as a primary diagnosis in the SA MIT/);
      });

      it('ASTERISK_WITHOUT_DAGGER unless the asterisk code directly follows a dagger code', async () => {
        const problems = await check(['J18.9', 'G01']);
        expect(problems).toEqual([
          {
            code: 'G01',
            position: 2,
            rule: 'ASTERISK_WITHOUT_DAGGER',
            message: expect.stringMatching(
              /must directly follow the dagger code .*; it follows J18\.9, which is not a dagger code/,
            ),
          },
        ]);
        expect(await check(['A39.0', 'G01'])).toEqual([]);
        expect(rules(await check(['A39.0', 'R51', 'G01']))).toEqual(['ASTERISK_WITHOUT_DAGGER']);
      });

      it('EXTERNAL_CAUSE_REQUIRED for injuries (S00-T98), once for the list', async () => {
        const problems = await check(['S06.0', 'S02.0', 'R51']);
        expect(problems).toEqual([
          {
            code: 'S06.0',
            position: 1,
            rule: 'EXTERNAL_CAUSE_REQUIRED',
            message: expect.stringMatching(
              /^S06\.0, S02\.0 are injury or poisoning codes \(S00-T98\): add an external-cause code \(V01-Y98\)/,
            ),
          },
        ]);
        expect(await check(['S06.0', 'V89.2'])).toEqual([]);
        expect(await check(['T90.5', 'Y85.0'])).toEqual([]);
        expect(rules(await check(['T90.5']))).toEqual(['EXTERNAL_CAUSE_REQUIRED']);
      });

      it('AGE_MISMATCH from the parsed Age_Range; no age, no check', async () => {
        const problems = await check(['O00.9'], { patientSex: 'F', patientAgeYears: 60 });
        expect(problems).toEqual([
          {
            code: 'O00.9',
            position: 1,
            rule: 'AGE_MISMATCH',
            message:
              "O00.9 (Ectopic pregnancy, unspecified) applies to patients aged 12-55 years; the patient is 60 years old. Check the code or the patient's date of birth.",
          },
        ]);
        expect(await check(['O00.9'], { patientSex: 'F', patientAgeYears: 55.9 })).toEqual([]);
        expect(rules(await check(['R62.0'], { patientAgeYears: 18 }))).toEqual(['AGE_MISMATCH']);
        expect(await check(['R62.0'], { patientAgeYears: 17.99 })).toEqual([]);
        expect(await check(['R62.0'])).toEqual([]);
      });

      it('GENDER_MISMATCH for M or F; O and U are not checked', async () => {
        expect(await check(['C61'], { patientSex: 'F' })).toEqual([
          {
            code: 'C61',
            position: 1,
            rule: 'GENDER_MISMATCH',
            message:
              "C61 (Malignant neoplasm of prostate) applies to male patients only; the patient is recorded as female. Check the code or the patient's sex.",
          },
        ]);
        expect(await check(['C61'], { patientSex: 'M' })).toEqual([]);
        expect(await check(['C61'], { patientSex: 'O' })).toEqual([]);
        expect(await check(['O30.0', 'Z34.9'], { patientSex: 'F' })).toEqual([]);
      });

      it('NOT_IN_FORCE outside the SA start and end dates; an instant is read in the practice zone', async () => {
        const problems = await check(['A00.0']);
        expect(problems).toEqual([
          {
            code: 'A00.0',
            position: 1,
            rule: 'NOT_IN_FORCE',
            message: expect.stringMatching(
              /is not in force on 2026-11-30: in SA it is valid from 2014-07-01 until 2020-12-31\. Use the code that replaced it/,
            ),
          },
        ]);
        expect(await check(['A00.0'], { asOf: '2020-12-31' })).toEqual([]);
        expect(rules(await check(['A00.0'], { asOf: '2014-06-30' }))).toEqual(['NOT_IN_FORCE']);
        // 22:30 UTC on 31 December is already 1 January in Johannesburg.
        expect(rules(await api.validateIcd10(['A00.0'], { asOf: new Date('2020-12-31T22:30:00Z') }))).toEqual(
          ['NOT_IN_FORCE'],
        );
        expect(await api.validateIcd10(['A00.0'], { asOf: new Date('2020-12-31T21:30:00Z') })).toEqual([]);
        // No date: today by the module's clock.
        expect(rules(await api.validateIcd10(['A00.0']))).toEqual(['NOT_IN_FORCE']);
      });

      it('every rule is documented in docs/CODES.md', async () => {
        const doc = await readFile(path.join(REPO_ROOT, 'docs/CODES.md'), 'utf8');
        for (const rule of Object.keys(ICD10_RULES)) expect(doc, rule).toContain(`\`${rule}\``);
      });
    });

    describe('ICD-10 search', () => {
      it('ranks by text: usable codes first, matches in the code itself before its heading', async () => {
        const found = await api.searchIcd10('chest pain', { limit: 10 });
        const codes = found.map((c) => c.code);
        // Both words in the code's own description first; "chest" only in the heading's (R07.0, R07.2) next.
        expect(codes.slice(0, 3).sort()).toEqual(['R07.1', 'R07.3', 'R07.4']);
        expect(codes.slice(3, 5).sort()).toEqual(['R07.0', 'R07.2']);
        expect(codes.at(-1)).toBe('R07'); // the heading comes after every usable code
        expect((await api.searchIcd10('headache')).map((c) => c.code)).toEqual(['R51', 'G44.2']);
        expect((await api.searchIcd10('fracture femur')).map((c) => c.code)).toEqual(['S72.0']);
      });

      it('matches word beginnings when whole words find nothing', async () => {
        const codes = (await api.searchIcd10('pneumo', { limit: 50 })).map((c) => c.code);
        expect(codes).toEqual(expect.arrayContaining(['J18.9', 'J93.9', 'S27.0']));
      });

      it('finds by code prefix in code order, headings optional, within the limit', async () => {
        expect((await api.searchIcd10('S06')).map((c) => c.code)).toEqual(['S06', 'S06.0', 'S06.5']);
        expect((await api.searchIcd10('s06.', { clinicalUseOnly: true })).map((c) => c.code)).toEqual([
          'S06.0',
          'S06.5',
        ]);
        expect((await api.searchIcd10('R', { limit: 3 })).map((c) => c.code)).toEqual([
          'R05',
          'R06.0',
          'R07',
        ]);
        expect(await api.searchIcd10('%')).toEqual([]);
        expect(await api.searchIcd10('   ')).toEqual([]);
      });
    });

    describe('tariffs', () => {
      it('every RIS demo procedure code resolves to a demo item with a demo price today', async () => {
        const { rows } = await sql<{ procedure_code: string; modality: string }>`
          SELECT procedure_code, modality FROM ris.procedures ORDER BY procedure_code`.execute(
          moduleDatabase.db,
        );
        expect(rows.length).toBeGreaterThan(0);
        for (const { procedure_code: code, modality } of rows) {
          expect(await api.tariffItem(code, TODAY), code).toMatchObject({
            kind: 'item',
            modality,
            source: 'demo',
          });
          expect(await api.tariffPrice(DEMO_TARIFF_TABLE, code, TODAY), code).toMatchObject({
            source: 'demo',
          });
        }
        const { rows: modifiers } = await sql<{ code: string }>`
          SELECT code FROM codes.tariff_items WHERE kind = 'modifier'`.execute(moduleDatabase.db);
        expect(modifiers.length).toBeGreaterThan(0);
        for (const { code } of modifiers) expect(code).toMatch(/^DEMO-/);
      });

      it('a price as of a day is the row in force that day', async () => {
        const report = await importTariffs(
          codesDb(moduleDatabase),
          [
            'Code,Description,Kind,Modality,Effective_From,Effective_To,Amount_ZAR\r\n' +
              'T100,Test CT item,item,CT,2025-01-01,2025-12-31,100.00\r\n' +
              'T100,Test CT item,item,CT,2026-01-01,,"R 110.50"\r\n' +
              'T200,Test modifier,modifier,,2026-01-01,,\r\n',
          ],
          { table: 'test-2026', source: 'import:test.csv' },
        );
        expect(report).toMatchObject({
          committed: true,
          accepted: 3,
          items: { inserted: 2, updated: 0, unchanged: 0 },
          prices: { inserted: 2, updated: 0, unchanged: 0 },
          rejected: [],
        });
        const price = (day: string) => api.tariffPrice('test-2026', 'T100', day).then((p) => p?.amountCents);
        expect(await price('2024-12-31')).toBeUndefined();
        expect(await price('2025-01-01')).toBe(10000);
        expect(await price('2025-12-31')).toBe(10000);
        expect(await price('2026-01-01')).toBe(11050);
        expect(await price('2035-06-01')).toBe(11050);
        expect(await api.tariffPrice('test-2026', 't100', new Date('2025-12-31T22:30:00Z'))).toMatchObject({
          amountCents: 11050,
          effectiveFrom: '2026-01-01',
          effectiveTo: null,
        });
        expect(await api.tariffItem('T100', '2025-06-01')).toMatchObject({
          effectiveFrom: '2025-01-01',
          effectiveTo: null,
          source: 'import:test.csv',
        });
        expect(await api.tariffItem('T100', '2024-12-31')).toBeUndefined();
        expect(await api.tariffPrice('test-2026', 'T200', TODAY)).toBeUndefined();
        expect(await api.tariffPrice('demo', 'T100', TODAY)).toBeUndefined();
      });

      it('rejects overlapping periods, in the file and against the table, and accepts a closed period', async () => {
        const head = 'Code,Description,Kind,Modality,Effective_From,Effective_To,Amount_ZAR\n';
        const mdb = codesDb(moduleDatabase);
        const inFile = await importTariffs(
          mdb,
          [
            `${head}T300,Test,item,CT,2026-01-01,2026-12-31,10\nT300,Test,item,CT,2026-06-01,,11\n` +
              'T301,Test,item,CT,2026-01-01,,10\nT301,Test,item,MR,2027-01-01,,10\nT302,Test,item,CT,2026-01-01,,"1 234,50"\n',
          ],
          { table: 'test-2026', source: 'import:overlap.csv' },
        );
        expect(inFile.committed).toBe(false);
        expect(inFile.rejected).toEqual([
          {
            line: 3,
            message: 'T300: the price from 2026-06-01 to open end overlaps line 2 (2026-01-01 to 2026-12-31)',
          },
          { line: 5, message: 'T301: kind/modality item/MR differ from line 4 (item/CT)' },
          { line: 6, message: 'T302: Amount_ZAR "1 234,50" is not an amount in rand such as 2850.00' },
        ]);
        const againstTable = await importTariffs(
          mdb,
          [`${head}T100,Test CT item,item,CT,2026-07-01,,120\n`],
          {
            table: 'test-2026',
            source: 'import:overlap.csv',
          },
        );
        expect(againstTable.committed).toBe(false);
        expect(againstTable.rejected[0]!.message).toMatch(
          /^T100: the price from 2026-07-01 to open end overlaps the price from 2026-01-01 to open end already in table test-2026; give that one an end/,
        );
        const closed = await importTariffs(
          mdb,
          [
            `${head}T100,Test CT item,item,CT,2026-07-01,,120\nT100,Test CT item,item,CT,2026-01-01,2026-06-30,110.50\n`,
          ],
          { table: 'test-2026', source: 'import:test.csv' },
        );
        expect(closed).toMatchObject({ committed: true, prices: { inserted: 1, updated: 1, unchanged: 0 } });
        expect((await api.tariffPrice('test-2026', 'T100', '2026-06-30'))?.amountCents).toBe(11050);
        expect((await api.tariffPrice('test-2026', 'T100', '2026-07-01'))?.amountCents).toBe(12000);
      });

      it('the database refuses two prices for one day even when written around the importer', async () => {
        const write = moduleDatabase.db.transaction().execute(async (trx) => {
          await sql`INSERT INTO codes.tariff_prices (table_id, code, effective_from, effective_to, amount_cents, source)
            VALUES ('test-2026', 'T100', '2026-08-01', NULL, 1, 'import:sneaky.csv')`.execute(trx);
        });
        await expect(write).rejects.toMatchObject({ code: '23P01' });
        expect((await api.tariffPrice('test-2026', 'T100', '2026-08-01'))?.amountCents).toBe(12000);
      });
    });

    describe('tools', () => {
      it('are declared once, valid, read-only, without PHI, under codes:read', () => {
        expect(module.tools.map((t) => t.name)).toEqual([
          'codes_search_icd10',
          'codes_validate_icd10',
          'codes_list_tariff_items',
        ]);
        for (const tool of module.tools) {
          assertValidToolDefinition(tool);
          expect(tool).toMatchObject({
            permission: 'codes:read',
            phi: false,
            annotations: { readOnlyHint: true },
          });
        }
      });

      it.each([
        ['admin', true],
        ['radiologist', true],
        ['radiographer', true],
        ['receptionist', true],
        ['transcriptionist', true],
        ['billing_clerk', true],
        ['referring_doctor', true],
        ['auditor', false],
      ] as const)('policy/default-policy.json: %s may read codes: %s', (role, allowed) => {
        expect(Policy.fromFile().allows(role, 'codes:read')).toBe(allowed);
      });

      it('codes_search_icd10 returns codes with their flags, at most 50', async () => {
        const result = await callTool(module.tools, 'codes_search_icd10', { query: 'G01' });
        expect(result).toEqual({
          count: 1,
          codes: [
            {
              code: 'G01',
              description: 'Meningitis in bacterial diseases classified elsewhere',
              code_3: 'G01',
              code_3_description: 'Meningitis in bacterial diseases classified elsewhere',
              group: 'G00-G09 Inflammatory diseases of the central nervous system',
              valid_clinical_use: true,
              valid_primary: false,
              asterisk: true,
              dagger: false,
              sequelae: false,
              age_range: null,
              gender: null,
              sa_start_date: null,
              sa_end_date: null,
              demo: true,
            },
          ],
        });
        expect((await callTool(module.tools, 'codes_search_icd10', { query: 'pain', limit: 2 })).count).toBe(
          2,
        );
        await expect(
          callTool(module.tools, 'codes_search_icd10', { query: 'pain', limit: 51 }),
        ).rejects.toThrow(/<=50/);
      });

      it('codes_validate_icd10 returns the codes as normalised and every problem', async () => {
        const result = await callTool(module.tools, 'codes_validate_icd10', {
          codes: ['w19', 'S060', 'Q99.9'],
          patient_sex: 'M',
          patient_age_years: 40,
          service_date: '2026-03-02',
        });
        expect(result).toMatchObject({
          valid: false,
          service_date: '2026-03-02',
          codes: [
            { position: 1, code: 'W19', description: 'Unspecified fall' },
            { position: 2, code: 'S06.0', description: 'Concussion' },
            { position: 3, code: 'Q99.9', description: null },
          ],
        });
        expect(result.problems.map((p: Icd10Problem) => p.rule)).toEqual([
          'NOT_VALID_AS_PRIMARY',
          'UNKNOWN_CODE',
        ]);
        const ok = await callTool(module.tools, 'codes_validate_icd10', { codes: ['S06.0', 'W19'] });
        expect(ok).toMatchObject({ valid: true, service_date: TODAY, problems: [] });
        await expect(callTool(module.tools, 'codes_validate_icd10', { codes: [] })).rejects.toThrow(
          /at least one/,
        );
        await expect(
          callTool(module.tools, 'codes_validate_icd10', { codes: ['R51'], service_date: '2026-02-30' }),
        ).rejects.toThrow(/not a real date/);
      });

      it('codes_list_tariff_items lists items in force with their price in a table', async () => {
        const result = await callTool(module.tools, 'codes_list_tariff_items', {
          modality: 'ct',
          table: 'demo',
        });
        expect(result.as_of).toBe(TODAY);
        // T100 is the test item imported above: in force, but without a price in the demo table.
        expect(result.items.map((i: { code: string; price: unknown }) => [i.code, i.price !== null])).toEqual(
          [
            ['3011', true],
            ['3021', true],
            ['3041', true],
            ['T100', false],
          ],
        );
        expect(result.items[0]).toEqual({
          code: '3011',
          description: 'CT head without contrast (demo item)',
          kind: 'item',
          modality: 'CT',
          effective_from: '2025-01-01',
          effective_to: null,
          demo: true,
          price: {
            table: 'demo',
            amount_cents: 285000,
            amount: 'R 2 850.00',
            effective_from: '2026-01-01',
            effective_to: null,
          },
        });
        const lastYear = await callTool(module.tools, 'codes_list_tariff_items', {
          query: '3011',
          table: 'demo',
          as_of: '2025-03-01',
        });
        expect(lastYear.items.map((i: { price: { amount_cents: number } }) => i.price.amount_cents)).toEqual([
          265000,
        ]);
        const words = await callTool(module.tools, 'codes_list_tariff_items', { query: 'ultrasound' });
        expect(words.items.map((i: { code: string; price: unknown }) => [i.code, i.price])).toEqual([
          ['4011', null],
          ['4031', null],
        ]);
        const modifiers = await callTool(module.tools, 'codes_list_tariff_items', { kind: 'modifier' });
        expect(modifiers.items.map((i: { code: string }) => i.code)).toEqual([
          'DEMO-M01',
          'DEMO-M02',
          'DEMO-M03',
          'T200',
        ]);
        const error = await callTool(module.tools, 'codes_list_tariff_items', { table: 'nope' }).catch(
          (e) => e,
        );
        expect(error).toBeInstanceOf(ToolError);
        expect(error).toMatchObject({
          code: 'INVALID_PARAMETERS',
          message: 'Invalid parameters: table: there is no tariff table "nope"; tables: demo, test-2026',
        });
      });
    });
  });

  describe('upc-mcp import', () => {
    let cliDb: TestDatabase;
    beforeAll(async () => {
      cliDb = await createTestDatabase(inject('pgAdminUrl'));
    });
    afterAll(async () => {
      await cliDb?.drop();
    });

    it('imports a good MIT file (exit 0), refuses a wrong header (exit 1), lists rejected rows (exit 2)', async () => {
      const env = { DATABASE_URL: cliDb.url };
      const good = path.join(dir, 'mit-2026.csv');
      writeFileSync(good, mitFile(CHOLERA));
      const first = await runCli(['import', 'icd10', good], env, 60_000);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`ICD-10 import from ${good} (source "mit:mit-2026.csv")`);
      expect(first.stdout).toMatch(
        /rows read {3}4\n {2}accepted {4}4\n {2}rejected {4}0\n {2}inserted {4}4\n/,
      );
      expect(first.stdout).toMatch(/✓ ICD-10 codes imported\n$/);

      const wrong = path.join(dir, 'tariffs-as-mit.csv');
      writeFileSync(
        wrong,
        'Code,Description,Kind,Modality,Effective_From,Effective_To,Amount_ZAR\n3011,CT,item,CT,2026-01-01,,1\n',
      );
      const header = await runCli(['import', 'icd10', wrong], env, 60_000);
      expect(header.code).toBe(1);
      expect(header.stderr).toMatch(
        /not an ICD-10 Master Industry Table \(MIT\) file: the header lacks Number, Chapter_No/,
      );
      expect(header.stderr).toMatch(/Nothing was imported\./);

      const bad = path.join(dir, 'mit-bad.csv');
      const rows: (MitRow | string)[] = [...CHOLERA.map((r) => ({ ...r, Status: 'changed' }))];
      for (let i = 0; i < 23; i++)
        rows.push({ ICD10_Code: `B${String(i).padStart(2, '0')}.0`, WHO_Full_Desc: 'x', Gender: '?' });
      writeFileSync(bad, mitFile(rows));
      const rejected = await runCli(['import', 'icd10', bad], env, 60_000);
      expect(rejected.code).toBe(2);
      expect(rejected.stderr).toMatch(/✗ 23 rows rejected:\n {4}line 7: B00\.0: Gender is "\?"/);
      expect(rejected.stderr).toMatch(/line 26: B19\.0:.*\n {4}… and 3 more rejected rows\n/);
      expect(rejected.stderr).toMatch(
        /Nothing was imported: fix the rejected rows and import again, or add --skip-invalid to import the 4 good rows\./,
      );
      expect(rejected.stdout).not.toMatch(/inserted/);

      const skipped = await runCli(['import', 'icd10', bad, '--skip-invalid'], env, 60_000);
      expect(skipped.code).toBe(2);
      expect(skipped.stdout).toMatch(/updated {5}4\n/);
      expect(skipped.stdout).toMatch(/✓ ICD-10 codes imported \(23 rejected rows skipped\)/);
    });

    it('imports a tariff table named after its file, or --table', async () => {
      const file = path.join(dir, 'Scheme 2026.csv');
      writeFileSync(file, await readFile(demoFile('tariffs-demo.csv')));
      const result = await runCli(['import', 'tariffs', file], { DATABASE_URL: cliDb.url }, 60_000);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`into table "scheme-2026" (source "import:Scheme 2026.csv")`);
      expect(result.stdout).toMatch(
        /items {7}16 inserted, 0 updated, 0 unchanged\n {2}prices {6}16 inserted/,
      );
      const usage = await runCli(
        ['import', 'tariffs', file, '--table', 'Bad Id!'],
        { DATABASE_URL: cliDb.url },
        60_000,
      );
      expect(usage.code).toBe(1);
      expect(usage.stderr).toMatch(/cannot be a tariff table id/);
    });
  });
});

describe('codes module on embedded PGlite', { timeout: 120_000 }, () => {
  let dir: string;
  let database: Database;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'upc-codes-pglite-'));
    database = await openDatabase(testConfig({ DATA_DIR: dir }));
    await migrate(database);
  });
  afterAll(async () => {
    await database?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the demo set, searches by text (tsvector, websearch_to_tsquery, GIN) and validates', async () => {
    const module = codesModule(moduleDeps(database));
    await module.initialize!();
    const api = module.api as CodesApi;
    expect((await api.searchIcd10('headache')).map((c) => c.code)).toEqual(['R51', 'G44.2']);
    expect((await api.searchIcd10('pneumo', { limit: 50 })).map((c) => c.code)).toContain('J18.9');
    expect((await api.searchIcd10('S06')).map((c) => c.code)).toEqual(['S06', 'S06.0', 'S06.5']);
    expect(rules(await api.validateIcd10(['S06.0'], { asOf: TODAY }))).toEqual(['EXTERNAL_CAUSE_REQUIRED']);
    expect((await api.tariffPrice('demo', '3011', '2025-06-30'))?.amountCents).toBe(265000);
    const { rows } = await sql<{ indexdef: string }>`
      SELECT indexdef FROM pg_indexes WHERE schemaname = 'codes' AND indexname = 'icd10_search'`.execute(
      database.db,
    );
    expect(rows[0]?.indexdef).toMatch(/USING gin \(search\)/);
  });
});
