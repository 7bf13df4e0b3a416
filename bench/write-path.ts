/**
 * The write path's cost: `ris_register_patient` (one INSERT) through `pipeline.invoke` on a real
 * PostgreSQL, with its durable audit event, one call at a time and with 8 in flight. Run on two commits to
 * compare (the one-transaction-per-write change: its changes, idempotency result and audit intent commit
 * together, and the intent is sealed onto the chain after commit).
 *
 *   npm run bench:write -- [--iterations 1500] [--idempotency]
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.js';
import type { Principal } from '../src/core/context.js';
import { benchEnvironment } from './lib/env.js';
import { loadAverage, waitForQuietMachine } from './lib/machine.js';
import { header, printTable, RESULTS_DIR, type Table, writeResult } from './lib/report.js';
import { type LatencySummary, summarise } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '1500' },
    idempotency: { type: 'boolean', default: false },
  },
});
const iterations = Number(values.iterations);
const WARMUP = 200;

const startedAt = new Date();
header(
  `Write path: ris_register_patient through the pipeline${values.idempotency ? ' (idempotency keys)' : ''}`,
);
await waitForQuietMachine(1.5, 60_000);
const env = await benchEnvironment();
const app = await buildApp(env.config, {
  logStream: createWriteStream(path.join(RESULTS_DIR, 'logs', 'write-path.log')),
});
try {
  const principal: Principal = { subject: 'bench-receptionist', role: 'receptionist' };
  let n = 0;
  const register = async () => {
    n += 1;
    const outcome = await app.parts.pipeline.invoke({
      tool: 'ris_register_patient',
      parameters: { family_name: `Bench${n}`, given_names: 'Write', birth_date: '1980-01-01', sex: 'F' },
      door: 'rest',
      requestId: `write-${n}`,
      credentials: { principal },
      ...(values.idempotency ? { idempotencyKey: `key-${n}` } : {}),
    });
    if (!outcome.ok) throw new Error(`refused: ${outcome.error.code} ${outcome.error.message}`);
  };
  const time = async (
    count: number,
    inFlight: number,
  ): Promise<{ summary: LatencySummary; perSecond: number }> => {
    const samples: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count) {
          next += 1;
          const t0 = performance.now();
          await register();
          samples.push(performance.now() - t0);
        }
      }),
    );
    return { summary: summarise(samples), perSecond: (count / (performance.now() - started)) * 1000 };
  };
  const results: { inFlight: number; summary: LatencySummary; perSecond: number }[] = [];
  for (const inFlight of [1, 8]) {
    await time(WARMUP, inFlight);
    const { summary, perSecond } = await time(iterations, inFlight);
    results.push({ inFlight, summary, perSecond });
    console.log(
      `  in flight ${inFlight}: ${perSecond.toFixed(0)} calls/s, p50 ${summary.p50.toFixed(2)} ms, p99 ${summary.p99.toFixed(2)} ms`,
    );
  }
  const table: Table = {
    title: `ris_register_patient through pipeline.invoke (${iterations} calls each, load ${loadAverage()})`,
    columns: ['in flight', 'calls/s', 'p50', 'mean', 'p99'],
    rows: results.map((r) => [
      r.inFlight,
      r.perSecond.toFixed(0),
      `${r.summary.p50.toFixed(2)} ms`,
      `${r.summary.mean.toFixed(2)} ms`,
      `${r.summary.p99.toFixed(2)} ms`,
    ]),
  };
  printTable(table);
  writeResult('write-path', startedAt, results, [table]);
} finally {
  await app.close();
  await env.close();
}
