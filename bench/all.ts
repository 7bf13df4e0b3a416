/**
 * `npm run bench`: every scenario in turn, each in its own process (so one's heap and JIT state do not
 * colour the next), with the machine and load printed first. Options are passed through as environment:
 * BENCH_QUICK=1 runs short versions (a smoke test of the harness, minutes instead of ~25).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { header } from './lib/report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.env.BENCH_QUICK === '1';

const scenarios: [string, string[]][] = [
  ['pipeline-overhead.ts', quick ? ['--iterations', '300'] : []],
  ['mcp-vs-bare.ts', quick ? ['--rounds', '1', '--duration', '2'] : []],
  ['scaling.ts', quick ? ['--duration', '2', '--mcp', '--cached'] : ['--mcp', '--cached']],
  ['pacs-search.ts', quick ? ['--stages', '100,1000', '--duration', '2', '--in-flight', '1'] : []],
  ['ris-load.ts', quick ? ['--days', '30', '--orders', '200', '--duration', '2'] : []],
  ['ris-worklist.ts', quick ? ['--runs', '30', '--days', '30'] : []],
];

header(`npm run bench${quick ? ' (quick)' : ''}`);
const failed: string[] = [];
for (const [script, args] of scenarios) {
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, script), ...args], {
    stdio: 'inherit',
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (run.status !== 0) failed.push(script);
  console.log(`--- ${script} ${run.status === 0 ? 'done' : `FAILED (${run.status})`} in ${seconds} s`);
}
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
