import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { seedPacsDemo } from '../../src/modules/pacs/pacs.demo.js';
import { runCli } from '../harness/cli.js';
import { type OrthancHandle, startOrthanc } from '../harness/orthanc.js';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';

let orthanc: OrthancHandle;
let database: TestDatabase;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'upc-seed-'));
beforeAll(async () => {
  orthanc = await startOrthanc();
  database = await createTestDatabase(inject('pgAdminUrl'));
});
afterAll(async () => {
  await orthanc?.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('upc-mcp seed-demo --pacs N loads N synthetic patients with progress; a rerun adds nothing', async () => {
  const env = {
    ORTHANC_URL: orthanc.url,
    ORTHANC_USERNAME: orthanc.username,
    ORTHANC_PASSWORD: orthanc.password,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
  };
  const result = await runCli(['seed-demo', '--pacs', '3', '--seed', '11'], env, 60_000);
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.split('\n');
  // 3 patients × 2 studies × 2 series × 5 images = 60 images: a line per 10 %.
  expect(lines.filter((line) => /^\s+\d+ %\s+\d+\/60 images$/.test(line))).toHaveLength(10);
  expect(result.stdout).toMatch(/60 stored, 0 already there, 0 failed/);
  expect(result.stdout).toMatch(/PACS: 3 patients, 6 studies, 60 images loaded/);
  expect(await orthanc.json<Record<string, number>>('/statistics')).toMatchObject({
    CountPatients: 3,
    CountStudies: 6,
    CountInstances: 60,
  });

  const printed: string[] = [];
  const again = await seedPacsDemo(testConfig(env), {
    patients: 3,
    seed: 11,
    print: (line) => printed.push(line),
  });
  expect(again).toMatchObject({ stored: 0, duplicates: 60, failed: 0 });
  expect(printed.at(-1)).toMatch(/0 stored, 60 already there/);
}, 120_000);

it('seed-demo fails with a clear message when Orthanc cannot be reached', async () => {
  // The CLI prints this message and exits 1 (main.ts); called directly to spare a second process start.
  const config = testConfig({ ORTHANC_URL: 'http://127.0.0.1:1', ORTHANC_RETRIES: '0' });
  await expect(seedPacsDemo(config, { patients: 1, seed: 1, print: () => {} })).rejects.toMatchObject({
    code: 'UPSTREAM_UNAVAILABLE',
    message: expect.stringMatching(/cannot be reached/),
  });
});
