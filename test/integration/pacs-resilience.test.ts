/**
 * Orthanc dies mid-test and comes back: PACS tools fail fast with UPSTREAM_UNAVAILABLE, the breaker opens,
 * /health says degraded while the other modules keep working, and after restart the PACS tools work again
 * without restarting our server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PracticePlan } from '../../src/dicom/synthetic.js';
import { scrapeMetrics, startTestApp, type TestApp } from '../harness/app.js';
import { loadSyntheticPractice, type OrthancHandle, startOrthanc } from '../harness/orthanc.js';

const TIMEOUT_MS = 1_000;
const COOLDOWN_MS = 400;
const THRESHOLD = 3;

let orthanc: OrthancHandle;
let plan: PracticePlan;
let t: TestApp;

beforeAll(async () => {
  orthanc = await startOrthanc();
  [plan, t] = await Promise.all([
    loadSyntheticPractice(orthanc, {
      seed: 99,
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 1,
    }),
    startTestApp({
      ORTHANC_URL: orthanc.url,
      ORTHANC_USERNAME: orthanc.username,
      ORTHANC_PASSWORD: orthanc.password,
      ORTHANC_TIMEOUT_MS: String(TIMEOUT_MS),
      ORTHANC_RETRIES: '1',
      ORTHANC_BREAKER_THRESHOLD: String(THRESHOLD),
      ORTHANC_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([t?.close(), orthanc?.stop()]);
});

async function health() {
  return (await t.app.inject({ method: 'GET', url: '/health' })).json() as {
    status: string;
    modules: Record<string, { status: string; details?: { breaker?: string } }>;
  };
}

async function timed(tool: string, parameters: Record<string, unknown>) {
  const started = performance.now();
  const response = await t.invoke(tool, parameters, 'admin');
  return { response, ms: performance.now() - started };
}

describe('Orthanc down and back', () => {
  it('fails fast, opens the breaker, stays up for other modules, then recovers by itself', async () => {
    const uid = plan.patients[0]!.studies[0]!.studyInstanceUid;
    expect((await t.invoke('pacs_retrieve_study', { study_instance_uid: uid })).statusCode).toBe(200);

    await orthanc.kill();

    // Connection refused → UPSTREAM_UNAVAILABLE well within the time limit (one quick retry included).
    for (let i = 0; i < THRESHOLD; i++) {
      const { response, ms } = await timed('pacs_search_studies', {});
      expect(response.statusCode, response.body).toBe(503);
      expect(response.json().error.error_code).toBe('UPSTREAM_UNAVAILABLE');
      expect(ms).toBeLessThan(TIMEOUT_MS);
    }

    // Open: answered at once, without touching the network, and saying so.
    const { response: open, ms } = await timed('pacs_retrieve_study', { study_instance_uid: uid });
    expect(open.statusCode).toBe(503);
    expect(open.json().error).toMatchObject({
      error_code: 'UPSTREAM_UNAVAILABLE',
      details: { breaker: 'open' },
    });
    expect(open.json().error.message).toMatch(/paused/);
    expect(ms).toBeLessThan(TIMEOUT_MS); // answered without waiting on the dead Orthanc

    const metrics = await scrapeMetrics(t);
    expect(metrics).toMatch(/upc_backend_breaker_state\{backend="orthanc"\} 2/);
    expect(metrics).toMatch(
      /upc_backend_errors_total\{backend="orthanc",operation="POST \/tools",outcome="error"\} [1-9]/,
    );

    const degraded = await health();
    expect(degraded.status).toBe('degraded');
    expect(degraded.modules.pacs).toMatchObject({ status: 'down', details: { breaker: 'open' } });
    expect(degraded.modules.database?.status).toBe('up');

    const status = await t.invoke('admin_get_system_status', {}, 'admin');
    expect(status.statusCode).toBe(200);
    expect(status.json().result).toMatchObject({ status: 'degraded', modules: { pacs: { status: 'down' } } });

    await orthanc.restart('crash');
    // After the cool-down the next call is the half-open trial; it succeeds and closes the breaker.
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50));
    const back = await t.invoke('pacs_retrieve_study', { study_instance_uid: uid });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().result.study.study_instance_uid).toBe(uid);

    const recovered = await health();
    expect(await scrapeMetrics(t)).toMatch(/upc_backend_breaker_state\{backend="orthanc"\} 0/);
    expect(recovered.status).toBe('ok');
    expect(recovered.modules.pacs).toMatchObject({ status: 'up', details: { breaker: 'closed' } });
  });

  it('does not count a caller mistake (unknown UID) against Orthanc', async () => {
    for (let i = 0; i < THRESHOLD + 2; i++) {
      const response = await t.invoke('pacs_retrieve_study', { study_instance_uid: `1.2.3.${i}` });
      expect(response.json().error.error_code).toBe('NOT_FOUND');
    }
    expect((await health()).modules.pacs?.details?.breaker).toBe('closed');
  });
});
