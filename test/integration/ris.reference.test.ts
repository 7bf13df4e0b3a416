/**
 * Day one at a practice, through the front door: the practice profile, referring physicians, rooms and
 * their hours, procedures, errors that name close matches, and the CSV import of the same reference data.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { runCli } from '../harness/cli.js';
import { testNow } from '../harness/clock.js';
import {
  call,
  createOrder,
  createPhysician,
  createRoomSet,
  nextMonday,
  registerPatient,
  unique,
} from '../harness/ris.js';

let t: TestApp;
let dir: string;

beforeAll(async () => {
  t = await startTestApp();
  dir = mkdtempSync(path.join(os.tmpdir(), 'upc-reference-'));
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => t.clock.set(testNow()));

const fieldsOf = (res: { error: { details: { fields: { field: string }[] } } }) =>
  res.error.details.fields.map((f) => f.field);

/** A room name and a private modality no other test uses. */
function names() {
  const n = unique();
  const modality = `Z${String.fromCharCode(65 + (n % 26))}${String.fromCharCode(65 + (Math.floor(n / 26) % 26))}`;
  return { n, modality, room: `RM-${n}` };
}

/** A practice number no other physician of this file is a digit or two away from. */
function practiceNumberFor(prefix: string, n = unique()): string {
  return `${prefix}${String(n % 1_000_000).padStart(6, '0')}`.slice(0, 7);
}

describe('practice profile', () => {
  it('every staff role reads it; a new practice is told what is missing; referring doctors may not', async () => {
    for (const role of ['receptionist', 'radiographer', 'radiologist', 'billing_clerk', 'auditor'] as const) {
      const res = await call(t, 'admin_get_practice_profile', {}, role);
      expect(res.status, role).toBe(200);
    }
    const fresh = await call(t, 'admin_get_practice_profile', {}, 'receptionist');
    expect(fresh.result.profile).toMatchObject({
      time_zone: 'Africa/Johannesburg',
      working_week: [1, 2, 3, 4, 5],
      working_days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
      vat_vendor: false,
      vat_number: null,
      logo: null,
    });
    expect(fresh.result.missing).toEqual(expect.arrayContaining(['name', 'practice_number']));
    const doctor = await call(t, 'admin_get_practice_profile', {}, 'referring_doctor');
    expect(doctor.error.error_code).toBe('FORBIDDEN');
  });

  it('an administrator sets it up field by field; other roles may not change it', async () => {
    const denied = await call(t, 'admin_update_practice_profile', { name: 'Nope' }, 'receptionist');
    expect(denied.status).toBe(403);
    expect(denied.error.error_code).toBe('FORBIDDEN');

    const first = await call(t, 'admin_update_practice_profile', {
      name: 'Umhlanga Radiology',
      practice_number: '0381234',
      address_line1: '12 Ridge Road',
      suburb: 'Umhlanga Rocks',
      city: 'Durban',
      province: 'KwaZulu-Natal',
      postal_code: '4319',
      phone: '+27 31 555 0100',
      email: 'info@umhlanga-radiology.example.org',
      working_week: [6, 1, 2, 3, 4, 5],
    });
    expect(first.status).toBe(200);
    expect(first.result.updated).toEqual(expect.arrayContaining(['name', 'practice_number', 'working_week']));
    expect(first.result.profile).toMatchObject({
      name: 'Umhlanga Radiology',
      practice_number: '0381234',
      province: 'KwaZulu-Natal',
      working_week: [1, 2, 3, 4, 5, 6],
      updated_by: 'test-admin',
    });
    expect(first.result.missing).toEqual([]);

    const vat = await call(t, 'admin_update_practice_profile', {
      vat_vendor: true,
      vat_number: '4123456789',
    });
    expect(vat.result.profile).toMatchObject({
      vat_vendor: true,
      vat_number: '4123456789',
      name: 'Umhlanga Radiology',
    });
    const off = await call(t, 'admin_update_practice_profile', { vat_vendor: false });
    expect(off.result.profile).toMatchObject({ vat_vendor: false, vat_number: null });
    const cleared = await call(t, 'admin_update_practice_profile', { address_line2: null, suburb: null });
    expect(cleared.result.profile).toMatchObject({ suburb: null, city: 'Durban' });
  });

  it.each([
    [{ practice_number: '038123' }, 'practice_number', /7-digit BHF/],
    [{ practice_number: '038 1234' }, 'practice_number', /7-digit BHF/],
    [
      { vat_vendor: true, vat_number: '5123456789' },
      'vat_number',
      /10-digit SARS VAT number starting with 4/,
    ],
    [{ vat_vendor: true, vat_number: '412345678' }, 'vat_number', /10-digit SARS VAT number/],
    [{ vat_vendor: true }, 'vat_number', /is required for a VAT vendor/],
    [{ vat_number: '4123456789' }, 'vat_vendor', /must be true to record a VAT number/],
    [{ time_zone: 'Mars/Olympus_Mons' }, 'time_zone', /IANA time zone/],
    [{ working_week: [1, 1, 2] }, 'working_week', /must not repeat a day/],
    [{ working_week: [0] }, 'working_week.0', /1 \(Monday\) to 7/],
    [{ province: 'Transvaal' }, 'province', /must be one of Eastern Cape/],
    [{}, '(parameters)', /give at least one field to change/],
  ])('refuses %o on %s', async (change, field, message) => {
    const res = await call(t, 'admin_update_practice_profile', change);
    expect(res.status).toBe(400);
    expect(res.error.error_code).toBe('INVALID_PARAMETERS');
    expect(fieldsOf(res)).toEqual([field]);
    expect(res.error.message).toMatch(message);
  });

  it('keeps a small PNG or a plain SVG logo, refuses anything else', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(40, 7),
    ]);
    const set = await call(t, 'admin_update_practice_profile', {
      logo: { media_type: 'image/png', data_base64: png.toString('base64') },
    });
    expect(set.result.profile.logo).toEqual({ media_type: 'image/png', size_bytes: 48 });
    const withLogo = await call(t, 'admin_get_practice_profile', { include_logo: true }, 'radiologist');
    expect(Buffer.from(withLogo.result.profile.logo.data_base64, 'base64').equals(png)).toBe(true);

    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ media_type: 'image/png', data_base64: Buffer.from('GIF89a....').toString('base64') }, /not a PNG/],
      [
        {
          media_type: 'image/svg+xml',
          data_base64: Buffer.from(
            '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
          ).toString('base64'),
        },
        /scripts/,
      ],
      [{ media_type: 'image/png', data_base64: 'not base64!' }, /is not base64/],
      [
        {
          media_type: 'image/png',
          data_base64: Buffer.concat([png, Buffer.alloc(300 * 1024)]).toString('base64'),
        },
        /at most 256 KiB/,
      ],
    ];
    for (const [logo, message] of refusals) {
      const res = await call(t, 'admin_update_practice_profile', { logo });
      expect(res.error?.error_code, String(message)).toBe('INVALID_PARAMETERS');
      expect(res.error.message).toMatch(message);
    }
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    const ok = await call(t, 'admin_update_practice_profile', {
      logo: { media_type: 'image/svg+xml', data_base64: Buffer.from(svg).toString('base64') },
    });
    expect(ok.result.profile.logo).toEqual({ media_type: 'image/svg+xml', size_bytes: svg.length });
    const removed = await call(t, 'admin_update_practice_profile', { logo: null });
    expect(removed.result.profile.logo).toBeNull();
  });

  it("a new time zone is the one ris_get_worklist's times are shown in, from the next call on", async () => {
    const set = await createRoomSet(t, { rooms: 1, opens: '08:00', closes: '12:00' });
    const physician = await createPhysician(t);
    const patient = await registerPatient(t);
    const accession = await createOrder(t, patient, set.procedureCode, physician.practiceNumber);
    const day = nextMonday();
    const booked = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: accession, start_time: `${day}T09:00`, room: set.rooms[0] },
      'receptionist',
    );
    expect(booked.result.appointment.scheduled_start).toBe(`${day}T09:00:00+02:00`);
    const worklist = async () =>
      (await call(t, 'ris_get_worklist', { date: day, room: set.rooms[0] }, 'receptionist')).result;
    expect((await worklist()).worklist[0].scheduled_start).toBe(`${day}T09:00:00+02:00`);
    try {
      const changed = await call(t, 'admin_update_practice_profile', { time_zone: 'europe/london' });
      expect(changed.result.profile.time_zone).toBe('Europe/London');
      const after = await worklist();
      expect(after.time_zone).toBe('Europe/London');
      expect(after.worklist[0].scheduled_start).toBe(`${day}T07:00:00+00:00`);
      const profile = await call(t, 'admin_get_practice_profile', {}, 'receptionist');
      expect(profile.result.profile.time_zone).toBe('Europe/London');
    } finally {
      await call(t, 'admin_update_practice_profile', { time_zone: 'Africa/Johannesburg' });
    }
    expect((await worklist()).worklist[0].scheduled_start).toBe(`${day}T09:00:00+02:00`);
  });
});

describe('referring physicians', () => {
  it('an administrator adds one; everyone with ris:read finds them by name, accents and case aside', async () => {
    const n = unique();
    const practiceNumber = practiceNumberFor('5', n);
    const added = await call(t, 'ris_add_physician', {
      practice_number: practiceNumber,
      hpcsa_number: `MP${String(n).padStart(7, '0')}`,
      family_name: `Pillay-Ndlovú${n}`,
      given_names: 'Zoë Thandeka',
      phone: '+27 31 555 0188',
    });
    expect(added.status).toBe(200);
    expect(added.result.physician).toMatchObject({
      title: 'Dr',
      active: true,
      practice_number: practiceNumber,
    });

    for (const name of [`ndlovu${n}`, `ZOE PILLAY-NDLOVU${n}`, `thandeka ndlov`]) {
      const found = await call(t, 'ris_search_physicians', { name }, 'receptionist');
      expect(
        found.result.physicians.map((p: { practice_number: string }) => p.practice_number),
        name,
      ).toContain(practiceNumber);
    }
    const byNumber = await call(
      t,
      'ris_search_physicians',
      { practice_number: practiceNumber.slice(0, 5) },
      'radiographer',
    );
    expect(byNumber.result.physicians.map((p: { practice_number: string }) => p.practice_number)).toContain(
      practiceNumber,
    );
    const byHpcsa = await call(
      t,
      'ris_search_physicians',
      { hpcsa_number: `mp${String(n).padStart(7, '0')}` },
      'referring_doctor',
    );
    expect(byHpcsa.result.count).toBe(1);

    const again = await call(t, 'ris_add_physician', {
      practice_number: practiceNumber,
      hpcsa_number: 'MP0999999',
      family_name: 'Other',
      given_names: 'Person',
    });
    expect(again.status).toBe(409);
    expect(again.error.message).toMatch(
      new RegExp(
        `Practice number ${practiceNumber} already belongs to ${practiceNumber} Dr Zoë Thandeka Pillay-Ndlovú${n}`,
      ),
    );
    expect(again.error.details.field).toBe('practice_number');

    const denied = await call(
      t,
      'ris_add_physician',
      { practice_number: '0000001', hpcsa_number: 'MP0000001', family_name: 'X', given_names: 'Y' },
      'receptionist',
    );
    expect(denied.error.error_code).toBe('FORBIDDEN');
  });

  it('a name that finds nobody offers physicians with similar names', async () => {
    const n = unique();
    await call(t, 'ris_add_physician', {
      practice_number: practiceNumberFor('6', n),
      hpcsa_number: `MP${String(n).padStart(7, '0')}`,
      family_name: 'Vermeulenhof',
      given_names: 'Annelie',
    });
    const res = await call(t, 'ris_search_physicians', { name: 'Vermeulenhov' }, 'receptionist');
    expect(res.result.count).toBe(0);
    expect(res.result.close_matches.map((p: { family_name: string }) => p.family_name)).toContain(
      'Vermeulenhof',
    );
  });

  it('a deactivated physician is hidden from searches and refused on new orders; reactivation undoes it', async () => {
    const physician = await createPhysician(t);
    const set = await createRoomSet(t, { rooms: 1 });
    const patient = await registerPatient(t);
    const off = await call(t, 'ris_update_physician', {
      practice_number: physician.practiceNumber,
      active: false,
    });
    expect(off.result.physician.active).toBe(false);
    const hidden = await call(
      t,
      'ris_search_physicians',
      { practice_number: physician.practiceNumber },
      'receptionist',
    );
    expect(hidden.result.count).toBe(0);
    const shown = await call(
      t,
      'ris_search_physicians',
      { practice_number: physician.practiceNumber, include_inactive: true },
      'receptionist',
    );
    expect(shown.result.physicians[0].active).toBe(false);
    const order = await call(
      t,
      'ris_create_order',
      {
        patient_id: patient,
        procedure_code: set.procedureCode,
        clinical_indication: 'Abdominal pain',
        icd10_codes: ['R10.4'],
        referring_practice_number: physician.practiceNumber,
      },
      'receptionist',
    );
    expect(order.status).toBe(404);
    expect(order.error.message).toMatch(/is deactivated and takes no new orders/);
    await call(t, 'ris_update_physician', { practice_number: physician.practiceNumber, active: true });
    await createOrder(t, patient, set.procedureCode, physician.practiceNumber);
  });

  it('renumbers and clears fields; an unknown number names close matches', async () => {
    const physician = await createPhysician(t);
    const renumbered = practiceNumberFor('4');
    const res = await call(t, 'ris_update_physician', {
      practice_number: physician.practiceNumber,
      new_practice_number: renumbered,
      email: null,
      title: 'Prof',
    });
    expect(res.result.physician).toMatchObject({ practice_number: renumbered, email: null, title: 'Prof' });
    const gone = await call(t, 'ris_update_physician', {
      practice_number: physician.practiceNumber,
      phone: null,
    });
    expect(gone.status).toBe(404);
    expect(gone.error.message).toMatch(
      new RegExp(`^No referring physician with practice number ${physician.practiceNumber}\\.`),
    );
    expect(gone.error.details.list_with).toBe('ris_search_physicians');
  });
});

describe('errors name close matches', () => {
  it('ris_create_order: a mistyped practice number and procedure code', async () => {
    const patient = await registerPatient(t);
    const n = unique();
    const practiceNumber = `9${String(n % 10_000).padStart(4, '0')}12`;
    await call(t, 'ris_add_physician', {
      practice_number: practiceNumber,
      hpcsa_number: `MP${String(n).padStart(7, '0')}`,
      family_name: 'Mokoena',
      given_names: 'Lerato',
    });
    const typo = `${practiceNumber.slice(0, 5)}21`;
    const order = {
      patient_id: patient,
      procedure_code: '3011',
      clinical_indication: 'Fall with head injury',
      icd10_codes: ['S06.0', 'W19'],
      referring_practice_number: typo,
    };
    const noPhysician = await call(t, 'ris_create_order', order, 'receptionist');
    expect(noPhysician.status).toBe(404);
    expect(noPhysician.error.message).toBe(
      `No referring physician with practice number ${typo}. Close matches: ${practiceNumber} Dr Lerato Mokoena. ` +
        'Find the physician by name with ris_search_physicians; an administrator adds a new one with ris_add_physician.',
    );
    expect(noPhysician.error.details).toMatchObject({
      referring_practice_number: typo,
      list_with: 'ris_search_physicians',
      close_matches: [{ practice_number: practiceNumber, name: `${practiceNumber} Dr Lerato Mokoena` }],
    });

    const noProcedure = await call(
      t,
      'ris_create_order',
      { ...order, procedure_code: '3012', referring_practice_number: practiceNumber },
      'receptionist',
    );
    expect(noProcedure.status).toBe(404);
    expect(noProcedure.error.message).toMatch(
      /^Unknown procedure code 3012\. Close matches: 3011 \(CT head without contrast\)/,
    );
    expect(noProcedure.error.message).toMatch(/List valid codes with ris_list_procedures\.$/);
    expect(
      noProcedure.error.details.close_matches.map((m: { procedure_code: string }) => m.procedure_code),
    ).toEqual(expect.arrayContaining(['3011', '3021']));
    expect(noProcedure.error.details.close_matches.length).toBeLessThanOrEqual(3);
  });

  it('an unknown room names the rooms it may have meant', async () => {
    const res = await call(t, 'ris_set_room_hours', { room: 'CT1', hours: [] });
    expect(res.status).toBe(404);
    expect(res.error.message).toMatch(/^No room CT1\. Close matches: CT-1 \(CT\)/);
    expect(res.error.details).toMatchObject({ list_with: 'ris_list_rooms' });
    expect(res.error.details.close_matches[0]).toEqual({ room: 'CT-1', modality: 'CT', active: true });
  });
});

describe('rooms and opening hours', () => {
  it('a receptionist cannot add a room; an administrator adds one with a new modality and hours', async () => {
    const { modality, room } = names();
    const params = {
      room,
      description: 'Bone densitometry',
      modality,
      hours: [{ weekday: 2, opens_at: '08:00', closes_at: '12:00' }],
    };
    const denied = await call(t, 'ris_add_room', params, 'receptionist');
    expect(denied.status).toBe(403);
    expect(denied.error.error_code).toBe('FORBIDDEN');

    const unknown = await call(t, 'ris_add_room', params);
    expect(fieldsOf(unknown)).toEqual(['modality']);
    expect(unknown.error.message).toMatch(
      /not a modality of this practice .*give modality_description to add it/,
    );

    const added = await call(t, 'ris_add_room', { ...params, modality_description: 'Bone densitometry' });
    expect(added.status).toBe(200);
    expect(added.result.room).toMatchObject({
      room,
      modality,
      modality_description: 'Bone densitometry',
      grid_minutes: 15,
      active: true,
      hours: [{ weekday: 2, day: 'Tue', opens_at: '08:00', closes_at: '12:00' }],
    });
    const twice = await call(t, 'ris_add_room', { ...params, room: room.toLowerCase() });
    expect(twice.status).toBe(409);
    expect(twice.error.message).toMatch(new RegExp(`Room ${room} exists already`));

    const listed = await call(t, 'ris_list_rooms', { modality }, 'radiographer');
    expect(listed.result.rooms.map((r: { room: string }) => r.room)).toEqual([room]);
  });

  it('sets a week with breaks; refuses overlaps and windows that close before they open', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const room = set.rooms[0]!;
    const res = await call(t, 'ris_set_room_hours', {
      room,
      hours: [
        { weekday: 1, opens_at: '13:30', closes_at: '17:00' },
        { weekday: 1, opens_at: '07:00', closes_at: '12:30' },
        { weekday: 6, opens_at: '08:00', closes_at: '24:00' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.result.room.hours).toEqual([
      { weekday: 1, day: 'Mon', opens_at: '07:00', closes_at: '12:30' },
      { weekday: 1, day: 'Mon', opens_at: '13:30', closes_at: '17:00' },
      { weekday: 6, day: 'Sat', opens_at: '08:00', closes_at: '24:00' },
    ]);
    const overlap = await call(t, 'ris_set_room_hours', {
      room,
      hours: [
        { weekday: 3, opens_at: '07:00', closes_at: '12:30' },
        { weekday: 3, opens_at: '12:00', closes_at: '17:00' },
        { weekday: 4, opens_at: '10:00', closes_at: '09:00' },
      ],
    });
    expect(overlap.status).toBe(400);
    expect(fieldsOf(overlap)).toEqual(['hours.2.closes_at', 'hours.1.opens_at']);
    expect(overlap.error.message).toMatch(/Wed 12:00-17:00 overlaps 07:00-12:30/);
  });

  it('new hours that leave a booking outside, and taking a room out of use, say which bookings to move', async () => {
    const set = await createRoomSet(t, { rooms: 1, opens: '08:00', closes: '12:00' });
    const room = set.rooms[0]!;
    const accession = await createOrder(
      t,
      await registerPatient(t),
      set.procedureCode,
      (await createPhysician(t)).practiceNumber,
    );
    const day = nextMonday();
    const booked = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: accession, start_time: `${day}T10:00`, room },
      'receptionist',
    );
    const appointmentId = booked.result.appointment.appointment_id;
    const hours = await call(t, 'ris_set_room_hours', {
      room,
      hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, opens_at: '08:00', closes_at: '10:00' })),
    });
    expect(hours.result.outside_hours).toEqual([
      { appointment_id: appointmentId, scheduled_start: `${day}T10:00:00+02:00` },
    ]);
    expect(hours.result.notice).toMatch(/1 appointment\(s\) booked in .* fall outside the new hours/);

    const modality = await call(t, 'ris_update_room', { room, modality: 'CT' });
    expect(modality.status).toBe(409);
    expect(modality.error.message).toMatch(
      /appointment\(s\) booked from now on, so its modality cannot change/,
    );

    const off = await call(t, 'ris_update_room', { room, active: false, description: 'Tube replacement' });
    expect(off.result).toMatchObject({
      upcoming_appointments: 1,
      room: { active: false, description: 'Tube replacement' },
    });
    expect(off.result.notice).toMatch(/is out of use, but 1 appointment\(s\) from .* are still booked in it/);
    const listed = await call(t, 'ris_list_rooms', { modality: set.modality }, 'receptionist');
    expect(listed.result.count).toBe(0);
    const all = await call(
      t,
      'ris_list_rooms',
      { modality: set.modality, include_inactive: true },
      'receptionist',
    );
    expect(all.result.rooms[0]).toMatchObject({ room, active: false });

    const renamed = await call(t, 'ris_update_room', { room, new_room: `${room}-B`, active: true });
    expect(renamed.result.room).toMatchObject({ room: `${room}-B`, active: true });
    const taken = await call(t, 'ris_update_room', { room: `${room}-B`, new_room: 'CT-1' });
    expect(taken.status).toBe(409);
  });
});

describe('procedures', () => {
  it('adds one with preparation and tariff items checked by the codes module', async () => {
    const { n } = names();
    const code = `US${n}`;
    const base = {
      procedure_code: code.toLowerCase(),
      description: 'Ultrasound pelvis, transabdominal',
      modality: 'US',
      duration_minutes: 20,
      preparation: 'Drink 1 litre of water an hour before; do not empty the bladder.',
    };
    const unknown = await call(t, 'ris_add_procedure', { ...base, tariff_codes: ['4031', '9999'] });
    expect(fieldsOf(unknown)).toEqual(['tariff_codes.1']);
    expect(unknown.error.message).toMatch(/9999 is not a tariff item in force today/);
    const wrongModality = await call(t, 'ris_add_procedure', { ...base, tariff_codes: ['3011'] });
    expect(wrongModality.error.message).toMatch(
      /3011 \(CT head without contrast \(demo item\)\) is a CT item, but the procedure is US/,
    );

    const denied = await call(t, 'ris_add_procedure', { ...base, tariff_codes: ['4031'] }, 'receptionist');
    expect(denied.error.error_code).toBe('FORBIDDEN');
    const added = await call(t, 'ris_add_procedure', { ...base, tariff_codes: ['4031', 'DEMO-C01'] });
    expect(added.status).toBe(200);
    expect(added.result.procedure).toEqual({
      procedure_code: code,
      description: 'Ultrasound pelvis, transabdominal',
      modality: 'US',
      duration_minutes: 20,
      preparation: base.preparation,
      tariff_codes: ['4031', 'DEMO-C01'],
      active: true,
    });
    expect(added.result.notice).toBeUndefined();
    const twice = await call(t, 'ris_add_procedure', { ...base, tariff_codes: [] });
    expect(twice.status).toBe(409);

    const listed = await call(
      t,
      'ris_list_procedures',
      { modality: 'US', text: 'PELVIS transabd' },
      'receptionist',
    );
    expect(listed.result.procedures.map((p: { procedure_code: string }) => p.procedure_code)).toEqual([code]);
    const byPrefix = await call(t, 'ris_list_procedures', { text: '30' }, 'referring_doctor');
    expect(byPrefix.result.procedures.map((p: { procedure_code: string }) => p.procedure_code)).toEqual(
      expect.arrayContaining(['3011', '3021', '3041']),
    );
    const seeded = await call(t, 'ris_list_procedures', { text: 'ct head' }, 'radiographer');
    expect(seeded.result.procedures[0]).toMatchObject({ procedure_code: '3011', tariff_codes: ['3011'] });
    const nothing = await call(t, 'ris_list_procedures', { text: 'mamografy' }, 'receptionist');
    expect(nothing.result.count).toBe(0);
    expect(nothing.result.close_matches.map((p: { procedure_code: string }) => p.procedure_code)).toContain(
      '3601',
    );
  });

  it('a modality without rooms is refused; one without a room in use gets a notice', async () => {
    const { n, modality, room } = names();
    const none = await call(t, 'ris_add_procedure', {
      procedure_code: `P${n}`,
      description: 'A new study',
      modality,
      duration_minutes: 15,
    });
    expect(fieldsOf(none)).toEqual(['modality']);
    await call(t, 'ris_add_room', {
      room,
      description: 'x room',
      modality,
      modality_description: 'Test',
      active: false,
    });
    const added = await call(t, 'ris_add_procedure', {
      procedure_code: `P${n}`,
      description: 'A new study',
      modality,
      duration_minutes: 15,
    });
    expect(added.result.procedure.tariff_codes).toEqual([]);
    expect(added.result.notice).toMatch(/No room in use is a .* room, so P\d+ cannot be booked yet/);
  });

  it('updates duration, preparation and tariff items; a deactivated procedure is refused on new orders', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const changed = await call(t, 'ris_update_procedure', {
      procedure_code: set.procedureCode,
      duration_minutes: 45,
      preparation: 'Nil by mouth for 4 hours.',
    });
    expect(changed.result.procedure).toMatchObject({
      duration_minutes: 45,
      preparation: 'Nil by mouth for 4 hours.',
    });
    const cleared = await call(t, 'ris_update_procedure', {
      procedure_code: set.procedureCode,
      preparation: null,
    });
    expect(cleared.result.procedure.preparation).toBeNull();
    const badTariff = await call(t, 'ris_update_procedure', {
      procedure_code: set.procedureCode,
      tariff_codes: ['3011'],
    });
    expect(fieldsOf(badTariff)).toEqual(['tariff_codes.0']);

    await call(t, 'ris_update_procedure', { procedure_code: set.procedureCode, active: false });
    const patient = await registerPatient(t);
    const physician = await createPhysician(t);
    const order = await call(
      t,
      'ris_create_order',
      {
        patient_id: patient,
        procedure_code: set.procedureCode,
        clinical_indication: 'Abdominal pain',
        icd10_codes: ['R10.4'],
        referring_practice_number: physician.practiceNumber,
      },
      'receptionist',
    );
    expect(order.status).toBe(404);
    expect(order.error.message).toMatch(
      new RegExp(`Procedure ${set.procedureCode} \\(test procedure\\) is deactivated`),
    );
    const unknown = await call(t, 'ris_update_procedure', { procedure_code: 'NOPE-1', active: true });
    expect(unknown.error.details.list_with).toBe('ris_list_procedures');
  });
});

describe('day one, through tools only', () => {
  it('an administrator sets up the practice, a physician, a room with hours and a procedure; the front desk books', async () => {
    const { n, modality, room } = names();
    const profile = await call(t, 'admin_update_practice_profile', {
      name: 'Day One Imaging',
      practice_number: '0380001',
    });
    expect(profile.status).toBe(200);
    const practiceNumber = practiceNumberFor('8', n);
    const steps = [
      await call(t, 'ris_add_physician', {
        practice_number: practiceNumber,
        hpcsa_number: `MP${String(n).padStart(7, '0')}`,
        family_name: 'Naidoo',
        given_names: 'Kavitha',
      }),
      await call(t, 'ris_add_room', {
        room,
        description: 'Cone-beam CT',
        modality,
        modality_description: 'Cone-beam CT',
        hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, opens_at: '08:00', closes_at: '16:00' })),
      }),
      await call(t, 'ris_add_procedure', {
        procedure_code: `CB${n}`,
        description: 'Cone-beam CT sinuses',
        modality,
        duration_minutes: 20,
        preparation: 'Remove earrings and dentures.',
      }),
    ];
    for (const step of steps) expect(step.status, JSON.stringify(step.error)).toBe(200);

    const found = await call(t, 'ris_search_physicians', { name: 'naidoo kavitha' }, 'receptionist');
    const number = found.result.physicians.find(
      (p: { practice_number: string }) => p.practice_number === practiceNumber,
    );
    const procedure = (await call(t, 'ris_list_procedures', { text: 'sinuses cone' }, 'receptionist')).result
      .procedures[0];
    expect(procedure.procedure_code).toBe(`CB${n}`);
    const patient = await registerPatient(t);
    const order = await call(
      t,
      'ris_create_order',
      {
        patient_id: patient,
        procedure_code: procedure.procedure_code,
        clinical_indication: 'Chronic sinusitis, pre-operative planning',
        icd10_codes: ['R51'],
        referring_practice_number: number.practice_number,
      },
      'receptionist',
    );
    expect(order.status).toBe(200);
    const day = nextMonday();
    const booked = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: order.result.order.accession_number, start_time: `${day}T08:00` },
      'receptionist',
    );
    expect(booked.result.appointment).toMatchObject({
      room,
      scheduled_start: `${day}T08:00:00+02:00`,
      scheduled_end: `${day}T08:20:00+02:00`,
    });

    // A second order, asked for on a public holiday (a Wednesday, when the room is otherwise open).
    const second = await call(
      t,
      'ris_create_order',
      {
        patient_id: patient,
        procedure_code: procedure.procedure_code,
        clinical_indication: 'Chronic sinusitis, follow-up',
        icd10_codes: ['R51'],
        referring_practice_number: number.practice_number,
      },
      'receptionist',
    );
    const holiday = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: second.result.order.accession_number, start_time: '2026-12-16T09:00' },
      'receptionist',
    );
    expect(holiday.status).toBe(409);
    expect(holiday.error.message).toMatch(/Day of Reconciliation, a public holiday/);
  });
});

describe('upc-mcp import physicians|procedures|rooms', () => {
  const csv = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
  const cli = (args: string[]) => runCli(['import', ...args], { DATABASE_URL: t.database.url }, 60_000);

  it('physicians: rejected rows listed by line, nothing written; good rows with --skip-invalid; a re-import changes nothing', async () => {
    const n = unique();
    const number = (i: number) => practiceNumberFor(String(i), n);
    const hpcsa = (i: number) => `MP${String(n * 10 + i).padStart(7, '0')}`.slice(0, 9);
    const header = 'Practice_Number,HPCSA_Number,Title,Family_Name,Given_Names,Phone,Email,Active';
    const good = [
      `${number(1)},${hpcsa(1)},Dr,Ngcobo,Sipho,+27 31 555 0101,sipho@example.org,Y`,
      `${number(2)},${hpcsa(2)},Prof,"Van der Merwe, Jnr",Pieter,,,Y`,
      `${number(3)},${hpcsa(3)},,Adams,Fatima,,,N`,
    ];
    const bad = [
      `12345,${hpcsa(4)},Dr,Short,Number,,,Y`,
      `${number(5)},${hpcsa(5)},Dr,Bad,Email,,not-an-email,maybe`,
      `${number(1)},${hpcsa(6)},Dr,Twice,Listed,,,Y`,
    ];
    const file = path.join(dir, 'physicians.csv');
    writeFileSync(file, csv([header, ...good, ...bad]));

    const refused = await cli(['physicians', file]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/rows read {3}6\n {2}accepted {4}3\n {2}rejected {4}3\n/);
    expect(refused.stderr).toContain('✗ 3 rows rejected:');
    expect(refused.stderr).toMatch(/line 5: 12345: Practice_Number must be the 7-digit practice number/);
    expect(refused.stderr).toMatch(
      /line 6: \d{7}: Active is "maybe"; expected Y or N; Email must be an e-mail address/,
    );
    expect(refused.stderr).toMatch(new RegExp(`line 7: ${number(1)}: already on line 2`));
    expect(refused.stderr).toMatch(
      /Nothing was imported: fix the rejected rows and import again, or add --skip-invalid to import the 3 good rows\./,
    );
    const none = await call(t, 'ris_search_physicians', { practice_number: number(1) }, 'receptionist');
    expect(none.result.count).toBe(0);

    const skipped = await cli(['physicians', file, '--skip-invalid']);
    expect(skipped.code).toBe(2);
    expect(skipped.stdout).toMatch(/inserted {4}3\n {2}updated {5}0\n {2}unchanged {3}0\n/);
    expect(skipped.stdout).toMatch(/✓ physicians imported \(3 rejected rows skipped\)/);

    const goodFile = path.join(dir, 'physicians-good.csv');
    writeFileSync(goodFile, csv([header, ...good]));
    const again = await cli(['physicians', goodFile]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/inserted {4}0\n {2}updated {5}0\n {2}unchanged {3}3\n/);

    const found = await call(t, 'ris_search_physicians', { name: 'merwe jnr' }, 'receptionist');
    expect(found.result.physicians).toEqual([
      expect.objectContaining({
        practice_number: number(2),
        title: 'Prof',
        family_name: 'Van der Merwe, Jnr',
        phone: null,
      }),
    ]);
    const inactive = await call(t, 'ris_search_physicians', {
      practice_number: number(3),
      include_inactive: true,
    });
    expect(inactive.result.physicians[0]).toMatchObject({ title: 'Dr', active: false });

    // A changed phone number is an update; a column left out keeps what is on file.
    writeFileSync(
      goodFile,
      csv([
        'Practice_Number,HPCSA_Number,Family_Name,Given_Names,Phone',
        `${number(1)},${hpcsa(1)},Ngcobo,Sipho,+27 31 555 0199`,
      ]),
    );
    const update = await cli(['physicians', goodFile]);
    expect(update.stdout).toMatch(/inserted {4}0\n {2}updated {5}1\n {2}unchanged {3}0\n/);
    const sipho = await call(t, 'ris_search_physicians', { practice_number: number(1) });
    expect(sipho.result.physicians[0]).toMatchObject({
      phone: '+27 31 555 0199',
      email: 'sipho@example.org',
    });
  });

  it('procedures and rooms: tariff codes, modalities and hours checked; a wrong header imports nothing', async () => {
    const { n, modality, room } = names();
    const rooms = path.join(dir, 'rooms.csv');
    writeFileSync(
      rooms,
      csv([
        'Room,Description,Modality,Modality_Description,Grid_Minutes,Hours,Active',
        `${room},Fluoroscopy room,${modality},Fluoroscopy,20,"Mon-Fri 07:00-12:30,13:30-17:00; Sat 08:00-12:00",Y`,
        `${room}-2,Second room,${modality},,,closed,N`,
        `${room}-3,Bad hours,${modality},,,Mon-Fri 09:00-08:00,Y`,
        `${room}-4,Bad modality,ZZZZ,,,,Y`,
      ]),
    );
    const roomImport = await cli(['rooms', rooms, '--skip-invalid']);
    expect(roomImport.code).toBe(2);
    expect(roomImport.stderr).toMatch(
      /line 4: RM-\d+-3: Hours must be after opens_at 09:00 \(Mon 09:00-08:00\)/,
    );
    expect(roomImport.stderr).toMatch(/line 5: RM-\d+-4: Modality must be a DICOM modality code/);
    expect(roomImport.stdout).toMatch(/inserted {4}2\n/);
    const listed = await call(t, 'ris_list_rooms', { modality, include_inactive: true }, 'receptionist');
    expect(listed.result.rooms).toEqual([
      expect.objectContaining({
        room,
        grid_minutes: 20,
        modality_description: 'Fluoroscopy',
        active: true,
        hours: expect.arrayContaining([
          { weekday: 1, day: 'Mon', opens_at: '07:00', closes_at: '12:30' },
          { weekday: 1, day: 'Mon', opens_at: '13:30', closes_at: '17:00' },
          { weekday: 6, day: 'Sat', opens_at: '08:00', closes_at: '12:00' },
        ]),
      }),
      expect.objectContaining({ room: `${room}-2`, active: false, hours: [] }),
    ]);
    expect(listed.result.rooms[0].hours).toHaveLength(11);

    const procedures = path.join(dir, 'procedures.csv');
    writeFileSync(
      procedures,
      csv([
        'Code,Description,Modality,Duration_Minutes,Preparation,Tariff_Codes',
        `F${n},Barium swallow,${modality},30,"Nothing to eat or drink for 6 hours",DEMO-C01`,
        `G${n},Unknown tariff,${modality},30,,NOPE-99`,
        `H${n},Too long,${modality},600,,`,
      ]),
    );
    const refused = await cli(['procedures', procedures]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(`line 3: G${n}: Tariff_Codes: NOPE-99 is not a tariff item in force today`),
    );
    expect(refused.stderr).toMatch(new RegExp(`line 4: H${n}: Duration_Minutes must be 5-480 minutes`));
    const none = await call(t, 'ris_list_procedures', { text: `F${n}` }, 'receptionist');
    expect(none.result.count).toBe(0);
    const skipped = await cli(['procedures', procedures, '--skip-invalid']);
    expect(skipped.stdout).toMatch(/inserted {4}1\n/);
    const swallow = await call(t, 'ris_list_procedures', { modality }, 'receptionist');
    expect(swallow.result.procedures).toEqual([
      {
        procedure_code: `F${n}`,
        description: 'Barium swallow',
        modality,
        duration_minutes: 30,
        preparation: 'Nothing to eat or drink for 6 hours',
        tariff_codes: ['DEMO-C01'],
        active: true,
      },
    ]);

    const wrong = path.join(dir, 'wrong.csv');
    writeFileSync(wrong, csv(['Code,Name', '1,2']));
    const header = await cli(['rooms', wrong]);
    expect(header.code).toBe(1);
    expect(header.stderr).toMatch(/This is not a rooms file: the header lacks Room, Description, Modality/);
    expect(header.stderr).toMatch(/Nothing was imported\./);
    const usage = await cli(['rooms', wrong, '--table', 'x']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/--table and --description are for tariff imports/);
  });
});
