/**
 * Profiles the product server under load: starts it with `--cpu-prof`, drives MCP 2026-07-28 `tools/call`
 * and REST invoke of `bench_echo`, stops it (the profile is written on exit) and prints where the CPU went.
 * Open the .cpuprofile in Chrome DevTools or speedscope for the full picture.
 *
 *   npm run bench:profile -- [--duration 10] [--connections 10]
 */
import { parseArgs } from 'node:util';
import { runLoad } from './lib/cannon.js';
import { benchEnvironment } from './lib/env.js';
import { restInvoke, toolsCall } from './lib/mcp-wire.js';
import { latestProfile, summariseProfile } from './lib/profile.js';
import { header, printTable, writeResult } from './lib/report.js';
import { startServer } from './lib/server.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    door: { type: 'string', default: 'both' },
  },
});
const startedAt = new Date();
header('CPU profile of the product server under load');
const env = await benchEnvironment();
try {
  const server = await startServer('product', { env: env.serverEnv, cpuProfile: true });
  const token = await env.token('admin');
  const common = { connections: Number(values.connections), durationS: Number(values.duration) };
  const results = [];
  try {
    if (values.door !== 'rest') {
      const wire = toolsCall('2026-07-28', token);
      results.push(await runLoad({ label: 'mcp 2026', url: `${server.url}/mcp`, ...wire, ...common }));
    }
    if (values.door !== 'mcp') {
      const wire = restInvoke(token);
      results.push(await runLoad({ label: 'rest', url: `${server.url}/mcp/v1/invoke`, ...wire, ...common }));
    }
  } finally {
    await server.stop();
  }
  for (const r of results)
    console.log(`${r.label}: ${r.rps} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
  const file = latestProfile('product-');
  if (!file) throw new Error('no profile was written');
  const summary = summariseProfile(file, 25);
  const functions = {
    title: 'Self time by function (share of non-idle samples)',
    columns: ['function', 'self %'],
    rows: summary.functions.map((h) => [h.name, h.selfPercent]),
  };
  const packages = {
    title: 'Self time by package',
    columns: ['package', 'self %'],
    rows: summary.packages.map((h) => [h.name, h.selfPercent]),
  };
  printTable(packages);
  printTable(functions);
  console.log(`\nprofile: ${file}`);
  writeResult('profile', startedAt, { load: results, profile: file, ...summary }, [packages, functions]);
} finally {
  await env.close();
}
