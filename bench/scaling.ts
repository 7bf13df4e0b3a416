/**
 * Scenarios 6 and 7: latency and throughput of REST invoke of the trivial tool at 1, 10, 100 and 500
 * concurrent clients (and MCP 2026-07-28 tools/call with --mcp), with the server's RSS at idle and its
 * peak at each level.
 *
 *   npm run bench:scaling -- [--levels 1,10,100,500] [--duration 10] [--mcp]
 */
import { parseArgs } from 'node:util';
import { runLoad } from './lib/cannon.js';
import { benchEnvironment } from './lib/env.js';
import { loadAverage, waitForQuietMachine } from './lib/machine.js';
import { checkOnce, restInvoke, toolsCall } from './lib/mcp-wire.js';
import { header, printTable, type Table, writeResult } from './lib/report.js';
import { startServer } from './lib/server.js';
import { BENCH_TEXT } from './servers/bench-tool.js';

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '1,10,100,500' },
    duration: { type: 'string', default: '10' },
    mcp: { type: 'boolean', default: false },
  },
});
const levels = values.levels.split(',').map(Number);
const durationS = Number(values.duration);

const startedAt = new Date();
header('Scaling: concurrent clients vs latency, throughput and memory');
await waitForQuietMachine(1.5, 60_000);
const env = await benchEnvironment();
try {
  const server = await startServer('product', { env: env.serverEnv });
  try {
    const token = await env.token('admin');
    const doors = [
      { door: 'REST invoke', url: `${server.url}/mcp/v1/invoke`, wire: restInvoke(token) },
      ...(values.mcp
        ? [{ door: 'MCP 2026-07-28', url: `${server.url}/mcp`, wire: toolsCall('2026-07-28', token) }]
        : []),
    ];
    for (const d of doors) await checkOnce(d.url, d.wire, BENCH_TEXT);
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
      title: `Scaling (bench_echo, ${durationS} s per level; idle RSS ${idleRss} MiB)`,
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
}
