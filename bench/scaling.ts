/**
 * Scenarios 6 and 7: latency and throughput of REST invoke of the trivial tool at 1, 10, 100 and 500
 * concurrent clients (and MCP 2026-07-28 tools/call with --mcp), with the server's RSS at idle and its
 * peak at each level. With --cached, also a cached read: `pacs_search_studies` (a PHI tool, so a durable
 * audit event per call) answered from the read cache, against a throwaway Orthanc with 200 studies
 * (ARCHITECTURE §8: 100 clients without errors, p99 under 50 ms for cached reads).
 *
 *   npm run bench:scaling -- [--levels 1,10,100,500] [--duration 10] [--mcp] [--cached]
 */
import { parseArgs } from 'node:util';
import { type OrthancHandle, startOrthanc } from '../test/harness/orthanc.js';
import { runLoad } from './lib/cannon.js';
import { benchEnvironment } from './lib/env.js';
import { loadAverage, waitForQuietMachine } from './lib/machine.js';
import { checkOnce, restInvoke, toolsCall } from './lib/mcp-wire.js';
import { StagedLoader, smallStudyPlan } from './lib/pacs-data.js';
import { header, printTable, type Table, writeResult } from './lib/report.js';
import { startServer } from './lib/server.js';
import { BENCH_TEXT } from './servers/bench-tool.js';

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '1,10,100,500' },
    duration: { type: 'string', default: '10' },
    mcp: { type: 'boolean', default: false },
    cached: { type: 'boolean', default: false },
  },
});
const levels = values.levels.split(',').map(Number);
const durationS = Number(values.duration);

const startedAt = new Date();
header('Scaling: concurrent clients vs latency, throughput and memory');
const CACHED_ARCHIVE_STUDIES = 200;
let orthanc: OrthancHandle | undefined;
if (values.cached) {
  orthanc = await startOrthanc();
  await new StagedLoader(orthanc, smallStudyPlan(CACHED_ARCHIVE_STUDIES)).loadUpTo(CACHED_ARCHIVE_STUDIES);
}
await waitForQuietMachine(1.5, 60_000);
const env = await benchEnvironment(orthanc ? { orthanc } : {});
try {
  const server = await startServer('product', { env: env.serverEnv });
  try {
    const token = await env.token('admin');
    const rest = `${server.url}/mcp/v1/invoke`;
    const doors = [
      { door: 'REST invoke', url: rest, wire: restInvoke(token), expect: BENCH_TEXT },
      ...(values.mcp
        ? [
            {
              door: 'MCP 2026-07-28',
              url: `${server.url}/mcp`,
              wire: toolsCall('2026-07-28', token),
              expect: BENCH_TEXT,
            },
          ]
        : []),
      ...(values.cached
        ? [
            {
              door: 'REST cached search',
              url: rest,
              // The same query every time: after the first call (the check below) it is a cache hit
              // until the entry's TTL (PACS_CACHE_TTL_MS, 30 s) runs out, then one call refills it.
              wire: restInvoke(token, 'pacs_search_studies', { modality: 'CT', limit: 25 }),
              expect: '"studies"',
            },
          ]
        : []),
    ];
    for (const d of doors) await checkOnce(d.url, d.wire, d.expect);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleRss = server.rssMiB();
    console.log(`idle RSS after start-up: ${idleRss} MiB`);
    const rows = [];
    for (const d of doors) {
      for (const connections of levels) {
        const stop = server.watchPeakRss();
        const result = await runLoad({
          label: `${d.door} c=${connections}`,
          url: d.url,
          ...d.wire,
          connections,
          durationS,
          warmupS: connections >= 100 ? 3 : 2,
        });
        const peakRss = stop();
        const row = { door: d.door, ...result, peakRssMiB: peakRss, load: loadAverage() };
        rows.push(row);
        console.log(
          `  ${row.label.padEnd(24)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50.toFixed(2)} ms  ` +
            `p99 ${result.p99.toFixed(2)} ms  non-2xx ${result.non2xx}  peak RSS ${peakRss} MiB  (load ${row.load})`,
        );
      }
    }
    const table: Table = {
      title: `Scaling (bench_echo${values.cached ? ' and a cached pacs_search_studies' : ''}, ${durationS} s per level; idle RSS ${idleRss} MiB)`,
      columns: ['door', 'clients', 'req/s', 'p50', 'p99', 'non-2xx', 'peak RSS'],
      rows: rows.map((r) => [
        r.door,
        r.connections,
        r.rps.toFixed(0),
        `${r.p50.toFixed(2)} ms`,
        `${r.p99.toFixed(2)} ms`,
        r.non2xx,
        `${r.peakRssMiB} MiB`,
      ]),
    };
    printTable(table);
    const name = process.env.BENCH_RESULT_NAME ?? 'scaling';
    console.log(`results: ${writeResult(name, startedAt, { idleRssMiB: idleRss, rows }, [table])}`);
  } finally {
    await server.stop();
  }
} finally {
  await env.close();
  await orthanc?.stop();
}
