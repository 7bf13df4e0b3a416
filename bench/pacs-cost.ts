/**
 * What a PACS search costs Orthanc (issue 25): `pacs_search_studies` through MCP, uncached, beside the same
 * query sent to Orthanc directly as QIDO-RS (`GET /dicom-web/studies`, the fields our rows hold) and as
 * `POST /tools/find` (Orthanc's own query, without modalities or counts). For each: req/s, p50/p95 and
 * Orthanc's CPU per call (utime + stime of the Orthanc process from /proc, clock ticks → ms via
 * `getconf CLK_TCK`), at each client count, for a one-patient lookup and a page query, interleaved rounds.
 * Then the other PACS reads (`pacs_search_patients`, `pacs_get_patient_history`, `pacs_retrieve_study`)
 * through MCP, for their Orthanc CPU per call.
 *
 *   npm run bench:pacs-cost -- [--stages 1000,10000] [--clients 1,10] [--rounds 3] [--duration 5]
 *                              [--label after] [--no-tools]
 */
import { parseArgs } from 'node:util';
import { startOrthanc } from '../test/harness/orthanc.js';
import { benchEnvironment } from './lib/env.js';
import { waitForQuietMachine } from './lib/machine.js';
import { checkOnce, toolsCall } from './lib/mcp-wire.js';
import { StagedLoader, smallStudyPlan } from './lib/pacs-data.js';
import { pidByCommandLine, processCpuMs } from './lib/proc.js';
import { header, printTable, type Table, writeResult } from './lib/report.js';
import { interleavedRounds, type Target, type TargetSummary } from './lib/rounds.js';
import { startServer } from './lib/server.js';

const { values } = parseArgs({
  options: {
    stages: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '1,10' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    label: { type: 'string', default: '' },
    'no-tools': { type: 'boolean', default: false },
  },
});
const stages = values.stages.split(',').map(Number);
const clientLevels = values.clients.split(',').map(Number);
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const scenario = values.label ? `pacs-cost-${values.label}` : 'pacs-cost';

/** DICOMweb's QIDO-RS answer for a study, keyed by tag (`00080061`), as far as this bench reads it. */
type QidoStudy = Record<string, { Value?: unknown[] } | undefined>;

/** Everything a `study` row of ours holds that the QIDO-RS defaults leave out is asked for by name. */
const INCLUDE_FIELDS = [
  'StudyDescription',
  'InstitutionName',
  'ModalitiesInStudy',
  'NumberOfStudyRelatedSeries',
  'NumberOfStudyRelatedInstances',
];

interface Query {
  name: string;
  /** `pacs_search_studies` parameters. */
  parameters: Record<string, unknown>;
  /** The same constraints as DICOM attributes (QIDO-RS query keys and the `/tools/find` Query). */
  dicom: Record<string, string>;
  /** A StudyInstanceUID the answer must hold (sanity check); default: the first one /tools/find answers. */
  expect?: string;
}

interface Row {
  studies: number;
  query: string;
  clients: number;
  summary: TargetSummary;
}

const startedAt = new Date();
header('PACS search cost: our tools through MCP vs QIDO-RS and /tools/find straight to Orthanc (uncached)');
const orthanc = await startOrthanc();
const orthancPid = pidByCommandLine(`${orthanc.dir}/orthanc.json`);
const orthancVersion = (await orthanc.json<{ Version: string }>('/system')).Version;
const env = await benchEnvironment({ orthanc, extra: { PACS_CACHE_TTL_MS: '0' } });
const plan = smallStudyPlan(Math.max(...stages));
const loader = new StagedLoader(orthanc, plan);
const searchRows: Row[] = [];
const toolRows: Row[] = [];
const loadSeconds: Record<number, number> = {};
const server = await startServer('product', { env: env.serverEnv });
try {
  const token = await env.token('admin');
  const cpuProbes = { orthanc: () => processCpuMs(orthancPid), server: () => processCpuMs(server.pid) };
  const mcpTarget = (label: string, tool: string, args: Record<string, unknown>, connections: number) => {
    const wire = toolsCall('2026-07-28', token, args, tool);
    return { label, url: `${server.url}/mcp`, ...wire, connections, durationS, warmupS: 1, cpuProbes };
  };

  for (const studies of stages) {
    loadSeconds[studies] = await loader.loadUpTo(studies);
    // A patient in the middle of those loaded so far (4 studies each in this plan).
    const patient = plan.patients[Math.floor(studies / 8)]!;
    const queries: Query[] = [
      {
        name: 'one patient',
        parameters: { patient_id: patient.patientId },
        dicom: { PatientID: patient.patientId },
        expect: patient.studies[0]!.studyInstanceUid,
      },
      {
        name: 'CT + date range, page of 25',
        parameters: { modality: 'CT', study_date: '19900101-20301231', limit: 25 },
        dicom: { ModalitiesInStudy: 'CT', StudyDate: '19900101-20301231' },
      },
    ];
    for (const query of queries) {
      const qidoUrl = new URL('/dicom-web/studies', orthanc.url);
      for (const [key, value] of Object.entries(query.dicom)) qidoUrl.searchParams.set(key, value);
      qidoUrl.searchParams.set('limit', '25');
      for (const field of INCLUDE_FIELDS) qidoUrl.searchParams.append('includefield', field);
      const findBody = JSON.stringify({
        Level: 'Study',
        Query: query.dicom,
        Limit: 25,
        Expand: true,
        CaseSensitive: false,
      });
      // Sanity: each target answers, and with the study expected.
      const found = await orthanc.json<{ MainDicomTags: { StudyInstanceUID: string } }[]>('/tools/find', {
        body: findBody,
      });
      const expected = query.expect ?? found[0]?.MainDicomTags.StudyInstanceUID ?? '(none)';
      if (!found.some((s) => s.MainDicomTags.StudyInstanceUID === expected)) {
        throw new Error(`/tools/find (${query.name}) misses ${expected}`);
      }
      const qido = (await orthanc.json<QidoStudy[]>(`${qidoUrl.pathname}${qidoUrl.search}`)).map(
        (s) => s['0020000D']?.Value?.[0],
      );
      if (!qido.includes(expected)) throw new Error(`QIDO-RS (${query.name}) misses ${expected}`);
      for (const clients of clientLevels) {
        const mcp = mcpTarget('MCP pacs_search_studies', 'pacs_search_studies', query.parameters, clients);
        await checkOnce(mcp.url, mcp, expected);
        const targets: Target[] = [
          mcp,
          {
            label: 'QIDO-RS direct',
            url: qidoUrl.toString(),
            method: 'GET',
            headers: { authorization: orthanc.authorization, accept: 'application/dicom+json' },
            connections: clients,
            durationS,
            warmupS: 1,
            cpuProbes,
          },
          {
            label: '/tools/find direct',
            url: `${orthanc.url}/tools/find`,
            headers: { authorization: orthanc.authorization, 'content-type': 'application/json' },
            body: findBody,
            connections: clients,
            durationS,
            warmupS: 1,
            cpuProbes,
          },
        ];
        console.log(`\n${studies} studies, ${query.name}, ${clients} client(s):`);
        await waitForQuietMachine(2, 30_000);
        for (const summary of await interleavedRounds(targets, rounds)) {
          searchRows.push({ studies, query: query.name, clients, summary });
        }
      }
    }

    if (!values['no-tools']) {
      const study = patient.studies[0]!;
      const reads: [string, Record<string, unknown>, string][] = [
        ['pacs_search_patients', { patient_id: patient.patientId }, patient.patientId],
        ['pacs_get_patient_history', { patient_id: patient.patientId }, study.studyInstanceUid],
        [
          'pacs_retrieve_study',
          { study_instance_uid: study.studyInstanceUid },
          study.series[0]!.seriesInstanceUid,
        ],
      ];
      for (const clients of clientLevels) {
        const targets = reads.map(([tool, args]) => mcpTarget(`MCP ${tool}`, tool, args, clients));
        for (const [i, target] of targets.entries()) await checkOnce(target.url, target, reads[i]![2]);
        console.log(`\n${studies} studies, other PACS reads, ${clients} client(s):`);
        await waitForQuietMachine(2, 30_000);
        for (const summary of await interleavedRounds(targets, rounds)) {
          toolRows.push({ studies, query: 'one patient / one study', clients, summary });
        }
      }
    }
  }
} finally {
  await server.stop();
  await orthanc.stop();
  await env.close();
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const cpu = (s: TargetSummary, name: string) => {
  const us = s.cpuUsPerCall?.[name];
  return us === undefined || !Number.isFinite(us) ? '' : ms(us / 1000);
};
const qidoOf = (row: Row) =>
  searchRows.find(
    (r) =>
      r.studies === row.studies &&
      r.query === row.query &&
      r.clients === row.clients &&
      r.summary.label === 'QIDO-RS direct',
  )?.summary;
const searchTable: Table = {
  title:
    `pacs_search_studies (MCP, cache off) vs Orthanc ${orthancVersion} directly: medians of ${rounds} ` +
    `interleaved ${durationS}-s runs (target: ≥ 0.9× QIDO-RS req/s, ≤ 1.1× its Orthanc CPU per call)`,
  columns: [
    'studies',
    'query',
    'clients',
    'target',
    'req/s',
    'p50',
    'p95',
    'Orthanc CPU/call',
    'server CPU/call',
    'req/s vs QIDO',
    'Orthanc CPU vs QIDO',
  ],
  rows: searchRows.map((row) => {
    const s = row.summary;
    const qido = qidoOf(row);
    const orthancCpu = s.cpuUsPerCall?.orthanc;
    const qidoCpu = qido?.cpuUsPerCall?.orthanc;
    return [
      row.studies,
      row.query,
      row.clients,
      s.label,
      s.rps.toFixed(1),
      ms(s.p50),
      ms(s.p95),
      cpu(s, 'orthanc'),
      cpu(s, 'server'),
      qido ? `${(s.rps / qido.rps).toFixed(2)}×` : '',
      orthancCpu !== undefined && qidoCpu ? `${(orthancCpu / qidoCpu).toFixed(2)}×` : '',
    ];
  }),
};
const toolTable: Table = {
  title: `Other PACS reads through MCP (cache off; the first study of the same patient): medians of ${rounds} runs`,
  columns: ['studies', 'clients', 'tool', 'req/s', 'p50', 'p95', 'Orthanc CPU/call', 'server CPU/call'],
  rows: toolRows.map(({ studies, clients, summary: s }) => [
    studies,
    clients,
    s.label,
    s.rps.toFixed(1),
    ms(s.p50),
    ms(s.p95),
    cpu(s, 'orthanc'),
    cpu(s, 'server'),
  ]),
};
const loadTable: Table = {
  title: 'Loading synthetic studies (1 series × 1 instance × 32×32 each, 4 uploads in flight)',
  columns: ['archive size', 'stage load time'],
  rows: Object.entries(loadSeconds).map(([n, s]) => [n, `${s.toFixed(1)} s`]),
};
printTable(searchTable);
if (toolRows.length > 0) printTable(toolTable);
printTable(loadTable);
const tables = toolRows.length > 0 ? [searchTable, toolTable, loadTable] : [searchTable, loadTable];
const file = writeResult(scenario, startedAt, { orthancVersion, stages, searchRows, toolRows }, tables);
console.log(`results: ${file}`);
