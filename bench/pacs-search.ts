/**
 * Scenarios 4 and 6b: `pacs_search_studies` through the server (REST invoke, full pipeline) versus the
 * same logical query sent to Orthanc directly (the tool's two requests on Orthanc 1.10: `POST /tools/find`
 * for the studies, then `POST /tools/bulk-content` for their series), same client code, same run; at each
 * archive size in --stages. (On Orthanc 1.11+ the tool makes only the first, with `RequestedTags`.)
 * ARCHITECTURE §8: through the server within 1.2× of direct.
 *
 *   npm run bench:pacs -- [--stages 100,1000,10000] [--duration 8] [--in-flight 1,10]
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startOrthanc } from '../test/harness/orthanc.js';
import { type ClosedLoopResult, closedLoop } from './lib/closed-loop.js';
import { benchEnvironment } from './lib/env.js';
import { waitForQuietMachine } from './lib/machine.js';
import { StagedLoader, smallStudyPlan } from './lib/pacs-data.js';
import { header, printTable, type Table, writeResult } from './lib/report.js';
import { startServer } from './lib/server.js';

const { values } = parseArgs({
  options: {
    stages: { type: 'string', default: '100,1000,10000' },
    duration: { type: 'string', default: '8' },
    'in-flight': { type: 'string', default: '1,10' },
  },
});
const stages = values.stages.split(',').map(Number);
const durationS = Number(values.duration);
const inFlightLevels = values['in-flight'].split(',').map(Number);

interface Query {
  name: string;
  parameters: Record<string, unknown>;
  /** The tool's first Orthanc request for these parameters (src/modules/pacs/pacs.search.tools.ts). */
  orthancQuery: Record<string, string>;
  limit: number;
}

const startedAt = new Date();
header('pacs_search_studies: through the server vs Orthanc directly');
const orthanc = await startOrthanc();
const env = await benchEnvironment({ orthanc });
const plan = smallStudyPlan(Math.max(...stages));
const loader = new StagedLoader(orthanc, plan);
const rows: {
  studies: number;
  loadSeconds: number;
  query: string;
  server: ClosedLoopResult;
  direct: ClosedLoopResult;
  ratioP50: number;
  ratioRps: number;
}[] = [];
try {
  const server = await startServer('product', { env: env.serverEnv });
  const token = await env.token('admin');
  const serverPool = new Pool(server.url, { connections: 64, pipelining: 1 });
  const orthancPool = new Pool(orthanc.url, { connections: 64, pipelining: 1 });
  const postJson = async (pool: Pool, path: string, body: unknown, authorization: string) => {
    const response = await pool.request({
      method: 'POST',
      path,
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.body.json()) as unknown;
    if (response.statusCode !== 200) throw new Error(`${path}: HTTP ${response.statusCode}`);
    return json;
  };
  try {
    for (const studies of stages) {
      const loadSeconds = await loader.loadUpTo(studies);
      const patient = plan.patients[Math.floor(plan.patients.length / 2) % Math.ceil(studies / 4)]!;
      const queries: Query[] = [
        {
          name: 'one patient',
          parameters: { patient_id: patient.patientId },
          orthancQuery: { PatientID: patient.patientId },
          limit: 25,
        },
        {
          name: 'CT, date range, page of 25',
          parameters: { modality: 'CT', study_date: '19900101-20301231' },
          orthancQuery: { StudyDate: '19900101-20301231', ModalitiesInStudy: 'CT' },
          limit: 25,
        },
      ];
      for (const query of queries) {
        const viaServer = async () => {
          const body = (await postJson(
            serverPool,
            '/mcp/v1/invoke',
            { tool: 'pacs_search_studies', parameters: query.parameters },
            `Bearer ${token}`,
          )) as { success: boolean; result: { studies: unknown[] } };
          if (!body.success || body.result.studies.length === 0) throw new Error('no studies found');
        };
        const direct = async () => {
          const found = (await postJson(
            orthancPool,
            '/tools/find',
            {
              Level: 'Study',
              Query: query.orthancQuery,
              Limit: query.limit + 1,
              Since: 0,
              Expand: true,
              CaseSensitive: false,
            },
            orthanc.authorization,
          )) as { Series: string[] }[];
          const page = found.slice(0, query.limit);
          if (page.length === 0) throw new Error('no studies found');
          await postJson(
            orthancPool,
            '/tools/bulk-content',
            { Resources: page.flatMap((s) => s.Series), Metadata: false },
            orthanc.authorization,
          );
        };
        await viaServer();
        await direct();
        for (const inFlight of inFlightLevels) {
          await waitForQuietMachine(2, 30_000);
          // Interleaved, twice each, keeping the better-of-two medians: a shared machine's bursts hit both.
          const runs = { server: [] as ClosedLoopResult[], direct: [] as ClosedLoopResult[] };
          for (let round = 0; round < 2; round++) {
            runs.direct.push(await closedLoop('direct', direct, { inFlight, durationS: durationS / 2 }));
            runs.server.push(await closedLoop('server', viaServer, { inFlight, durationS: durationS / 2 }));
          }
          const best = (list: ClosedLoopResult[]) => list.reduce((a, b) => (a.p50 <= b.p50 ? a : b));
          const s = best(runs.server);
          const d = best(runs.direct);
          const row = {
            studies,
            loadSeconds,
            query: `${query.name}, ${inFlight} in flight`,
            server: s,
            direct: d,
            ratioP50: s.p50 / d.p50,
            ratioRps: d.rps / s.rps,
          };
          rows.push(row);
          console.log(
            `  ${studies} studies, ${row.query}: server p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms ` +
              `(${s.rps}/s); direct p50 ${d.p50.toFixed(2)} p99 ${d.p99.toFixed(2)} ms (${d.rps}/s); ` +
              `ratio p50 ${row.ratioP50.toFixed(2)}×`,
          );
        }
      }
    }
  } finally {
    await serverPool.close();
    await orthancPool.close();
    await server.stop();
  }
  const table: Table = {
    title: 'pacs_search_studies: server (REST, full pipeline) vs Orthanc directly (target ≤ 1.2×)',
    columns: [
      'studies',
      'query',
      'server p50/p99',
      'direct p50/p99',
      'server/direct p50',
      'req/s server/direct',
    ],
    rows: rows.map((r) => [
      r.studies,
      r.query,
      `${r.server.p50.toFixed(2)}/${r.server.p99.toFixed(2)} ms`,
      `${r.direct.p50.toFixed(2)}/${r.direct.p99.toFixed(2)} ms`,
      `${r.ratioP50.toFixed(2)}×`,
      `${r.server.rps.toFixed(0)}/${r.direct.rps.toFixed(0)}`,
    ]),
  };
  const loadTable: Table = {
    title: 'Loading synthetic studies into Orthanc (1 series × 1 instance × 32×32 each, 4 uploads in flight)',
    columns: ['archive size', 'stage load time'],
    rows: [...new Map(rows.map((r) => [r.studies, r.loadSeconds])).entries()].map(([n, s]) => [
      n,
      `${s.toFixed(1)} s`,
    ]),
  };
  printTable(table);
  printTable(loadTable);
  console.log(`results: ${writeResult('pacs-search', startedAt, { stages, rows }, [table, loadTable])}`);
} finally {
  await orthanc.stop();
  await env.close();
}
