/**
 * A slow Orthanc (behind a proxy that holds its answers back) trips our time limit, not the caller's:
 * PACS tools answer UPSTREAM_TIMEOUT after ORTHANC_TIMEOUT_MS, the breaker opens after a few of them
 * and later calls fail at once, and when Orthanc is quick again the module recovers by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PracticePlan } from '../../src/dicom/synthetic.js';
import { scrapeMetrics, startTestApp, type TestApp } from '../harness/app.js';
import { type DelayProxy, startDelayProxy } from '../harness/delay-proxy.js';
import { loadSyntheticPractice, type OrthancHandle, startOrthanc } from '../harness/orthanc.js';

const TIMEOUT_MS = 500;
/** Far beyond the time limit, so only our timeout can end the calls early. */
const DELAY_MS = 3_000;
const THRESHOLD = 3;
const COOLDOWN_MS = 800;

let orthanc: OrthancHandle;
let proxy: DelayProxy;
let plan: PracticePlan;
let t: TestApp;

beforeAll(async () => {
  orthanc = await startOrthanc();
  proxy = await startDelayProxy({ host: '127.0.0.1', port: orthanc.httpPort });
  [plan, t] = await Promise.all([
    loadSyntheticPractice(orthanc, {
      seed: 77,
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 1,
    }),
    startTestApp({
      ORTHANC_URL: proxy.url,
      ORTHANC_USERNAME: orthanc.username,
      ORTHANC_PASSWORD: orthanc.password,
      ORTHANC_TIMEOUT_MS: String(TIMEOUT_MS),
      ORTHANC_RETRIES: '2',
      ORTHANC_BREAKER_THRESHOLD: String(THRESHOLD),
      ORTHANC_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      // Every call must reach Orthanc here.
      PACS_CACHE_TTL_MS: '0',
    }),
  ]);
});

afterAll(async () => {
  await t?.close();
  await proxy?.close();
  await orthanc?.stop();
});

describe('connections to Orthanc', () => {
  it('are kept open across requests (Orthanc says Keep-Alive: timeout=1)', async () => {
    const before = proxy.connections;
    for (let i = 0; i < 30; i++) {
      const response = await t.invoke('pacs_search_studies', { limit: 5 }, 'admin');
      expect(response.statusCode).toBe(200);
    }
    // Each search is two Orthanc requests; one kept-alive connection (or a couple) carries them all.
    expect(proxy.connections - before).toBeLessThanOrEqual(3);
  });
});

async function timed(tool: string, parameters: Record<string, unknown>) {
  const started = performance.now();
  const response = await t.invoke(tool, parameters, 'admin');
  return { response, ms: performance.now() - started };
}

async function pacsHealth() {
  const body = (await t.app.inject({ method: 'GET', url: '/health' })).json() as {
    status: string;
    modules: Record<string, { status: string; details?: { breaker?: string } }>;
  };
  return { status: body.status, pacs: body.modules.pacs };
}

describe('Orthanc slow, then quick again', () => {
  it('answers UPSTREAM_TIMEOUT at our time limit, opens the breaker, then recovers by itself', async () => {
    const uid = plan.patients[0]!.studies[0]!.studyInstanceUid;
    expect((await t.invoke('pacs_search_studies', {})).statusCode).toBe(200);

    proxy.setDelay(DELAY_MS);
    for (let i = 0; i < THRESHOLD; i++) {
      const { response, ms } =
        i % 2 === 0
          ? await timed('pacs_search_studies', { modality: 'CT' })
          : await timed('pacs_retrieve_study', { study_instance_uid: uid });
      expect(response.statusCode, response.body).toBe(504);
      expect(response.json().error).toMatchObject({ error_code: 'UPSTREAM_TIMEOUT' });
      expect(response.json().error.message).toContain(`${TIMEOUT_MS} ms`);
      // Timeouts are not retried, so each call ends near TIMEOUT_MS; bound loosely for a busy machine.
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(DELAY_MS - 500);
    }

    // Breaker open: refused without waiting on Orthanc at all.
    const { response: open, ms } = await timed('pacs_retrieve_study', { study_instance_uid: uid });
    expect(open.statusCode).toBe(503);
    expect(open.json().error).toMatchObject({
      error_code: 'UPSTREAM_UNAVAILABLE',
      details: { breaker: 'open' },
    });
    expect(ms).toBeLessThan(TIMEOUT_MS);
    expect(await pacsHealth()).toMatchObject({ status: 'degraded', pacs: { status: 'down' } });
    const metrics = await scrapeMetrics(t);
    expect(metrics).toMatch(
      /upc_backend_errors_total\{backend="orthanc",operation="[^"]+",outcome="timeout"\} [1-9]/,
    );

    // Quick again: after the cool-down the next call is the trial that closes the breaker.
    proxy.setDelay(0);
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 100));
    const back = await t.invoke('pacs_retrieve_study', { study_instance_uid: uid });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().result.study.study_instance_uid).toBe(uid);
    expect(await pacsHealth()).toMatchObject({
      status: 'ok',
      pacs: { status: 'up', details: { breaker: 'closed' } },
    });
  });
});
