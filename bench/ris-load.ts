/**
 * Scenario 5: `ris_get_worklist` and `ris_schedule_appointment` under concurrency (REST invoke, full
 * pipeline, real PostgreSQL) on a RIS holding ~100,000 appointments. Orders to book are first created
 * through `ris_create_order` (also measured); bookings ask for times in a two-month window after the
 * loaded range, so concurrent calls really compete for slots; at the end the appointments are checked for
 * overlaps (the exclusion constraint must have held).
 *
 *   npm run bench:ris -- [--days 730] [--orders 2000] [--duration 10] [--levels 1,10,50]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { addDays, isoWeekdayOf, localParts } from '../src/core/practice-time.js';
import { type LoadResult, runLoad } from './lib/cannon.js';
import { benchEnvironment } from './lib/env.js';
import { loadAverage, waitForQuietMachine } from './lib/machine.js';
import { checkOnce, restInvoke } from './lib/mcp-wire.js';
import { header, printTable, type Table, writeResult } from './lib/report.js';
import { loadRisDatabase, RIS_START_DATE, RIS_TZ } from './lib/ris-data.js';
import { startServer } from './lib/server.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '730' },
    orders: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '10' },
    levels: { type: 'string', default: '1,10,50' },
  },
});
const days = Number(values.days);
const orderCount = Number(values.orders);
const durationS = Number(values.duration);
const levels = values.levels.split(',').map(Number);

async function query<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A deterministic pseudo-random sequence, so runs book the same requested times. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
}

const startedAt = new Date();
header('RIS under concurrency: worklist and scheduling on ~100,000 appointments');
const env = await benchEnvironment();
try {
  const loaded = await loadRisDatabase(env.database.url, days);
  await waitForQuietMachine(2, 60_000);
  const server = await startServer('product', { env: env.serverEnv });
  const rows: (LoadResult & { tool: string })[] = [];
  const log = (tool: string, r: LoadResult) => {
    rows.push({ ...r, tool });
    console.log(
      `  ${tool.padEnd(26)} c=${String(r.connections).padStart(3)} ${r.rps.toFixed(0).padStart(5)} req/s  ` +
        `p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  non-2xx ${r.non2xx}  (load ${loadAverage()})`,
    );
  };
  try {
    const token = await env.token('admin');
    const url = `${server.url}/mcp/v1/invoke`;

    // The worklist of a busy weekday in the middle of the loaded range.
    let day = addDays(RIS_START_DATE, Math.floor(days / 2));
    while (isoWeekdayOf(day) > 5) day = addDays(day, 1);
    const worklist = restInvoke(token, 'ris_get_worklist', { date: day });
    await checkOnce(url, worklist, '"worklist"');
    for (const connections of levels) {
      log('ris_get_worklist', await runLoad({ label: 'worklist', url, ...worklist, connections, durationS }));
    }

    // Orders to book, created through the pipeline.
    const patients = await query<{ patient_id: string }>(
      env.database.url,
      'SELECT patient_id FROM ris.patients ORDER BY patient_id LIMIT 5000',
    );
    const procedures = await query<{ procedure_code: string }>(
      env.database.url,
      `SELECT procedure_code FROM ris.procedures WHERE active AND modality IN ('CT', 'MR') ORDER BY procedure_code`,
    );
    const [physician] = await query<{ practice_number: string }>(
      env.database.url,
      'SELECT practice_number FROM ris.referring_physicians ORDER BY physician_id LIMIT 1',
    );
    let n = 0;
    const orderBody = () => {
      n += 1;
      return JSON.stringify({
        tool: 'ris_create_order',
        parameters: {
          patient_id: patients[n % patients.length]!.patient_id,
          procedure_code: procedures[n % procedures.length]!.procedure_code,
          clinical_indication: 'Benchmark order: headache, rule out intracranial pathology',
          icd10_codes: ['R51'],
          referring_practice_number: physician!.practice_number,
        },
      });
    };
    log(
      'ris_create_order',
      await runLoad({
        label: 'create order',
        url,
        headers: worklist.headers,
        nextBody: orderBody,
        connections: 10,
        amount: orderCount,
      }),
    );
    const open = await query<{ accession_number: string }>(
      env.database.url,
      `SELECT o.accession_number FROM ris.orders o
       WHERE NOT EXISTS (SELECT 1 FROM ris.appointments a WHERE a.accession_number = o.accession_number)
       ORDER BY o.accession_number`,
    );
    console.log(`  ${open.length} orders waiting to be booked`);

    // Requested times: weekdays after the loaded range (and after today), on the 15-minute grid, inside
    // the 90-day horizon routine orders may be booked in.
    const today = localParts(new Date(), RIS_TZ).date;
    const loadedEnd = addDays(RIS_START_DATE, days);
    const windowStart = loadedEnd > today ? loadedEnd : addDays(today, 1);
    const windowDays = Math.max(5, Math.min(30, 85 - daysBetween(today, windowStart)));
    const random = rng(7);
    const scheduleBody = () => {
      const order = open.pop();
      if (!order) throw new Error('ran out of orders to book');
      let date = addDays(windowStart, Math.floor(random() * windowDays));
      while (isoWeekdayOf(date) > 5) date = addDays(date, 1);
      const minutes = 8 * 60 + 15 * Math.floor(random() * 32);
      const time = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
      return JSON.stringify({
        tool: 'ris_schedule_appointment',
        parameters: { accession_number: order.accession_number, start_time: `${date}T${time}` },
      });
    };
    const perLevel = Math.floor(open.length / levels.length);
    for (const connections of levels) {
      log(
        'ris_schedule_appointment',
        await runLoad({
          label: 'schedule',
          url,
          headers: worklist.headers,
          nextBody: scheduleBody,
          connections,
          amount: perLevel,
        }),
      );
    }
    const [overlaps] = await query<{ count: number }>(
      env.database.url,
      `SELECT count(*)::int AS count FROM ris.appointments a JOIN ris.appointments b
         ON a.room_id = b.room_id AND a.appointment_id < b.appointment_id
        AND a.start_at < b.end_at AND b.start_at < a.end_at
        AND a.status <> 'CANCELLED' AND b.status <> 'CANCELLED'
       WHERE a.start_at >= '${windowStart}'`,
    );
    console.log(`  overlapping bookings after the run: ${overlaps?.count ?? 'n/a'} (must be 0)`);
    if ((overlaps?.count ?? 0) !== 0) process.exitCode = 1;

    const table: Table = {
      title: `RIS tools under concurrency (REST invoke; ${loaded.report.appointments} appointments loaded in ${loaded.seconds.toFixed(0)} s)`,
      columns: ['tool', 'clients', 'calls', 'req/s', 'p50', 'p99', 'non-2xx'],
      rows: rows.map((r) => [
        r.tool,
        r.connections,
        r.requests,
        r.rps.toFixed(0),
        `${r.p50.toFixed(2)} ms`,
        `${r.p99.toFixed(2)} ms`,
        r.non2xx,
      ]),
    };
    printTable(table);
    const file = writeResult('ris-load', startedAt, { loaded, day, rows, overlaps: overlaps?.count }, [
      table,
    ]);
    console.log(`results: ${file}`);
  } finally {
    await server.stop();
  }
} finally {
  await env.close();
}
