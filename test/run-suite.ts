/**
 * The whole test suite, true on any day: `npm test` runs it here after lint and typecheck.
 *
 * 1. Every test file with the product clock on the suite's fixed Monday (the last day of a month).
 * 2. The date-sensitive files again with the clock on a Saturday and on a Sunday. A file is date-sensitive
 *    when it imports `test/harness/clock.ts` or `test/harness/ris.ts` (whose helpers read that clock).
 *
 * `--all-days` runs the whole suite under every day instead; `--days sat,sun` picks days; extra arguments
 * go to vitest. Ends with the count and duration of every run and one closing line
 * "N passed, N failed, N skipped".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TEST_NOW } from './harness/clock.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Day {
  key: string;
  label: string;
  now: string;
}

const DAYS: readonly Day[] = [
  { key: 'mon', label: 'Monday, last day of the month', now: DEFAULT_TEST_NOW },
  { key: 'sat', label: 'Saturday', now: '2026-11-28T10:15:00+02:00' },
  { key: 'sun', label: 'Sunday', now: '2026-11-29T10:15:00+02:00' },
];

interface RunResult {
  label: string;
  files: number;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  exitCode: number;
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: unknown[];
}

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)))
    .sort();
}

function dateSensitive(file: string): boolean {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return /from '\.\.\/harness\/(clock|ris)\.js'/.test(text);
}

async function runVitest(day: Day, files: readonly string[], extra: readonly string[]): Promise<RunResult> {
  const label = `${day.label} (${day.now})`;
  console.log(
    `\n▶ tests with the product clock on ${label}${files.length ? `: ${files.length} files` : ''}\n`,
  );
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'upc-suite-'));
  const report = path.join(outDir, 'vitest.json');
  const started = performance.now();
  const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(
    process.execPath,
    [
      vitest,
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...extra,
      ...files,
    ],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, UPC_TEST_NOW: day.now } },
  );
  const exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  const seconds = (performance.now() - started) / 1000;
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
    return {
      label,
      files: json.testResults.length,
      passed: json.numPassedTests,
      failed: json.numFailedTests,
      skipped: json.numPendingTests + json.numTodoTests,
      seconds,
      exitCode,
    };
  } catch {
    // vitest did not get as far as writing its report (a set-up failure): count the run as failed.
    return { label, files: 0, passed: 0, failed: 1, skipped: 0, seconds, exitCode: exitCode || 1 };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function parseArgs(argv: readonly string[]): { allDays: boolean; days: Day[]; extra: string[] } {
  let allDays = false;
  let days = [...DAYS];
  const extra: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--all-days') allDays = true;
    else if (arg === '--days') {
      const keys = (argv[++i] ?? '').split(',');
      days = DAYS.filter((d) => keys.includes(d.key));
      if (days.length !== keys.length) throw new Error(`--days takes ${DAYS.map((d) => d.key).join(',')}`);
    } else extra.push(arg);
  }
  return { allDays, days, extra };
}

async function main(): Promise<number> {
  const { allDays, days, extra } = parseArgs(process.argv.slice(2));
  const all = testFiles('test');
  const sensitive = all.filter(dateSensitive);
  const runs: RunResult[] = [];
  for (const [i, day] of days.entries()) {
    // The first day runs everything; the others only what depends on the day, unless --all-days.
    const files = i === 0 || allDays ? [] : sensitive;
    runs.push(await runVitest(day, files, extra));
  }
  console.log('\nSuite summary');
  for (const run of runs) {
    console.log(
      `  ${run.label.padEnd(62)} ${String(run.files).padStart(3)} files  ${String(run.passed).padStart(4)} passed` +
        `  ${run.failed} failed  ${run.skipped} skipped  ${run.seconds.toFixed(1)} s`,
    );
  }
  const total = (key: 'passed' | 'failed' | 'skipped') => runs.reduce((sum, run) => sum + run[key], 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  console.log(`  total time ${seconds.toFixed(1)} s`);
  console.log(`${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped`);
  return runs.every((run) => run.exitCode === 0 && run.failed === 0) ? 0 : 1;
}

process.exitCode = await main();
