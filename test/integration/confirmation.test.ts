/**
 * Confirmations a person can read, checked before anyone is asked; one documented way to confirm over
 * REST; times a person reads in the practice zone; tool schemas every model provider accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  type Caller,
  call,
  callConfirmed,
  createOrder,
  createPhysician,
  createRoomSet,
  nextMonday,
  registerPatient,
} from '../harness/ris.js';

let t: TestApp;
let procedureCode: string;
let room: string;
let practice: string;

beforeAll(async () => {
  t = await startTestApp();
  practice = (await createPhysician(t)).practiceNumber;
  const set = await createRoomSet(t, { rooms: 1 });
  procedureCode = set.procedureCode;
  room = set.rooms[0]!;
});
afterAll(() => t.close());

async function booked(time = '09:30'): Promise<{ id: number; accession: string; day: string }> {
  const patient = await registerPatient(t, { family_name: 'Mokoena', given_names: 'Thandi' });
  const accession = await createOrder(t, patient, procedureCode, practice);
  const day = nextMonday();
  const res = await call(
    t,
    'ris_schedule_appointment',
    { accession_number: accession, start_time: `${day}T${time}` },
    'receptionist',
  );
  return { id: res.result.appointment.appointment_id, accession, day };
}

async function invokeRaw(body: unknown, as: Caller = 'receptionist') {
  const token = await t.tokenFor(typeof as === 'string' ? as : as.role);
  return t.app.inject({
    method: 'POST',
    url: '/mcp/v1/invoke',
    headers: { authorization: `Bearer ${token}` },
    payload: body as object,
  });
}

describe('confirmation over REST', () => {
  it('says in words what will happen to whom, and works exactly as its message says', async () => {
    const appointment = await booked();
    const parameters = { appointment_id: appointment.id, reason: 'Patient unwell' };
    const first = await invokeRaw({ tool: 'ris_cancel_appointment', parameters });
    expect(first.statusCode).toBe(409);
    const error = first.json().error;
    const weekday = 'Mon';
    expect(error.details.summary).toMatch(
      new RegExp(
        `^Cancel Thandi Mokoena's test procedure on ${weekday} \\d{1,2} \\w{3} \\d{4} 09:30 in ${room} ` +
          `\\(appointment ${appointment.id}, ${appointment.accession}\\); reason: Patient unwell\\.`,
      ),
    );
    expect(error.message).toBe(
      `Please confirm: ${error.details.summary} Ask the person; if they agree, send the same request again ` +
        'with "context": {"confirmation_token": "<details.confirmation_token>"} beside "tool" and ' +
        '"parameters" (POST /mcp/v1/invoke).',
    );
    // Nothing happened yet.
    const order = await call(t, 'ris_get_order', { accession_number: appointment.accession }, 'receptionist');
    expect(order.result.appointment.status).toBe('BOOKED');
    // Exactly as the message says: the same request, with context.confirmation_token.
    const second = await invokeRaw({
      tool: 'ris_cancel_appointment',
      parameters,
      context: { confirmation_token: error.details.confirmation_token },
    });
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().result.appointment.status).toBe('CANCELLED');
  });

  it('refuses a token put in the parameters or beside "tool", saying where it goes', async () => {
    const appointment = await booked('10:00');
    const parameters = { appointment_id: appointment.id, reason: 'Patient unwell' };
    const inParameters = await invokeRaw({
      tool: 'ris_cancel_appointment',
      parameters: { ...parameters, confirmation_token: 'x' },
    });
    expect(inParameters.statusCode).toBe(400);
    expect(inParameters.json().error.message).toBe(
      'Invalid parameters: parameters.confirmation_token: goes in "context", not in "parameters": ' +
        '{"tool": ..., "parameters": {...}, "context": {"confirmation_token": "..."}}',
    );
    const topLevel = await invokeRaw({ tool: 'ris_cancel_appointment', parameters, confirmation_token: 'x' });
    expect(topLevel.statusCode).toBe(400);
    expect(topLevel.json().error.message).toMatch(/confirmation_token/);
  });

  it('on a per-tool route the token goes in the X-Confirmation-Token header, as that answer says', async () => {
    const appointment = await booked('10:30');
    const parameters = { appointment_id: appointment.id, reason: 'Patient unwell' };
    const headers = { authorization: `Bearer ${await t.tokenFor('receptionist')}` };
    const url = '/mcp/v1/tools/ris_cancel_appointment/invoke';
    const first = await t.app.inject({ method: 'POST', url, headers, payload: parameters });
    expect(first.json().error.message).toContain('"X-Confirmation-Token: <details.confirmation_token>"');
    const token = first.json().error.details.confirmation_token;
    const second = await t.app.inject({
      method: 'POST',
      url,
      headers: { ...headers, 'x-confirmation-token': token },
      payload: parameters,
    });
    expect(second.statusCode, second.body).toBe(200);
  });

  it('an impossible cancel fails before anyone is asked to confirm', async () => {
    const missing = await call(t, 'ris_cancel_appointment', { appointment_id: 999_999, reason: 'x y z' });
    expect(missing.error).toMatchObject({ error_code: 'NOT_FOUND' });
    expect(missing.error.details.confirmation_token).toBeUndefined();

    const appointment = await booked('11:00');
    const cancelled = await callConfirmed(
      t,
      'ris_cancel_appointment',
      { appointment_id: appointment.id, reason: 'Patient unwell' },
      'receptionist',
    );
    expect(cancelled.ok).toBe(true);
    const again = await call(
      t,
      'ris_cancel_appointment',
      { appointment_id: appointment.id, reason: 'Patient unwell' },
      'receptionist',
    );
    expect(again.error).toMatchObject({
      error_code: 'CONFLICT',
      message: `Appointment ${appointment.id} is CANCELLED and cannot become CANCELLED. CANCELLED is final.`,
    });
  });
});

describe('times a person reads carry the practice offset', () => {
  const PRACTICE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+02:00$/;

  it('confirmation expiry, booking conflicts, assignments and audit events', async () => {
    const appointment = await booked('08:00');
    const confirmation = await call(
      t,
      'ris_cancel_appointment',
      { appointment_id: appointment.id, reason: 'Patient unwell' },
      'receptionist',
    );
    expect(confirmation.error.details.expires_at).toMatch(PRACTICE_TIME);

    const patient = await registerPatient(t);
    const other = await createOrder(t, patient, procedureCode, practice);
    const conflict = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: other, start_time: `${appointment.day}T08:00`, if_taken: 'fail' },
      'receptionist',
    );
    expect(conflict.error.details.next_free_start).toMatch(PRACTICE_TIME);

    const assigned = await call(
      t,
      'admin_assign_patient',
      { subject: 'dr-cover', patient_id: patient, days: 3, reason: 'cover for a colleague' },
      'admin',
    );
    expect(assigned.result.expires_at).toMatch(PRACTICE_TIME);

    await t.app.parts.auditWriter.flush();
    const audit = await call(t, 'admin_search_audit', { limit: 5 }, 'auditor');
    expect(audit.result.events.length).toBeGreaterThan(0);
    for (const event of audit.result.events) expect(event.occurred_at).toMatch(PRACTICE_TIME);
  });
});

describe('tool schemas every model provider accepts', () => {
  /** Paths in a JSON Schema that use constructs some providers reject in tool definitions. */
  function unportable(schema: unknown, at = '$'): string[] {
    if (Array.isArray(schema)) return schema.flatMap((item, i) => unportable(item, `${at}[${i}]`));
    if (typeof schema !== 'object' || schema === null) return [];
    const problems: string[] = [];
    const record = schema as Record<string, unknown>;
    if (Array.isArray(record.type)) problems.push(`${at}: type array`);
    if ('const' in record) problems.push(`${at}: const`);
    if ('$ref' in record) problems.push(`${at}: $ref`);
    if (Object.keys(record).length === 0) problems.push(`${at}: empty schema`);
    for (const [key, value] of Object.entries(record)) {
      if (key === 'default' || key === 'examples' || key === 'enum' || key === 'required') continue;
      if (key === 'properties') {
        for (const [name, property] of Object.entries(value as object))
          problems.push(...unportable(property, `${at}.properties.${name}`));
      } else problems.push(...unportable(value, `${at}.${key}`));
    }
    return problems;
  }

  it('no registered tool uses type arrays, const, $ref or empty schemas', () => {
    const problems = t.app.parts.registry
      .list()
      .flatMap(({ descriptor }) => [
        ...unportable(descriptor.input_schema, `${descriptor.name}.input`),
        ...unportable(descriptor.output_schema, `${descriptor.name}.output`),
      ]);
    expect(problems).toEqual([]);
    expect(t.app.parts.registry.list().length).toBeGreaterThan(20);
  });
});
