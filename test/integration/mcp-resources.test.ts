/**
 * The canonical MCP resources read end to end: a real Orthanc holding the PACS demo practice, the RIS demo
 * mirroring it (same patient ids and accession numbers), and an SDK client reading as different roles.
 */
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacsStudiesForRis } from '../../src/cli/seed-demo.js';
import { pacsDemoPlan, seedPacsDemo } from '../../src/modules/pacs/pacs.demo.js';
import { seedRisDemo } from '../../src/modules/ris/ris.demo.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { testToday } from '../harness/clock.js';
import { connectMcp } from '../harness/mcp.js';
import { type OrthancHandle, startOrthanc } from '../harness/orthanc.js';

const DEMO = { seed: 5150, pacsPatients: 2 };
const plan = pacsDemoPlan({ seed: DEMO.seed, patients: DEMO.pacsPatients });
const patient = plan.patients[0]!;

let orthanc: OrthancHandle;
let t: TestApp;
let url: string;
const open: Client[] = [];

async function reader(role: Parameters<TestApp['tokenFor']>[0], patients?: string[]): Promise<Client> {
  const token = await t.tokenFor(role, patients ? { patients } : {});
  const client = await connectMcp(url, '2026', { token });
  open.push(client);
  return client;
}

async function readJson(client: Client, uri: string) {
  const read = await client.readResource({ uri });
  expect(read.contents[0]).toMatchObject({ uri, mimeType: 'application/json' });
  const first = read.contents[0] as { text: string };
  return JSON.parse(first.text);
}

beforeAll(async () => {
  orthanc = await startOrthanc();
  t = await startTestApp({
    ORTHANC_URL: orthanc.url,
    ORTHANC_USERNAME: orthanc.username,
    ORTHANC_PASSWORD: orthanc.password,
    ORTHANC_TIMEOUT_MS: '3000',
  });
  await seedPacsDemo(t.config, { patients: DEMO.pacsPatients, seed: DEMO.seed, print: () => {} });
  await seedRisDemo(risDb(t.app.parts.database), {
    seed: DEMO.seed,
    studies: pacsStudiesForRis(DEMO),
    now: t.clock.now(),
  });
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `${address}/mcp`;
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => {})));
  await Promise.all([t?.close(), orthanc?.stop()]);
});

describe('patient://{id}/summary', () => {
  it('joins the RIS record and the PACS history of one patient', async () => {
    const summary = await readJson(await reader('radiologist'), `patient://${patient.patientId}/summary`);
    expect(summary.unavailable).toBeUndefined();
    expect(summary.ris.patient.patient_id).toBe(patient.patientId);
    const accessions = patient.studies.map((s) => s.accessionNumber).sort();
    const orders = summary.ris.orders.map((o: { accession_number: string }) => o.accession_number);
    expect(orders).toEqual(expect.arrayContaining(accessions));
    const pacsAccessions = JSON.stringify(summary.pacs);
    for (const study of patient.studies) expect(pacsAccessions).toContain(study.studyInstanceUid);
  });

  it('shows each role only the parts it may read', async () => {
    const summary = await readJson(await reader('receptionist'), `patient://${patient.patientId}/summary`);
    expect(Object.keys(summary)).toEqual(['ris']);
    // The receptionist's redaction applies inside the part as it does for the tool.
    expect(summary.ris.patient.patient_id).toBe(patient.patientId);
    const auditor = await reader('auditor');
    expect((await auditor.listResourceTemplates()).resourceTemplates).toEqual([]);
  });

  it('keeps a referring doctor to their patients and says when a patient is unknown', async () => {
    const doctor = await reader('referring_doctor', [plan.patients[1]!.patientId]);
    await expect(
      doctor.readResource({ uri: `patient://${patient.patientId}/summary` }),
    ).rejects.toMatchObject({
      data: { error_code: 'OUT_OF_SCOPE' },
    });
    const radiologist = await reader('radiologist');
    // Unknown to both systems: the SDK's resource-not-found error (InvalidParams in 2026-07-28).
    await expect(radiologist.readResource({ uri: 'patient://NOSUCH0001/summary' })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('NOSUCH0001'),
    });
  });
});

describe('study:// and worklist://today', () => {
  it('reads one study by its UID, and today’s worklist', async () => {
    const radiologist = await reader('radiologist');
    const study = patient.studies[0]!;
    const read = await readJson(radiologist, `study://${study.studyInstanceUid}`);
    expect(read.study).toMatchObject({
      study_instance_uid: study.studyInstanceUid,
      patient_id: patient.patientId,
    });
    expect(read.series.length).toBeGreaterThan(0);
    const worklist = await readJson(radiologist, 'worklist://today');
    expect(worklist.date).toBe(testToday());
    expect(worklist.count).toBe(worklist.worklist.length);
    const listed = (await radiologist.listResources()).resources.map((r) => r.uri);
    expect(listed).toContain('worklist://today');
  });
});

describe('when one system is down', () => {
  it('still answers the summary from the RIS and names the part it could not read', async () => {
    await orthanc.kill();
    const summary = await readJson(await reader('radiologist'), `patient://${patient.patientId}/summary`);
    expect(summary.ris.patient.patient_id).toBe(patient.patientId);
    expect(summary.pacs).toBeUndefined();
    expect(summary.unavailable).toEqual({
      pacs: { error_code: 'UPSTREAM_UNAVAILABLE', message: expect.any(String) },
    });
  });
});
