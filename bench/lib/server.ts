import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from '../servers/child.js';
import { RESULTS_DIR } from './report.js';

const SERVERS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers');

export type ServerKind = 'product' | 'bare-node' | 'bare-fastify';

export interface StartServerOptions {
  /** Environment for the child (merged over this process's). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile (`--cpu-prof`) into bench/results/profiles/ when the server stops. */
  cpuProfile?: boolean;
}

export interface RunningServer {
  kind: ServerKind;
  url: string;
  pid: number;
  /** Resident set size now, from /proc (MiB). */
  rssMiB(): number;
  /** CPU time used so far (user + system), from /proc (ms, 10 ms resolution). */
  cpuMs(): number;
  /** Samples RSS every 200 ms until the returned function is called; it returns the peak (MiB). */
  watchPeakRss(): () => number;
  stop(): Promise<void>;
}

/**
 * Starts a benchmark server as its own Node process (the same Node as this one, TypeScript through tsx), so
 * its CPU and memory are its own and `--cpu-prof` profiles only the server. Logs go to
 * bench/results/logs/<kind>.log.
 */
export async function startServer(
  kind: ServerKind,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const entry = path.join(SERVERS_DIR, kind === 'product' ? 'product.ts' : 'bare-mcp.ts');
  const logDir = path.join(RESULTS_DIR, 'logs');
  const profileDir = path.join(RESULTS_DIR, 'profiles');
  mkdirSync(logDir, { recursive: true });
  const log = openSync(path.join(logDir, `${kind}.log`), 'w');
  const args = options.cpuProfile
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`]
    : [];
  const child = spawn(process.execPath, [...args, '--import', 'tsx', entry], {
    stdio: ['ignore', log, log, 'ipc'],
    env: {
      ...process.env,
      ...(kind === 'bare-fastify' ? { BARE_HTTP: 'fastify' } : {}),
      ...options.env,
    },
  });
  closeSync(log);
  const port = await ready(child, kind);
  const pid = child.pid!;
  const rssMiB = () => readRssMiB(pid);
  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    pid,
    rssMiB,
    cpuMs: () => readCpuMs(pid),
    watchPeakRss() {
      let peak = rssMiB();
      const timer = setInterval(() => {
        peak = Math.max(peak, rssMiB());
      }, 200);
      return () => {
        clearInterval(timer);
        return Math.max(peak, rssMiB());
      };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ kind: 'stop' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function ready(child: ChildProcess, kind: ServerKind): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 120 s`)), 120_000);
    child.on('message', (message: ChildMessage) => {
      if (message.kind !== 'ready') return;
      clearTimeout(timer);
      resolve(message.port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`${kind} server exited with code ${code} before it was ready (see bench/results/logs)`),
      );
    });
  });
}

function readRssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return Math.round((kib / 1024) * 10) / 10;
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of a process, from /proc/<pid>/stat (in clock ticks of 10 ms: USER_HZ is 100 on Linux). */
function readCpuMs(pid: number): number {
  try {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
