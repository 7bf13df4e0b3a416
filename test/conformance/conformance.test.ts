import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REPO_ROOT } from '../harness/cli.js';

/**
 * Runs the official MCP conformance suites against the real server (fixtures + no-auth test modes) with
 * checked-in expected-failure baselines. The CLI exits non-zero on an unexpected failure and on a stale
 * baseline entry (a listed scenario that now passes), so either fails this test.
 */
const SUITES = [
  {
    name: '2025 era (conformance 0.1.16, active suite)',
    cli: 'node_modules/mcp-conformance-2025/dist/index.js',
    args: [],
    baseline: 'test/conformance/expected-failures-2025.yaml',
  },
  {
    name: '2026-07-28 (conformance 0.2.0-alpha.12, --requirements 2026-07-28)',
    cli: 'node_modules/mcp-conformance-2026/dist/index.js',
    args: ['--requirements', '2026-07-28'],
    baseline: 'test/conformance/expected-failures-2026.yaml',
  },
];

let t: TestApp;
let url: string;
let outputDir: string;

beforeAll(async () => {
  t = await startTestApp({ MCP_CONFORMANCE_FIXTURES: '1', UPC_INSECURE_NO_AUTH: '1' });
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `${address}/mcp`;
  outputDir = mkdtempSync(path.join(os.tmpdir(), 'upc-conformance-'));
});

afterAll(async () => {
  await t?.close();
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
});

describe('MCP conformance', () => {
  it.each(SUITES)(
    '$name passes apart from its baseline',
    async (suite) => {
      const result = await run(process.execPath, [
        suite.cli,
        'server',
        '--url',
        url,
        '--expected-failures',
        suite.baseline,
        '-o',
        outputDir,
        ...suite.args,
      ]);
      const summary = result.output.slice(result.output.indexOf('=== SUMMARY ==='));
      expect(result.code, summary).toBe(0);
      expect(summary).toMatch(/Total: \d+ passed/);
    },
    180_000,
  );
});

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}
