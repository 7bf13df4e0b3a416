import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './postgres.js';
import { requireProgram } from './requirements.js';

export const runFile = promisify(execFile);

export interface PrometheusHandle {
  url: string;
  stop(): Promise<void>;
}

/** A throwaway Prometheus (Debian package) scraping the given targets every second. */
export async function startPrometheus(
  targets: string[],
  rulesFile?: string,
  bearerToken?: string,
): Promise<PrometheusHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-prom-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(rulesFile ? ['rule_files:', `  - ${rulesFile}`] : []),
    'scrape_configs:',
    '  - job_name: upc-mcp',
    ...(bearerToken ? ['    authorization:', `      credentials: '${bearerToken}'`] : []),
    '    static_configs:',
    `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
  ].join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const child: ChildProcess = spawn(
    requireProgram('prometheus', 'prometheus'),
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      process.off('exit', kill);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
