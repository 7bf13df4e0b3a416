/**
 * Scenarios 1 and 2: MCP `tools/call` of a trivial tool (`bench_echo`) through the full product pipeline
 * (JWT, policy, rate limiter, validation, audit group commit to PostgreSQL, metrics, logging) versus a
 * bare SDK v2 server with the same tool, same machine, same run; and the same call through the REST door.
 *
 *   npm run bench:mcp -- [--rounds 3] [--duration 8] [--connections 10] [--profile]
 */
import { parseArgs } from 'node:util';
import { benchEnvironment } from './lib/env.js';
import { waitForQuietMachine } from './lib/machine.js';
import { checkOnce, restInvoke, toolsCall } from './lib/mcp-wire.js';
import { header, printTable, writeResult } from './lib/report.js';
import { interleavedRounds, type Target } from './lib/rounds.js';
import { type RunningServer, startServer } from './lib/server.js';
import { BENCH_TEXT } from './servers/bench-tool.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '10' },
    profile: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const connections = Number(values.connections);

const startedAt = new Date();
header('MCP tools/call: product pipeline vs bare SDK v2 server');
await waitForQuietMachine(1.5, 120_000);
const env = await benchEnvironment();
const servers: RunningServer[] = [];
try {
  const product = await startServer('product', { env: env.serverEnv, cpuProfile: values.profile });
  servers.push(product);
  const bareNode = await startServer('bare-node');
  servers.push(bareNode);
  const bareFastify = await startServer('bare-fastify');
  servers.push(bareFastify);
  const token = await env.token('admin');

  const mcp = (server: RunningServer, era: '2026-07-28' | '2025-11-25', auth: boolean) => {
    const wire = toolsCall(era, auth ? token : undefined);
    return { url: `${server.url}/mcp`, headers: wire.headers, body: wire.body, serverCpuMs: server.cpuMs };
  };
  const targets: Target[] = [
    { label: 'bare SDK, node:http, 2026-07-28', ...mcp(bareNode, '2026-07-28', false) },
    { label: 'bare SDK, Fastify, 2026-07-28', ...mcp(bareFastify, '2026-07-28', false) },
    { label: 'product /mcp, 2026-07-28', ...mcp(product, '2026-07-28', true) },
    { label: 'bare SDK, node:http, 2025 stateless', ...mcp(bareNode, '2025-11-25', false) },
    { label: 'product /mcp, 2025 stateless', ...mcp(product, '2025-11-25', true) },
    {
      label: 'product REST /mcp/v1/invoke',
      url: `${product.url}/mcp/v1/invoke`,
      serverCpuMs: product.cpuMs,
      ...restInvoke(token),
    },
  ].map((t) => ({ ...t, connections, durationS }));
  for (const target of targets) {
    await checkOnce(target.url, { headers: target.headers ?? {}, body: target.body ?? '' }, BENCH_TEXT);
  }
  const idleRss = product.rssMiB();
  const stopWatch = product.watchPeakRss();
  const summaries = await interleavedRounds(targets, rounds);
  const peakRss = stopWatch();

  const byLabel = new Map(summaries.map((s) => [s.label, s]));
  const ratio = (a: string, b: string) => byLabel.get(a)!.rps / byLabel.get(b)!.rps;
  const ratios = {
    modern_vs_bare_node: ratio('product /mcp, 2026-07-28', 'bare SDK, node:http, 2026-07-28'),
    modern_vs_bare_fastify: ratio('product /mcp, 2026-07-28', 'bare SDK, Fastify, 2026-07-28'),
    legacy_vs_bare_node: ratio('product /mcp, 2025 stateless', 'bare SDK, node:http, 2025 stateless'),
  };
  const table = {
    title: `MCP tools/call (bench_echo), ${connections} connections, ${durationS} s × ${rounds} rounds (medians)`,
    columns: ['target', 'req/s', 'p50', 'p99', 'server CPU/call', 'non-2xx/errors'],
    rows: summaries.map((s) => [
      s.label,
      s.rps.toFixed(0),
      `${s.p50.toFixed(2)} ms`,
      `${s.p99.toFixed(2)} ms`,
      s.serverCpuUsPerCall === undefined ? '' : `${s.serverCpuUsPerCall} µs`,
      `${s.non2xx}/${s.errors}`,
    ]),
  };
  printTable(table);
  const ratioTable = {
    title: 'Throughput ratio product / bare (target ≥ 1.0)',
    columns: ['comparison', 'ratio'],
    rows: Object.entries(ratios).map(([k, v]) => [k, v.toFixed(2)]),
  };
  printTable(ratioTable);
  console.log(`\nproduct RSS: idle ${idleRss} MiB, peak under load ${peakRss} MiB`);
  const file = writeResult(
    'mcp-vs-bare',
    startedAt,
    { rounds, durationS, connections, summaries, ratios, rss: { idleMiB: idleRss, peakMiB: peakRss } },
    [table, ratioTable],
  );
  console.log(`results: ${file}`);
} finally {
  for (const server of servers) await server.stop();
  await env.close();
}
