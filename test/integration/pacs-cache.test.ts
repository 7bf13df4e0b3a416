/**
 * The read cache in front of Orthanc: repeated searches cost no Orthanc call, answers are never shared
 * across patient scopes, writes through the server invalidate them (for every replica when they share
 * Redis), and a Redis outage makes calls slower, never failed. Orthanc calls are counted with the
 * server's own backend metrics (one sample per call to Orthanc).
 */
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/context.js';
import { buildInstance, generatePractice, type PracticePlan } from '../../src/dicom/synthetic.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { loadSyntheticPractice, type OrthancHandle, startOrthanc } from '../harness/orthanc.js';
import { type RedisHandle, startRedis } from '../harness/redis.js';

let orthanc: OrthancHandle;
let plan: PracticePlan;

beforeAll(async () => {
  orthanc = await startOrthanc();
  plan = await loadSyntheticPractice(orthanc, {
    seed: 4242,
    patients: 2,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: 1,
  });
});

afterAll(async () => {
  await orthanc?.stop();
});

function pacsSettings(extra: Record<string, string> = {}) {
  return {
    ORTHANC_URL: orthanc.url,
    ORTHANC_USERNAME: orthanc.username,
    ORTHANC_PASSWORD: orthanc.password,
    ORTHANC_TIMEOUT_MS: '10000',
    PACS_CACHE_TTL_MS: '60000',
    ...extra,
  };
}

/** Calls this server made to Orthanc so far (every call is one histogram sample). */
async function orthancCalls(app: FastifyInstance): Promise<number> {
  const metric = await app.parts.metrics.backendDuration.get();
  return metric.values
    .filter((v) => v.metricName?.endsWith('_count') && v.labels.backend === 'orthanc')
    .reduce((sum, v) => sum + v.value, 0);
}

async function cacheCount(app: FastifyInstance, cache: string, result: string): Promise<number> {
  const metric = await app.parts.metrics.cacheRequests.get();
  return metric.values.find((v) => v.labels.cache === cache && v.labels.result === result)?.value ?? 0;
}

type As = Role | { token: string };

/** Runs a search and reports its answer and how many Orthanc calls it cost. */
async function search(t: TestApp, parameters: Record<string, unknown>, as: As = 'admin') {
  const before = await orthancCalls(t.app);
  const response = await t.invoke('pacs_search_studies', parameters, as);
  expect(response.statusCode, response.body).toBe(200);
  const studies = (
    response.json().result.studies as { study_instance_uid: string; patient_id: string }[]
  ).map((s) => `${s.patient_id}/${s.study_instance_uid}`);
  return { studies: studies.sort(), calls: (await orthancCalls(t.app)) - before };
}

/** A new study for an existing patient, as the base64 files pacs_upload_study takes. */
function newStudyFor(patientIndex: number, seed: number) {
  const patient = plan.patients[patientIndex]!;
  const study = generatePractice({ seed, patients: 1, studiesPerPatient: 1, seriesPerStudy: 1 }).patients[0]!
    .studies[0]!;
  const bytes = Buffer.from(buildInstance(patient, study, study.series[0]!, 1));
  return { uid: study.studyInstanceUid, files: [{ data_base64: bytes.toString('base64') }] };
}

async function upload(t: TestApp, files: { data_base64: string }[]) {
  const response = await t.invoke('pacs_upload_study', { files }, 'admin');
  expect(response.statusCode, response.body).toBe(200);
  expect(response.json().result.stored).toBe(files.length);
}

describe('in-process read cache', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(pacsSettings());
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the same search twice with one round of Orthanc calls, and audits both', async () => {
    const first = await search(t, { modality: 'CT', limit: 10 });
    expect(first.calls).toBeGreaterThan(0);
    // Same canonical parameters in another order and with the default written out: same entry.
    const second = await search(t, { limit: 10, modality: 'ct', offset: 0 });
    expect(second).toEqual({ studies: first.studies, calls: 0 });
    expect(await cacheCount(t.app, 'pacs_search_studies', 'hit')).toBe(1);

    // A hit is audited like the original call, with the same patients touched.
    const client = new pg.Client({ connectionString: t.database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ patient_ids: string[]; outcome: string }>(
        `SELECT patient_ids, outcome FROM audit.events WHERE tool = 'pacs_search_studies'
         ORDER BY id DESC LIMIT 2`,
      );
      expect(rows).toHaveLength(2);
      expect(rows[0]).toEqual(rows[1]);
      expect(rows[0]?.outcome).toBe('success');
    } finally {
      await client.end();
    }
  });

  it('concurrent misses for one search share one round of Orthanc calls (no stampede)', async () => {
    const alone = await search(t, { modality: 'CT', limit: 7 });
    const missesBefore = await cacheCount(t.app, 'pacs_search_studies', 'miss');
    const hitsBefore = await cacheCount(t.app, 'pacs_search_studies', 'hit');
    const before = await orthancCalls(t.app);
    // A query nobody has asked yet, 20 times at once: one load, 19 callers waiting for it.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.invoke('pacs_search_studies', { modality: 'CT', limit: 8 }, 'admin'),
      ),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    const bodies = new Set(answers.map((a) => JSON.stringify(a.json().result)));
    expect(bodies.size).toBe(1);
    expect((await orthancCalls(t.app)) - before).toBe(alone.calls);
    expect((await cacheCount(t.app, 'pacs_search_studies', 'miss')) - missesBefore).toBe(1);
    expect((await cacheCount(t.app, 'pacs_search_studies', 'hit')) - hitsBefore).toBe(19);
  });

  it('never shares an answer between callers with different patient scopes', async () => {
    const [p1, p2] = plan.patients.map((p) => p.patientId);
    const everyone = await search(t, { limit: 20 }, 'admin');
    expect(everyone.studies.map((s) => s.split('/')[0]).sort()).toEqual([p1, p2].sort());

    const doctor1 = await t.tokenFor('referring_doctor', { subject: 'dr-one', patients: [p1!] });
    const own = await search(t, { limit: 20 }, { token: doctor1 });
    expect(own.calls).toBeGreaterThan(0); // not the admin's entry
    expect(own.studies.every((s) => s.startsWith(`${p1}/`))).toBe(true);
    expect(own.studies).toHaveLength(1);

    const doctor2 = await t.tokenFor('referring_doctor', { subject: 'dr-two', patients: [p2!] });
    const other = await search(t, { limit: 20 }, { token: doctor2 });
    expect(other.calls).toBeGreaterThan(0); // not doctor one's entry either
    expect(other.studies.every((s) => s.startsWith(`${p2}/`))).toBe(true);

    // Another doctor with the same scope may share doctor one's answer; so may another unrestricted role.
    const sameScope = await t.tokenFor('referring_doctor', { subject: 'dr-three', patients: [p1!] });
    expect(await search(t, { limit: 20 }, { token: sameScope })).toEqual({ studies: own.studies, calls: 0 });
    expect(await search(t, { limit: 20 }, 'radiologist')).toEqual({ studies: everyone.studies, calls: 0 });
  });

  it('drops cached searches when a study is uploaded through the server', async () => {
    const patientId = plan.patients[0]!.patientId;
    const before = await search(t, { patient_id: patientId });
    expect(before.studies).toHaveLength(1);
    expect((await search(t, { patient_id: patientId })).calls).toBe(0);

    const extra = newStudyFor(0, 9001);
    await upload(t, extra.files);

    const after = await search(t, { patient_id: patientId });
    expect(after.calls).toBeGreaterThan(0);
    expect(after.studies).toEqual([...before.studies, `${patientId}/${extra.uid}`].sort());
  });
});

describe('read cache shared through Redis', () => {
  let redis: RedisHandle;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([
      startTestApp(pacsSettings({ REDIS_URL: redis.url })),
      startTestApp(pacsSettings({ REDIS_URL: redis.url })),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('lets one replica answer from what another fetched, and invalidates for both', async () => {
    const patientId = plan.patients[1]!.patientId;
    const fromA = await search(a, { patient_id: patientId });
    expect(fromA.calls).toBeGreaterThan(0);
    expect(await search(b, { patient_id: patientId })).toEqual({ studies: fromA.studies, calls: 0 });

    const extra = newStudyFor(1, 9002);
    await upload(b, extra.files); // through the other replica

    const afterA = await search(a, { patient_id: patientId });
    expect(afterA.calls).toBeGreaterThan(0);
    expect(afterA.studies).toContain(`${patientId}/${extra.uid}`);
    expect(await search(b, { patient_id: patientId })).toEqual({ studies: afterA.studies, calls: 0 });
  });

  it('still answers while Redis is down (every lookup a miss), and uses it again when it is back', async () => {
    const parameters = { patient_name: '*', limit: 5 };
    expect((await search(a, parameters)).calls).toBeGreaterThan(0);
    expect((await search(a, parameters)).calls).toBe(0);

    await redis.kill();
    const during = await search(a, parameters);
    expect(during.calls).toBeGreaterThan(0);
    expect(during.studies.length).toBeGreaterThan(0);
    expect(await cacheCount(a.app, 'pacs_search_studies', 'unavailable')).toBeGreaterThan(0);

    await redis.restart();
    // ioredis reconnects on its own with backoff; the restarted Redis is empty, so first a miss, then hits.
    const deadline = Date.now() + 15_000;
    let calls = -1;
    while (Date.now() < deadline && calls !== 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      calls = (await search(a, parameters)).calls;
    }
    expect(calls).toBe(0);
  });
});
