/**
 * RIS worklist benchmark: loads ~100,000 appointments (the demo generator, rooms filled back to back for two
 * years) into a throwaway PostgreSQL database, then times `ris_get_worklist` for one busy day through the
 * full REST pipeline and the store query alone, and prints EXPLAIN ANALYZE of the query.
 *
 *   npx tsx bench/ris-worklist.ts [--runs 300] [--days 730]
 *
 * Needs PostgreSQL at TEST_DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { testConfig } from '../src/config.js';
import { addDays, isoWeekdayOf, localToInstant } from '../src/core/practice-time.js';
import { risDb } from '../src/modules/ris/ris.tables.js';
import { worklist, worklistQuery } from '../src/modules/ris/ris.worklist.store.js';
import { issueToken, tokenSettings } from '../src/security/tokens.js';
import { loadRisAppointments, RIS_START_DATE } from './lib/ris-data.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '300' }, days: { type: 'string', default: '730' } },
});
const RUNS = Number(values.runs);
const DAYS = Number(values.days);
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECRET = randomBytes(32).toString('hex');
const TZ = 'Africa/Johannesburg';

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(2);
  return `p50 ${f(percentile(sorted, 50))} ms, p99 ${f(percentile(sorted, 99))} ms, max ${f(sorted.at(-1)!)} ms (n=${sorted.length})`;
}

async function main(): Promise<void> {
  const name = `upc_bench_ris_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const config = testConfig({
    DATABASE_URL: url.toString(),
    JWT_SECRET_KEY: SECRET,
    ORTHANC_URL: 'http://127.0.0.1:1',
    ORTHANC_TIMEOUT_MS: '500',
  });
  const app = await buildApp(config);
  try {
    const db = risDb(app.parts.database);
    const startDate = RIS_START_DATE;
    await loadRisAppointments(db, DAYS);

    // A busy weekday in the middle of the range.
    let day = addDays(startDate, Math.floor(DAYS / 2));
    while (isoWeekdayOf(day) > 5) day = addDays(day, 1);
    const token = await issueToken(tokenSettings(config, SECRET), { subject: 'bench', role: 'radiographer' });
    const invoke = () =>
      app.inject({
        method: 'POST',
        url: '/mcp/v1/invoke',
        headers: { authorization: `Bearer ${token}` },
        payload: { tool: 'ris_get_worklist', parameters: { date: day } },
      });
    const first = (await invoke()).json();
    console.log(`worklist for ${day}: ${first.result.count} appointments`);
    for (let i = 0; i < 20; i++) await invoke(); // warm up

    const rest: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const response = await invoke();
      rest.push(performance.now() - started);
      if (response.statusCode !== 200) throw new Error(response.body);
    }
    const q = { from: localToInstant(day, 0, TZ), to: localToInstant(addDays(day, 1), 0, TZ), limit: 500 };
    const store: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await worklist(db, q, { kind: 'all' });
      store.push(performance.now() - started);
    }
    console.log(`ris_get_worklist via REST (full pipeline): ${summary(rest)}`);
    console.log(`worklist store query alone:                ${summary(store)}`);

    const plan = await worklistQuery(db, q, { kind: 'all' }).explain(undefined, sql`analyze, buffers`);
    const text = plan.map((row) => String(row['QUERY PLAN'])).join('\n');
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS):\n${text}`);
    if (!/Index Scan using appointments_start/.test(text)) {
      console.error('expected an index scan on appointments_start');
      process.exitCode = 1;
    }
  } finally {
    await app.close();
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

await main();
