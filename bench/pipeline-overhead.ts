/**
 * Scenario 3: the pipeline's added latency (ARCHITECTURE §8: p99 ≤ 2 ms at moderate load). The same
 * trivial tool is called in process, directly (`tool.handler(parameters, ctx)`) and through
 * `pipeline.invoke` (JWT check, policy, validation, rate limiter, output check, redaction, metrics and the
 * durable audit group commit to PostgreSQL), one call at a time and with 8 calls in flight.
 *
 *   npm run bench:pipeline -- [--iterations 3000]
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.js';
import type { CallContext, Principal } from '../src/core/context.js';
import { InvocationPipeline, type InvocationRequest } from '../src/core/pipeline.js';
import { PatientScopeResolver } from '../src/core/scope.js';
import { JwtAuthenticator, tokenSettings } from '../src/security/tokens.js';
import { benchEnvironment } from './lib/env.js';
import { waitForQuietMachine } from './lib/machine.js';
import { header, printTable, RESULTS_DIR, type Table, writeResult } from './lib/report.js';
import { type LatencySummary, summarise } from './lib/stats.js';
import { BENCH_TEXT, BENCH_TOOL, benchEcho } from './servers/bench-tool.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '3000' } } });
const iterations = Number(values.iterations);
const WARMUP = 300;
const IN_FLIGHT = 8;

/** Times `call` `count` times with `inFlight` calls running at once; latency per call in ms. */
async function timeCalls(count: number, inFlight: number, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const started = performance.now();
      await call();
      samples.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return samples;
}

const startedAt = new Date();
header('Pipeline overhead: handler called directly vs pipeline.invoke (in process)');
await waitForQuietMachine(1.5, 60_000);
const env = await benchEnvironment();
const app = await buildApp(env.config, {
  logStream: createWriteStream(path.join(RESULTS_DIR, 'logs', 'pipeline-overhead.log')),
});
try {
  app.parts.registry.register(benchEcho, 'bench');
  const tool = app.parts.registry.get(BENCH_TOOL)!.tool;
  const pipeline = app.parts.pipeline;
  const token = await env.token('admin');
  const principal: Principal = { subject: 'bench-admin', role: 'admin' };
  const parameters = { text: BENCH_TEXT };
  const scope = new PatientScopeResolver();
  const ctx: CallContext = {
    requestId: 'bench',
    principal,
    door: 'rest',
    log: app.log,
    signal: new AbortController().signal,
    reportProgress: () => {},
    patientScope: () => scope.resolve(principal),
    touchPatients: () => {},
    mayView: () => true,
    invoke: () => Promise.reject(new Error('the benchmark tool calls no other tool')),
  };
  let n = 0;
  const request = (credentials: InvocationRequest['credentials']): InvocationRequest => ({
    tool: BENCH_TOOL,
    parameters,
    door: 'rest',
    requestId: `bench-${++n}`,
    credentials,
    client: 'upc-bench',
    ip: '127.0.0.1',
  });
  const viaPipeline = (credentials: InvocationRequest['credentials']) => async () => {
    const outcome = await pipeline.invoke(request(credentials));
    if (!outcome.ok)
      throw new Error(`pipeline refused the call: ${outcome.error.code} ${outcome.error.message}`);
  };
  // The same stages without the audit stage, to show how much of the overhead is the durable commit.
  const parts = app.parts;
  const unaudited = new InvocationPipeline(
    parts.registry,
    {
      authenticator: new JwtAuthenticator(tokenSettings(env.config, env.config.JWT_SECRET_KEY!)),
      observers: [parts.metrics],
      authorizer: parts.policy,
      rateLimiter: parts.rateLimiter,
      redactor: parts.redactor.redact,
      scope: parts.scope,
    },
    app.log,
  );
  const withoutAudit = async () => {
    const outcome = await unaudited.invoke(request({ bearer: token }));
    if (!outcome.ok) throw new Error(`pipeline refused the call: ${outcome.error.code}`);
  };
  const variants: [string, () => Promise<unknown>][] = [
    ['handler directly', () => tool.handler(parameters, ctx)],
    ['pipeline, bearer token (REST)', viaPipeline({ bearer: token })],
    ['pipeline, authenticated principal (MCP)', viaPipeline({ principal })],
    ['pipeline without the audit stage (bearer)', withoutAudit],
  ];
  const results: { variant: string; inFlight: number; summary: LatencySummary }[] = [];
  for (const inFlight of [1, IN_FLIGHT]) {
    for (const [variant, call] of variants) {
      await timeCalls(WARMUP, inFlight, call);
      const summary = summarise(await timeCalls(iterations, inFlight, call));
      results.push({ variant, inFlight, summary });
      console.log(
        `  ${variant.padEnd(42)} in flight ${inFlight}: p50 ${summary.p50.toFixed(3)} ms, p99 ${summary.p99.toFixed(3)} ms (n=${summary.n})`,
      );
    }
  }
  const direct = (inFlight: number) =>
    results.find((r) => r.inFlight === inFlight && r.variant === 'handler directly')!.summary;
  const rows = results
    .filter((r) => r.variant !== 'handler directly')
    .map((r) => ({
      ...r,
      overheadP50: r.summary.p50 - direct(r.inFlight).p50,
      overheadP99: r.summary.p99 - direct(r.inFlight).p99,
    }));
  const table: Table = {
    title: `Pipeline overhead over the bare handler (${iterations} calls each; target p99 ≤ 2 ms)`,
    columns: [
      'variant',
      'in flight',
      'handler p50/p99',
      'pipeline p50',
      'pipeline p99',
      'overhead p99',
      'met',
    ],
    rows: rows.map((r) => [
      r.variant,
      r.inFlight,
      `${direct(r.inFlight).p50.toFixed(3)}/${direct(r.inFlight).p99.toFixed(3)} ms`,
      `${r.summary.p50.toFixed(3)} ms`,
      `${r.summary.p99.toFixed(3)} ms`,
      `${r.overheadP99.toFixed(3)} ms`,
      r.overheadP99 <= 2 ? 'yes' : 'no',
    ]),
  };
  printTable(table);
  console.log(
    `results: ${writeResult('pipeline-overhead', startedAt, { iterations, rows, results }, [table])}`,
  );
} finally {
  await app.close();
  await env.close();
}
