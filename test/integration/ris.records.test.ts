import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/core/practice-time.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { practiceTime, testNow, testToday } from '../harness/clock.js';
import {
  type Caller,
  call,
  createOrder,
  createPhysician,
  createRoomSet,
  nextMonday,
  registerPatient,
  saIdFor,
  TZ,
} from '../harness/ris.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());
afterEach(() => t.clock.set(testNow()));

const fieldsOf = (res: { error: { details: { fields: { field: string; message: string }[] } } }) =>
  res.error.details.fields.map((f) => f.field);

describe('validation errors name the field', () => {
  const valid = { family_name: 'Khumalo', given_names: 'Lindiwe', birth_date: '1975-11-03', sex: 'F' };

  it.each([
    [{ birth_date: '1975-13-03' }, 'birth_date', /YYYY-MM-DD/],
    [{ birth_date: '2999-01-01' }, 'birth_date', /must not be in the future/],
    [{ sex: 'X' }, 'sex', /must be M, F or O/],
    [{ family_name: 'Smith^John' }, 'family_name', /must not contain \^/],
    [{ sa_id_number: '75110301230' }, 'sa_id_number', /must be 13 digits/],
    [{ sa_id_number: '7511030123089' }, 'sa_id_number', /check digit is wrong/],
    [{ sa_id_number: saIdFor('1975-11-04', 'F') }, 'sa_id_number', /does not match birth_date 1975-11-03/],
    [{ sa_id_number: saIdFor('1975-11-03', 'M') }, 'sa_id_number', /encodes sex M, but sex is F/],
    [{ medical_aid_scheme: 'Discovery Health' }, 'medical_aid_number', /give both/],
    [{ phone: 'call me' }, 'phone', /phone number/],
    [{ surname: 'typo' }, '(parameters)', /surname/],
  ])('register %o → %s', async (change, field, message) => {
    const res = await call(t, 'ris_register_patient', { ...valid, ...change }, 'receptionist');
    expect(res.status).toBe(400);
    expect(res.error.error_code).toBe('INVALID_PARAMETERS');
    expect(fieldsOf(res)).toEqual([field]);
    expect(res.error.message).toMatch(message);
  });

  it('"in the future" for a birth date is decided by the product clock', async () => {
    const tomorrow = addDays(testToday(), 1);
    const baby = { ...valid, birth_date: tomorrow };
    const early = await call(t, 'ris_register_patient', baby, 'receptionist');
    expect(early.error).toMatchObject({
      error_code: 'INVALID_PARAMETERS',
      message: 'Invalid parameters: birth_date: must not be in the future',
    });
    t.clock.set(practiceTime(tomorrow, '00:05'));
    const born = await call(t, 'ris_register_patient', baby, 'receptionist');
    expect(born.status, JSON.stringify(born.error)).toBe(200);
  });

  it('accepts a valid SA ID, and a second registration of it is CONFLICT naming the existing patient', async () => {
    const id = saIdFor('1975-11-03', 'F');
    const first = await call(t, 'ris_register_patient', { ...valid, sa_id_number: id }, 'receptionist');
    expect(first.status).toBe(200);
    expect(first.result.patient).toMatchObject({
      patient_id: expect.stringMatching(/^UPC\d{6}$/),
      patient_name: 'Khumalo^Lindiwe',
      sa_id_number: id,
    });
    const again = await call(t, 'ris_register_patient', { ...valid, sa_id_number: id }, 'receptionist');
    expect(again.error).toMatchObject({
      error_code: 'CONFLICT',
      details: { patient_id: first.result.patient.patient_id },
    });
  });

  it.each([
    [{ icd10_codes: [] }, 'icd10_codes', /at least one ICD-10 code/],
    [{ icd10_codes: ['R10.4', 'banana'] }, 'icd10_codes.1', /ICD-10 code such as R10.4/],
    [{ icd10_codes: ['R104.'] }, 'icd10_codes.0', /ICD-10/],
    [{ priority: 'asap' }, 'priority', /stat, urgent or routine/],
    [{ referring_practice_number: '12' }, 'referring_practice_number', /7-digit/],
    [{ clinical_indication: '' }, 'clinical_indication', /why the study is needed/],
  ])('create order %o → %s', async (change, field, message) => {
    const res = await call(
      t,
      'ris_create_order',
      {
        patient_id: 'UPC000001',
        procedure_code: '3011',
        clinical_indication: 'Headache',
        icd10_codes: ['R51'],
        referring_practice_number: '0123456',
        ...change,
      },
      'receptionist',
    );
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual([field]);
    expect(res.error.message).toMatch(message);
  });

  it('accepts WHO ICD-10 codes as typed (normalised) and issues unique ACC accession numbers', async () => {
    const { practiceNumber } = await createPhysician(t);
    const patient = await registerPatient(t);
    const res = await call(
      t,
      'ris_create_order',
      {
        patient_id: patient,
        procedure_code: '0501',
        clinical_indication: 'Fall, tibia fracture?',
        icd10_codes: ['s82.2', 'W19', 'R10.4'],
        priority: 'urgent',
        referring_practice_number: practiceNumber,
      },
      'receptionist',
    );
    expect(res.result.order).toMatchObject({
      accession_number: expect.stringMatching(/^ACC\d{8}$/),
      icd10_codes: ['S82.2', 'W19', 'R10.4'],
      modality: 'CR',
      priority: 'urgent',
      procedure_description: 'X-ray lower leg (tibia and fibula)',
    });
    const second = await createOrder(t, patient, '0501', practiceNumber);
    expect(second).not.toBe(res.result.order.accession_number);
  });

  it.each([
    [['S82.101A', 'W19'], 'icd10_codes.0', /ICD-10-CM/],
    [['S82.2'], 'icd10_codes.0', /external-cause code/],
    [['N40'], 'icd10_codes.0', /male/i],
  ])(
    'refuses ICD-10 codes a medical aid would reject (%o), writing nothing',
    async (codes, field, message) => {
      const { practiceNumber } = await createPhysician(t);
      const patient = await registerPatient(t); // a woman
      const res = await call(
        t,
        'ris_create_order',
        {
          patient_id: patient,
          procedure_code: '0501',
          clinical_indication: 'Fall, tibia fracture?',
          icd10_codes: codes,
          referring_practice_number: practiceNumber,
        },
        'receptionist',
      );
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toContain(field);
      expect(res.error.message).toMatch(message);
      const orders = await call(t, 'ris_get_patient', { patient_id: patient }, 'receptionist');
      expect(orders.result.orders).toEqual([]);
    },
  );

  it('a modality that contradicts the procedure is an error on modality', async () => {
    const { practiceNumber } = await createPhysician(t);
    const patient = await registerPatient(t);
    const res = await call(
      t,
      'ris_create_order',
      {
        patient_id: patient,
        procedure_code: '3011',
        modality: 'MR',
        clinical_indication: 'Headache',
        icd10_codes: ['R51'],
        referring_practice_number: practiceNumber,
      },
      'receptionist',
    );
    expect(fieldsOf(res)).toEqual(['modality']);
  });
});

describe('roles (policy/default-policy.json)', () => {
  it.each<[Caller, string, number]>([
    ['receptionist', 'ris_register_patient', 200],
    ['radiographer', 'ris_register_patient', 403],
    ['referring_doctor', 'ris_register_patient', 403],
    ['billing_clerk', 'ris_register_patient', 403],
    ['receptionist', 'ris_schedule_appointment', 200],
    ['radiographer', 'ris_schedule_appointment', 403],
    // Arrival (REGISTERED) is front-desk work; the status rights are tested in ris.status-rights.test.ts.
    ['receptionist', 'ris_update_study_status', 200],
    ['radiographer', 'ris_update_study_status', 403],
    ['radiologist', 'ris_update_study_status', 403],
    ['billing_clerk', 'ris_update_study_status', 403],
    ['auditor', 'ris_get_worklist', 403],
    ['transcriptionist', 'ris_search_patients', 403],
    ['billing_clerk', 'ris_search_patients', 200],
  ])('%s → %s: %i', async (role, tool, expected) => {
    const { practiceNumber } = await createPhysician(t);
    const set = await createRoomSet(t, {
      rooms: 1,
      opens: '00:00',
      closes: '24:00',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
    });
    const patient = await registerPatient(t);
    const accession = await createOrder(t, patient, set.procedureCode, practiceNumber);
    let params: Record<string, unknown> = {};
    if (tool === 'ris_register_patient')
      params = { family_name: 'Role', given_names: 'Test', birth_date: '1990-01-01', sex: 'O' };
    if (tool === 'ris_schedule_appointment') params = { accession_number: accession };
    if (tool === 'ris_update_study_status') {
      const booked = await call(
        t,
        'ris_schedule_appointment',
        { accession_number: accession },
        'receptionist',
      );
      params = { appointment_id: booked.result.appointment.appointment_id, status: 'REGISTERED' };
    }
    const res = await call(t, tool, params, role);
    expect(res.status, JSON.stringify(res.error)).toBe(expected);
    if (expected === 403) expect(res.error.error_code).toBe('FORBIDDEN');
  });
});

describe('patient scope for referring doctors', () => {
  let mine: string;
  let theirs: string;
  let assigned: string;
  let myOrder: string;
  let theirOrder: string;
  let day: string;
  const doctor = { role: 'referring_doctor' as const, subject: 'dr.mbeki' };

  beforeAll(async () => {
    const me = await createPhysician(t, 'dr.mbeki');
    const other = await createPhysician(t, 'dr.other');
    const set = await createRoomSet(t, { rooms: 1 });
    mine = await registerPatient(t, { family_name: 'Scopemine' });
    theirs = await registerPatient(t, { family_name: 'Scopetheirs' });
    assigned = await registerPatient(t, { family_name: 'Scopeassigned' });
    myOrder = await createOrder(t, mine, set.procedureCode, me.practiceNumber);
    theirOrder = await createOrder(t, theirs, set.procedureCode, other.practiceNumber);
    day = nextMonday();
    for (const [acc, time] of [
      [myOrder, '09:00'],
      [theirOrder, '10:00'],
    ] as const) {
      await call(
        t,
        'ris_schedule_appointment',
        { accession_number: acc, start_time: `${day}T${time}` },
        'receptionist',
      );
    }
  });

  it('search returns only their referred patients plus the token patients claim', async () => {
    const res = await call(t, 'ris_search_patients', { patient_name: 'Scope' }, doctor);
    expect(res.result.patients.map((p: { patient_id: string }) => p.patient_id)).toEqual([mine]);
    const withClaim = await call(
      t,
      'ris_search_patients',
      { patient_name: 'Scope' },
      { ...doctor, patients: [assigned] },
    );
    expect(withClaim.result.patients.map((p: { patient_id: string }) => p.patient_id).sort()).toEqual(
      [assigned, mine].sort(),
    );
    const staff = await call(t, 'ris_search_patients', { patient_name: 'scope' }, 'radiologist');
    expect(staff.result.count).toBe(3);
  });

  it('the worklist is filtered in the query to their patients', async () => {
    const res = await call(t, 'ris_get_worklist', { date: day }, doctor);
    expect(res.result.worklist.map((w: { accession_number: string }) => w.accession_number)).toEqual([
      myOrder,
    ]);
    const staff = await call(t, 'ris_get_worklist', { date: day }, 'radiographer');
    expect(staff.result.count).toBeGreaterThanOrEqual(2);
  });

  it('single reads of another doctor’s patient are OUT_OF_SCOPE without revealing whose it is', async () => {
    expect((await call(t, 'ris_get_patient', { patient_id: mine }, doctor)).status).toBe(200);
    expect((await call(t, 'ris_get_order', { accession_number: myOrder }, doctor)).status).toBe(200);
    const patient = await call(t, 'ris_get_patient', { patient_id: theirs }, doctor);
    expect(patient.status).toBe(403);
    expect(patient.error.error_code).toBe('OUT_OF_SCOPE');
    const order = await call(t, 'ris_get_order', { accession_number: theirOrder }, doctor);
    expect(order.error).toEqual({
      error_code: 'OUT_OF_SCOPE',
      message:
        `Order ${theirOrder} is not one you may see: there is no such record, or it belongs to a patient ` +
        'outside your scope (not referred by or assigned to you).',
      request_id: expect.any(String),
      details: { accession_number: theirOrder },
    });
    // An order that does not exist gets the very same answer: no existence oracle for a scoped caller.
    const absent = await call(t, 'ris_get_order', { accession_number: 'ACC99999999' }, doctor);
    expect({ ...absent.error, request_id: 'x' }).toEqual({
      ...order.error,
      request_id: 'x',
      message: order.error.message.replace(theirOrder, 'ACC99999999'),
      details: { accession_number: 'ACC99999999' },
    });
    expect(absent.status).toBe(order.status);
    // Staff who see every patient still hear plainly that it does not exist.
    expect(
      (await call(t, 'ris_get_order', { accession_number: 'ACC99999999' }, 'receptionist')).error,
    ).toMatchObject({ error_code: 'NOT_FOUND' });
    // A token claim widens it.
    const claimed = await call(
      t,
      'ris_get_patient',
      { patient_id: theirs },
      { ...doctor, patients: [theirs] },
    );
    expect(claimed.status).toBe(200);
  });

  it('the physician lookup works by practice or HPCSA number and needs exactly one', async () => {
    const physician = await createPhysician(t);
    const byPractice = await call(
      t,
      'ris_get_referring_physician',
      { practice_number: physician.practiceNumber },
      doctor,
    );
    expect(byPractice.result.physician).toMatchObject({
      practice_number: physician.practiceNumber,
      hpcsa_number: physician.hpcsaNumber,
    });
    const byHpcsa = await call(
      t,
      'ris_get_referring_physician',
      { hpcsa_number: physician.hpcsaNumber },
      'receptionist',
    );
    expect(byHpcsa.result.physician.practice_number).toBe(physician.practiceNumber);
    const neither = await call(t, 'ris_get_referring_physician', {}, 'receptionist');
    expect(fieldsOf(neither)).toEqual(['practice_number']);
  });
});

describe('worklist', () => {
  it('defaults to today, orders by time then priority (stat first), and filters', async () => {
    const { practiceNumber } = await createPhysician(t);
    const set = await createRoomSet(t, {
      rooms: 2,
      opens: '00:00',
      closes: '24:00',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      durationMinutes: 15,
    });
    const patient = await registerPatient(t);
    const day = nextMonday();
    const routine = await createOrder(t, patient, set.procedureCode, practiceNumber, 'routine');
    const urgentOrder = await createOrder(t, patient, set.procedureCode, practiceNumber, 'urgent');
    const later = await createOrder(t, patient, set.procedureCode, practiceNumber, 'routine');
    await call(
      t,
      'ris_schedule_appointment',
      { accession_number: routine, start_time: `${day}T09:00`, room: set.rooms[0] },
      'receptionist',
    );
    await call(
      t,
      'ris_schedule_appointment',
      { accession_number: later, start_time: `${day}T11:00`, room: set.rooms[0] },
      'receptionist',
    );
    // Urgent orders are booked within 2 days, so this one goes today; the point here is ordering on a day.
    const res = await call(t, 'ris_get_worklist', { date: day, modality: set.modality }, 'radiographer');
    expect(res.result).toMatchObject({ date: day, time_zone: TZ, count: 2 });
    expect(res.result.worklist.map((w: { accession_number: string }) => w.accession_number)).toEqual([
      routine,
      later,
    ]);
    expect(res.result.worklist[0]).toMatchObject({
      scheduled_start: `${day}T09:00:00+02:00`,
      patient_id: patient,
      patient_name: expect.stringMatching(/^Dlamini\d+\^Thandiwe$/),
      status: 'BOOKED',
      priority: 'routine',
      study_description: 'test procedure',
    });

    const urgentBooked = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: urgentOrder },
      'receptionist',
    );
    const today = testToday();
    const todays = await call(t, 'ris_get_worklist', {}, 'radiographer');
    expect(todays.result.date).toBe(today);
    if (urgentBooked.result.appointment.scheduled_start.startsWith(today)) {
      expect(todays.result.worklist.map((w: { accession_number: string }) => w.accession_number)).toContain(
        urgentOrder,
      );
    }
    const byRoom = await call(t, 'ris_get_worklist', { date: day, room: set.rooms[1] }, 'radiographer');
    expect(byRoom.result.count).toBe(0);
    const byStatus = await call(
      t,
      'ris_get_worklist',
      { date: day, modality: set.modality, status: 'REGISTERED' },
      'radiographer',
    );
    expect(byStatus.result.count).toBe(0);
  });

  it('at the same time, stat comes before urgent before routine', async () => {
    const { practiceNumber } = await createPhysician(t);
    const set = await createRoomSet(t, {
      rooms: 3,
      opens: '00:00',
      closes: '24:00',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
    });
    const patient = await registerPatient(t);
    const today = testToday();
    t.clock.set(practiceTime(today, '09:10'));
    const start = `${today}T10:00`;
    const accs: Record<string, string> = {};
    for (const [i, priority] of (['routine', 'stat', 'urgent'] as const).entries()) {
      accs[priority] = await createOrder(t, patient, set.procedureCode, practiceNumber, priority);
      const res = await call(
        t,
        'ris_schedule_appointment',
        { accession_number: accs[priority], start_time: start, room: set.rooms[i] },
        'receptionist',
      );
      expect(res.status, JSON.stringify(res.error)).toBe(200);
    }
    const res = await call(t, 'ris_get_worklist', { modality: set.modality }, 'radiographer');
    expect(res.result.worklist.map((w: { priority: string }) => w.priority)).toEqual([
      'stat',
      'urgent',
      'routine',
    ]);
  });

  it('ris_get_patient returns demographics, orders and appointments (patient summary)', async () => {
    const { practiceNumber } = await createPhysician(t);
    const set = await createRoomSet(t, { rooms: 1 });
    const patient = await registerPatient(t, {
      medical_aid_scheme: 'Bonitas',
      medical_aid_number: 'BON-12345',
    });
    const acc = await createOrder(t, patient, set.procedureCode, practiceNumber);
    await call(
      t,
      'ris_schedule_appointment',
      { accession_number: acc, start_time: `${nextMonday()}T08:00` },
      'receptionist',
    );
    const res = await call(t, 'ris_get_patient', { patient_id: patient }, 'receptionist');
    expect(res.result.patient).toMatchObject({
      patient_id: patient,
      medical_aid_scheme: 'Bonitas',
      medical_aid_number: 'BON-12345',
      birth_date: '1984-02-29',
    });
    // A radiologist does not need the member number: the policy masks it on the way out.
    const clinical = await call(t, 'ris_get_patient', { patient_id: patient }, 'radiologist');
    expect(clinical.result.patient.medical_aid_number).toBe('*****2345');
    expect(res.result.orders.map((o: { accession_number: string }) => o.accession_number)).toEqual([acc]);
    expect(res.result.appointments[0]).toMatchObject({ accession_number: acc, status: 'BOOKED' });
    const missing = await call(t, 'ris_get_patient', { patient_id: 'UPC999999' }, 'radiologist');
    expect(missing.error.error_code).toBe('NOT_FOUND');
  });
});
