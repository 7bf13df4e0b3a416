/**
 * The API reference at /docs/ as a person opens it in a browser: everything it loads comes from this
 * server (an offline clinic network has no other), with our title and none of the vendor's own buttons.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { requireFile } from '../harness/requirements.js';

const CHROMIUM = '/usr/bin/chromium';

let t: TestApp;
let base: string;
let browser: Browser;
const shots = mkdtempSync(path.join(os.tmpdir(), 'upc-docs-'));

beforeAll(async () => {
  requireFile(CHROMIUM, 'chromium');
  t = await startTestApp();
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  rmSync(shots, { recursive: true, force: true });
});

it('loads only from this server, shows our title, no vendor buttons and no 2^53 example ids', async () => {
  const page = await browser.newPage();
  const foreign: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
  });
  await page.goto(`${base}/docs/`, { waitUntil: 'networkidle' });
  await page.getByRole('heading', { name: 'Ubuntu Patient Care MCP Server' }).waitFor({ timeout: 30_000 });
  await page.getByText('ris', { exact: true }).first().click(); // open one module's operations
  expect(foreign).toEqual([]);
  expect(await page.title()).toBe('Ubuntu Patient Care API reference');
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  for (const vendor of ['Ask AI', 'Generate MCP', 'Deploy', 'Share', 'Open API Client'])
    expect(text, vendor).not.toContain(vendor);
  expect(text).toContain('Cancel an appointment');
  const openapi = await (await fetch(`${base}/openapi.json`)).text();
  expect(openapi).not.toContain('9007199254740991');
  await page.screenshot({ path: path.join(process.env.UPC_SCREENSHOT_DIR ?? shots, 'api-docs.png') });
  await page.close();
}, 90_000);
