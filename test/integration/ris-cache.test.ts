/**
 * Referring physicians are reference data: lookups are served from the read cache, a change made behind
 * the server's back shows up after RIS_REFERENCE_CACHE_TTL_MS, and any RIS write through the server
 * drops the cached answers at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { call, createPhysician, registerPatient } from '../harness/ris.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ RIS_REFERENCE_CACHE_TTL_MS: '600000' });
});

afterAll(async () => {
  await t?.close();
});

async function hits(): Promise<number> {
  const metric = await t.app.parts.metrics.cacheRequests.get();
  return (
    metric.values.find((v) => v.labels.cache === 'ris_get_referring_physician' && v.labels.result === 'hit')
      ?.value ?? 0
  );
}

describe('referring physician lookups', () => {
  it('are cached, and a RIS write through the server drops them', async () => {
    const { practiceNumber } = await createPhysician(t);
    const lookup = () => call(t, 'ris_get_referring_physician', { practice_number: practiceNumber });
    const first = await lookup();
    expect(first.status).toBe(200);

    // Changed directly in the database: the cached answer is still served (within the TTL).
    await risDb(t.app.parts.database)
      .updateTable('ris.referring_physicians')
      .set({ phone: '+27 31 555 0199' })
      .where('practice_number', '=', practiceNumber)
      .execute();
    const cached = await lookup();
    expect(cached.result).toEqual(first.result);
    expect(await hits()).toBe(1);

    await registerPatient(t);
    const fresh = await lookup();
    expect(fresh.result.physician.phone).toBe('+27 31 555 0199');
  });
});
