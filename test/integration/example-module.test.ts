import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teachingModule } from '../../examples/teaching/teaching.module.js';
import { teachingDb } from '../../examples/teaching/teaching.tables.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { createOrder, createPhysician, createRoomSet, registerPatient } from '../harness/ris.js';
import { waitUntil } from '../harness/wait.js';

// The module guide's example (docs/ADAPTER_INTERFACE.md): added to a server by the list alone, then used.
describe('an add-on module built from the module shape (examples/teaching)', () => {
  let t: TestApp;
  let accession: string;
  let patientId: string;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [teachingModule] });
    const { procedureCode } = await createRoomSet(t, { rooms: 1 });
    const { practiceNumber } = await createPhysician(t);
    patientId = await registerPatient(t);
    accession = await createOrder(t, patientId, procedureCode, practiceNumber);
  });
  afterAll(() => t?.close());

  it('is listed, migrated and healthy like a built-in module', async () => {
    const tools = (await t.app.inject({ method: 'GET', url: '/mcp/v1/tools' })).json();
    const names = (tools.tools ?? tools).map((tool: { name: string }) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['teaching_add_case', 'teaching_list_cases']));
    const health = await t.app.parts.manager.health();
    expect(health.modules.teaching?.status).toBe('up');
  });

  it('adds a case through another module (as the same caller), writes its event with it, handles it once', async () => {
    const added = await t.invoke('teaching_add_case', {
      accession_number: accession,
      findings: 'Classic case.',
    });
    expect(added.statusCode).toBe(200);
    const result = added.json().result;
    expect(result).toMatchObject({
      accession_number: accession,
      patient_id: patientId,
      findings: 'Classic case.',
    });
    expect(result.added_at).toMatch(/\+02:00$/);

    // The nested ris_get_order call went through the pipeline: audited under the parent's request id.
    const requestId = added.json().request_id as string;
    const events = await sql<{ tool: string; request_id: string }>`
      SELECT tool, request_id FROM audit.events WHERE request_id LIKE ${`${requestId}%`} ORDER BY id`.execute(
      t.app.parts.database.db,
    );
    expect(events.rows.map((row) => row.tool).sort()).toEqual(['ris_get_order', 'teaching_add_case']);
    expect(events.rows.find((row) => row.tool === 'ris_get_order')?.request_id).toBe(`${requestId}.1`);

    // The event handler ran (after commit, at least once) and recorded its notice once.
    const db = teachingDb(t.app.parts.database);
    await waitUntil(
      async () => (await db.selectFrom('teaching.notices').select('event_id').execute()).length === 1,
      { what: 'the teaching event handler' },
    );

    const again = await t.invoke('teaching_add_case', { accession_number: accession, findings: 'Twice.' });
    expect(again.json().error.error_code).toBe('CONFLICT');
  });

  it("is governed by the practice's policy and field-level redaction without declaring either", async () => {
    // The default policy grants no teaching permission: only the administrator's `*` covers it.
    const radiologist = await t.invoke('teaching_list_cases', {}, 'radiologist');
    expect(radiologist.json().error.error_code).toBe('FORBIDDEN');
    const admin = await t.invoke('teaching_list_cases', {}, 'admin');
    expect(admin.json().result.cases[0]).toMatchObject({
      accession_number: accession,
      findings: 'Classic case.',
    });
  });

  it('cannot add a case for an order the caller may not see', async () => {
    const refused = await t.invoke('teaching_add_case', {
      accession_number: 'ACC99999999',
      findings: 'Nothing.',
    });
    expect(refused.json().error.error_code).toBe('NOT_FOUND');
    const db = teachingDb(t.app.parts.database);
    expect(await db.selectFrom('teaching.cases').select('case_id').execute()).toHaveLength(1);
  });
});
