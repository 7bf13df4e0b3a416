import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { progress, progressDone } from './progress.js';

/** What the numbers were measured on: recorded in every result file. */
export interface MachineInfo {
  nproc: number;
  cpu: string;
  ramGiB: number;
  node: string;
  platform: string;
  loadAverage: number[];
  postgres: string | undefined;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
    postgres: commandOutput('psql', ['--version']),
  };
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
}

function commandOutput(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 2_000 }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to `maxWaitMs`) for the 1-minute load average to fall below `threshold`, so a run does not
 * start in the middle of someone else's test suite. Returns the load seen when it gave up or started.
 */
export async function waitForQuietMachine(threshold: number, maxWaitMs: number): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let load = os.loadavg()[0] ?? 0;
  while (load > threshold && Date.now() < deadline) {
    progress(`  machine busy (load ${load.toFixed(2)} > ${threshold}), waiting up to ${maxWaitMs / 1000} s…`);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    load = os.loadavg()[0] ?? 0;
  }
  progressDone(`  load average ${load.toFixed(2)} at start`);
  return load;
}
