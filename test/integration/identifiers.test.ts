/**
 * Identifiers masked for real: an SA ID shown masked reveals nothing, searching by it needs the right to
 * see it, the audit log keeps it as a keyed hash, and DICOM tags go through the same field redaction.
 * Also: one event the audit store refuses fails its own call only.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditDb } from '../../src/audit/audit.store.js';
import { verifyChain } from '../../src/audit/audit.verify.js';
import type { InvocationRecord } from '../../src/core/pipeline.js';
import { defineTool } from '../../src/core/tool.js';
import { WITHHELD } from '../../src/security/redaction.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { call, registerPatient, saIdFor } from '../harness/ris.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // A PACS tool returning DICOM tags, as pacs_retrieve_study {include_tags: true} does: declared by nothing
  // but the PACS module's field redactions.
  t.app.parts.registry.register(
    defineTool({
      name: 'test_dicom_tags',
      title: 'DICOM tags (fixture)',
      description: 'Shared DICOM tags of a study (test fixture).',
      input: z.object({}),
      output: z.object({ tags: z.record(z.string(), z.unknown()) }),
      permission: 'pacs:read',
      annotations: { readOnlyHint: true },
      phi: true,
      handler: async () => ({
        tags: {
          PatientName: 'Dlamini^Thandi',
          OtherPatientIDs: '8001015009087',
          OtherPatientIDsSequence: [{ PatientID: '8001015009087', IssuerOfPatientID: 'ZA-DHA' }],
          PatientAddress: '12 Long Street, Cape Town',
          PatientTelephoneNumbers: '+27 21 555 0100',
          StudyDescription: 'CT head',
        },
      }),
    }),
    'pacs',
  );
});
afterAll(() => t.close());

describe('SA ID numbers', () => {
  it('are masked whole for roles that may not see them, and those roles may not search by them', async () => {
    const id = saIdFor('1980-01-01', 'M');
    const patient = await registerPatient(t, {
      birth_date: '1980-01-01',
      sex: 'M',
      sa_id_number: id,
      medical_aid_scheme: 'Bonitas',
      medical_aid_number: 'BON-77766',
    });
    const asRadiologist = await call(t, 'ris_get_patient', { patient_id: patient }, 'radiologist');
    expect(asRadiologist.result.patient.sa_id_number).toBe('*'.repeat(13));
    expect(asRadiologist.result.patient.birth_date).toBe('1980-01-01');
    const asReceptionist = await call(t, 'ris_get_patient', { patient_id: patient }, 'receptionist');
    expect(asReceptionist.result.patient.sa_id_number).toBe(id);

    const guess = await call(t, 'ris_search_patients', { sa_id_number: id }, 'radiologist');
    expect(guess.error).toMatchObject({ error_code: 'FORBIDDEN', details: { field: 'sa_id_number' } });
    const member = await call(t, 'ris_search_patients', { medical_aid_number: 'BON-77766' }, 'radiologist');
    expect(member.error.error_code).toBe('FORBIDDEN');
    const desk = await call(t, 'ris_search_patients', { sa_id_number: id }, 'receptionist');
    expect(desk.result.patients.map((p: { patient_id: string }) => p.patient_id)).toEqual([patient]);

    // The audit log keeps the number as a keyed hash: the auditor cannot read it back...
    await t.app.parts.auditWriter.flush();
    const events = await call(t, 'admin_search_audit', { tool: 'ris_search_patients', limit: 20 }, 'auditor');
    const text = JSON.stringify(events.result.events);
    expect(text).not.toContain(id);
    expect(text).toMatch(/"sa_id_number":"hmac:[0-9a-f]{32}"/);
    // ...nor search by it; an administrator, who may see SA IDs, finds the events by the number.
    const auditorSearch = await call(t, 'admin_search_audit', { sa_id_number: id }, 'auditor');
    expect(auditorSearch.error.error_code).toBe('FORBIDDEN');
    const adminSearch = await call(t, 'admin_search_audit', { sa_id_number: id, limit: 50 }, 'admin');
    expect(adminSearch.result.events.map((e: { tool: string }) => e.tool)).toEqual(
      expect.arrayContaining(['ris_search_patients', 'ris_register_patient']),
    );
  });
});

describe('DICOM tags', () => {
  it('go through the same field redaction: other IDs masked, address and phone withheld', async () => {
    const radiologist = await call(t, 'test_dicom_tags', {}, 'radiologist');
    expect(radiologist.result.tags).toEqual({
      PatientName: 'Dlamini^Thandi',
      OtherPatientIDs: '*'.repeat(13),
      OtherPatientIDsSequence: [{ PatientID: '*'.repeat(13), IssuerOfPatientID: '******' }],
      PatientAddress: WITHHELD,
      PatientTelephoneNumbers: WITHHELD,
      StudyDescription: 'CT head',
    });
    const admin = await call(t, 'test_dicom_tags', {}, 'admin');
    expect(admin.result.tags.OtherPatientIDs).toBe('8001015009087');
  });
});

describe('the audit store refusing one event', () => {
  it('fails that call alone: the other events of the same batch are committed and the chain verifies', async () => {
    const writer = t.app.parts.auditWriter;
    const record = (outcome: string, n: number): InvocationRecord => ({
      request: {
        tool: 'test_batch',
        parameters: {},
        door: 'rest',
        requestId: `batch-${n}`,
        credentials: { bearer: undefined },
      },
      outcome: outcome as InvocationRecord['outcome'],
      durationMs: 1,
    });
    // Queued together, so they would share one transaction; the store refuses the bogus outcome.
    const results = await Promise.allSettled(
      [0, 1, 2, 3, 4].map((n) => writer.record(record(n === 2 ? 'bogus' : 'success', n))),
    );
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'INTERNAL' });
    expect(writer.isAvailable()).toBe(true); // one bad event is not an outage: PHI tools keep working
    const { rows } = await sql<{ request_id: string }>`
      SELECT request_id FROM audit.events WHERE tool = 'test_batch' ORDER BY id`.execute(
      t.app.parts.database.db,
    );
    expect(rows.map((r) => r.request_id)).toEqual(['batch-0', 'batch-1', 'batch-3', 'batch-4']);
    expect((await verifyChain(auditDb(t.app.parts.database.db))).ok).toBe(true);
  });
});
