/**
 * The compiled server is what `npm start` and the CLI run: built from a checkout, it starts with nothing
 * but its own output (migrations, console, policy) and answers.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/cli.js';
import { freePort } from '../harness/postgres.js';
import { waitForReady } from '../harness/wait.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-built-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('npm run build, then node dist/main.js serves on the embedded database with its migrations and pages', async () => {
  await run('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT });
  const help = await run(process.execPath, ['dist/main.js', '--help'], { cwd: REPO_ROOT });
  expect(help.stdout).toMatch(/Usage: upc-mcp <command>/);
  expect(help.stdout).toMatch(/backup +snapshot the embedded database/);

  const port = await freePort();
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/main.js'), 'serve'], {
    cwd: os.tmpdir(), // not the checkout: the build must carry what it reads
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dir,
      PORT: String(port),
      JWT_SECRET_KEY: 'built-test-secret-built-test-secret-0123456',
      ORTHANC_URL: 'http://127.0.0.1:1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForReady(base, `the built server (stderr: ${stderr})`);
    const health = (await (await fetch(`${base}/health`)).json()) as {
      modules: Record<string, { status: string }>;
    };
    expect(health.modules.database?.status).toBe('up');
    expect((await fetch(`${base}/console/`)).status).toBe(200);
    expect((await fetch(`${base}/docs/`)).status).toBe(200);
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
}, 180_000);
