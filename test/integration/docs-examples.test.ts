import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';

const run = promisify(execFile);

/** The fenced bash blocks of a Markdown section: the documentation's examples, run as written. */
function bashBlocks(file: string, section: string): string[] {
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  const start = text.indexOf(`## ${section}`);
  const end = text.indexOf('\n## ', start + 1);
  const body = text.slice(start, end === -1 ? undefined : end);
  return [...body.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await startTestApp();
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => t.close());

it('every curl example in docs/API.md runs against a live server', async () => {
  const blocks = bashBlocks('docs/API.md', 'Examples');
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  const env = { PATH: process.env.PATH ?? '', BASE: base, TOKEN: await t.tokenFor('admin') };
  for (const block of blocks) {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', block], { env });
    expect(stdout.trim(), block).not.toBe('');
    if (block.includes('no_such_tool')) expect(stdout.trim()).toBe('404');
    if (block.includes('admin_get_system_status","parameters"'))
      expect(JSON.parse(stdout).success).toBe(true);
    if (block.includes('/health"')) expect(JSON.parse(stdout).modules.database.status).toBe('up');
  }
});
