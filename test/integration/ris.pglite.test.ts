/**
 * Store-level check of the booking constraint on embedded PGlite (the zero set-up default), which cannot
 * load btree_gist as the server opens it: the exclusion constraint must still hold there. One file only,
 * because a fresh PGlite database takes seconds to initialise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { insertAppointment, transitionAppointment } from '../../src/modules/ris/ris.appointments.store.js';
import { book } from '../../src/modules/ris/ris.booking.js';
import { getOrder, insertOrder, type Order } from '../../src/modules/ris/ris.orders.store.js';
import { insertPatient } from '../../src/modules/ris/ris.patients.store.js';
import { upsertPhysician } from '../../src/modules/ris/ris.reference.store.js';
import type { RisDb } from '../../src/modules/ris/ris.tables.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';

let dir: string;
let database: Database;
let db: RisDb;
let roomId: number;
let accessions: string[];

const actor = { subject: 'store-test', role: 'admin' };
const at = (clock: string) => new Date(`2030-03-04T${clock}:00+02:00`); // a Monday

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'upc-ris-pglite-'));
  database = await openDatabase(testConfig({ DATA_DIR: dir }));
  await migrate(database);
  db = risDb(database);
  const room = await db
    .selectFrom('ris.rooms')
    .select('room_id')
    .where('room', '=', 'MR-1')
    .executeTakeFirstOrThrow();
  roomId = room.room_id;
  const physician = await upsertPhysician(db, {
    practiceNumber: '0999999',
    hpcsaNumber: 'MP0999999',
    familyName: 'Store',
    givenNames: 'Test',
  });
  const patientId = await insertPatient(db, {
    familyName: 'Pglite',
    givenNames: 'Test',
    birthDate: '1980-01-01',
    sex: 'O',
    createdBy: 'store-test',
  });
  accessions = [];
  for (let i = 0; i < 12; i++) {
    accessions.push(
      await insertOrder(db, {
        patientId,
        procedureCode: '3111',
        modality: 'MR',
        clinicalIndication: 'Headache',
        icd10Codes: ['R51'],
        priority: 'routine',
        referringPhysicianId: physician,
        createdBy: 'store-test',
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (accession: string, start: string, end: string) =>
  db
    .transaction()
    .execute((trx) =>
      insertAppointment(trx, { accessionNumber: accession, roomId, start: at(start), end: at(end), actor }),
    );

describe('booking constraint on PGlite', () => {
  it('runs on PGlite', () => {
    expect(database.kind).toBe('pglite');
  });

  it('refuses an overlapping booking with SQLSTATE 23P01, allows back-to-back and other rooms', async () => {
    const [a, b, c, d] = accessions as [string, string, string, string];
    await insert(a, '09:00', '09:45');
    await expect(insert(b, '09:30', '10:00')).rejects.toMatchObject({ code: '23P01' });
    await expect(insert(b, '08:30', '09:01')).rejects.toMatchObject({ code: '23P01' });
    await expect(insert(b, '09:45', '10:30')).resolves.toBeGreaterThan(0);
    // The failed attempts left nothing behind (each ran in its own rolled-back transaction).
    const rows = await db.selectFrom('ris.appointments').select('accession_number').execute();
    expect(rows.map((r) => r.accession_number).sort()).toEqual([a, b].sort());
    // Cancelling frees the time.
    const id = await insert(c, '11:00', '11:45');
    await db
      .transaction()
      .execute((trx) => transitionAppointment(trx, id, 'BOOKED', 'CANCELLED', actor, 'test'));
    await expect(insert(d, '11:00', '11:45')).resolves.toBeGreaterThan(0);
  });

  it('concurrent bookings of one slot end in distinct, non-overlapping slots', async () => {
    const orders = await Promise.all(accessions.slice(4, 12).map((a) => getOrder(db, a)));
    const results = await Promise.all(
      orders.map((order) =>
        book(db, {
          order: order as Order,
          requestedStart: at('14:00'),
          room: 'MR-1',
          ifTaken: 'next_free',
          now: new Date('2030-03-01T08:00:00Z'),
          timeZone: 'Africa/Johannesburg',
          actor,
        }),
      ),
    );
    const starts = results.map((r) => r.start.getTime()).sort((x, y) => x - y);
    expect(new Set(starts).size).toBe(8);
    expect(starts[0]).toBe(at('14:00').getTime());
    for (let i = 1; i < starts.length; i++)
      expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(45 * 60_000);
  });
});
