import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { type DemoStudy, seedRisDemo } from '../../src/modules/ris/ris.demo.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { runCli } from '../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('pgAdminUrl'));
  database = await openDatabase(testConfig({ DATABASE_URL: testDb.url }));
  await migrate(database);
});
afterAll(async () => {
  await database.close();
  await testDb.drop();
});

const pacsStudies: DemoStudy[] = [
  {
    patient_id: 'UPC000123',
    patient_name: 'Naidoo^Priya',
    birth_date: '19800214',
    sex: 'F',
    accession_number: 'ACC00001234',
    modality: 'CT',
    study_date: '20240611',
    study_description: 'CT head without contrast',
    referring_physician_name: 'Botha^Hendrik^^Dr',
  },
  {
    patient_id: 'UPC000123',
    patient_name: 'Naidoo^Priya',
    birth_date: '19800214',
    sex: 'F',
    accession_number: 'ACC00001235',
    modality: 'MR',
    study_date: '20240612',
    study_description: 'MRI brain',
  },
];

describe('RIS demo data', { timeout: 120_000 }, () => {
  it('mirrors PACS studies, adds a week of non-overlapping appointments, and a re-run adds nothing', async () => {
    const db = risDb(database);
    const options = {
      seed: 7,
      studies: pacsStudies,
      patients: 20,
      startDate: '2030-03-04',
      now: new Date('2030-03-06T10:00:00+02:00'),
    };
    const first = await seedRisDemo(db, options);
    expect(first.physicians).toBe(6);
    expect(first.patients).toBe(21);
    expect(first.appointments).toBe(first.orders);
    expect(first.appointments).toBeGreaterThan(200);

    const mirrored = await db
      .selectFrom('ris.orders as o')
      .innerJoin('ris.referring_physicians as r', 'r.physician_id', 'o.referring_physician_id')
      .innerJoin('ris.appointments as a', 'a.accession_number', 'o.accession_number')
      .select(['o.accession_number', 'o.patient_id', 'o.procedure_code', 'r.family_name', 'a.status'])
      .where('o.accession_number', 'in', ['ACC00001234', 'ACC00001235'])
      .orderBy('o.accession_number')
      .execute();
    expect(mirrored).toMatchObject([
      { patient_id: 'UPC000123', procedure_code: '3011', family_name: 'Botha', status: 'DELIVERED' },
      { patient_id: 'UPC000123', procedure_code: '3111', status: 'DELIVERED' },
    ]);
    // Before "now" the week is done or missed, after it booked.
    const statuses = await db
      .selectFrom('ris.appointments')
      .select(['status', 'start_at'])
      .where('start_at', '>=', new Date('2030-03-04T00:00:00+02:00'))
      .execute();
    for (const row of statuses) {
      if (new Date(row.start_at) > options.now) expect(['BOOKED', 'REGISTERED']).toContain(row.status);
      else expect(['IN_PROGRESS', 'COMPLETED', 'REPORTED', 'DELIVERED', 'NO_SHOW']).toContain(row.status);
    }

    const again = await seedRisDemo(db, options);
    expect(again).toEqual({ physicians: 6, patients: 0, orders: 0, appointments: 0 });

    // The embedded server seeds on every start: a start two days later plans a new week around the old one.
    const later = await seedRisDemo(db, {
      ...options,
      startDate: undefined,
      now: new Date('2030-03-08T09:00:00+02:00'),
    });
    expect(later.orders).toBe(later.appointments);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ris.appointments a JOIN ris.appointments b
        ON a.appointment_id < b.appointment_id AND a.room_id = b.room_id
       AND tstzrange(a.start_at, a.end_at) && tstzrange(b.start_at, b.end_at)`.execute(db);
    expect(rows[0]?.n).toBe(0);
  });

  it('upc-mcp seed-demo loads RIS data into the configured database', async () => {
    const other = await createTestDatabase(inject('pgAdminUrl'));
    try {
      const result = await runCli(
        ['seed-demo', '--seed', '11'],
        { DATABASE_URL: other.url, LOG_LEVEL: 'silent' },
        60_000,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /RIS demo \(seed 11\): 6 physicians, 60 new patients, \d+ new orders, \d+ new appointments/,
      );
    } finally {
      await other.drop();
    }
  });
});
