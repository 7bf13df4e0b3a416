/**
 * Error messages a person (or a model) can act on: every INVALID_PARAMETERS message of a few tools reads as
 * a sentence about the field, never as a validator's internals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { runCli } from '../harness/cli.js';
import { call, createPhysician, createRoomSet, nextMonday, registerPatient } from '../harness/ris.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** A validator's wording that means nothing to a receptionist. */
const INTERNALS = /expected|received|undefined|Invalid input|NaN|Unrecognized|invalid_type|Too (small|big)/;

const BAD_CALLS: [string, Record<string, unknown>][] = [
  ['ris_register_patient', {}],
  ['ris_register_patient', { family_name: 'K', given_names: 7, birth_date: '2026-11-31', sex: 'X' }],
  ['ris_create_order', {}],
  ['ris_create_order', { patient_id: 'nobody', procedure_code: '', icd10_codes: [], priority: 'soon' }],
  ['ris_schedule_appointment', { accession_number: 42, start_time: 'tomorrow', if_taken: 'maybe' }],
  ['ris_get_worklist', { date: '2026-02-30', limit: 0, colour: 'blue' }],
  ['admin_assign_patient', { days: 'many' }],
];

describe('INVALID_PARAMETERS messages read as sentences', () => {
  it.each(BAD_CALLS)('%s %o', async (tool, parameters) => {
    const res = await call(t, tool, parameters, 'admin');
    expect(res.error.error_code).toBe('INVALID_PARAMETERS');
    const fields = res.error.details.fields as { field: string; message: string }[];
    expect(fields.length).toBeGreaterThan(0);
    for (const { field, message } of fields) {
      expect(message, `${field}: ${message}`).not.toMatch(INTERNALS);
      // "field: is required", "field: must be ...", "field: is not a real date": a phrase about the field.
      expect(message, `${field}: ${message}`).toMatch(/^(is|must|give|goes|"|should|has|are)\b/);
    }
  });

  it('names the missing field "is required" and an impossible date "not a real date"', async () => {
    const missing = await call(t, 'ris_register_patient', { given_names: 'Lindiwe' }, 'receptionist');
    expect(missing.error.details.fields).toContainEqual(
      expect.objectContaining({ field: 'family_name', message: 'is required' }),
    );
    const impossible = await call(t, 'ris_get_worklist', { date: '2026-11-31' }, 'receptionist');
    expect(impossible.error.message).toBe(
      'Invalid parameters: date: is not a real date (that month has fewer days)',
    );
  });

  it('says "an MR room", and a receptionist sees the clinical indication she just typed', async () => {
    const { practiceNumber } = await createPhysician(t);
    const set = await createRoomSet(t, { rooms: 1 });
    const patient = await registerPatient(t);
    const order = await call(
      t,
      'ris_create_order',
      {
        patient_id: patient,
        procedure_code: set.procedureCode,
        clinical_indication: 'Headache for two weeks',
        icd10_codes: ['R51'],
        referring_practice_number: practiceNumber,
      },
      'receptionist',
    );
    expect(order.result.order.clinical_indication).toBe('Headache for two weeks');
    // Reading it back is a read: clinical text stays withheld from her role.
    const read = await call(
      t,
      'ris_get_order',
      { accession_number: order.result.order.accession_number },
      'receptionist',
    );
    expect(read.result.order.clinical_indication).toMatch(/withheld/);
    const mr = await call(
      t,
      'ris_schedule_appointment',
      {
        accession_number: order.result.order.accession_number,
        room: 'MR-1',
        start_time: `${nextMonday()}T09:00`,
      },
      'receptionist',
    );
    expect(mr.error.message).toMatch(/^Room MR-1 is an MR room; this order needs /);
  });

  it('upc-mcp token names a wrong role as such', async () => {
    const result = await runCli(['token', '--sub', 'me', '--role', 'doctor'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--role "doctor" is not a role: use one of admin, /);
    expect(result.stderr).not.toMatch(/--sub/);
  });
});
