import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverage, type MachineInfo, machineInfo } from './machine.js';

export { progress, progressDone } from './progress.js';

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export type Cell = string | number;

/** One printed table: a title, column names and rows of cells. */
export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
}

export function printTable(table: Table): void {
  const cells = [table.columns, ...table.rows.map((row) => row.map(String))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((row) => String(row[i] ?? '').length)));
  const line = (row: Cell[]) =>
    `| ${row.map((cell, i) => String(cell).padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${table.title}`);
  console.log(line(table.columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table.rows) console.log(line(row));
}

export interface ResultFile<T> {
  scenario: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  command: string;
  loadAverageAtEnd: string;
  results: T;
  tables: Table[];
}

/** Writes `bench/results/<scenario>.json` (git-ignored) and returns its path. */
export function writeResult<T>(scenario: string, startedAt: Date, results: T, tables: Table[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${scenario}.json`);
  const body: ResultFile<T> = {
    scenario,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    command: process.argv.slice(1).join(' '),
    loadAverageAtEnd: loadAverage(),
    results,
    tables,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

export function header(title: string): void {
  const machine = machineInfo();
  console.log(`\n=== ${title} ===`);
  console.log(
    `machine: nproc=${machine.nproc}, ${machine.cpu}, ${machine.ramGiB} GiB RAM, node ${machine.node}, load ${loadAverage()}`,
  );
}
