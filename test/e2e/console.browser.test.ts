import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addDays } from '../../src/core/practice-time.js';
import { seedRisDemo } from '../../src/modules/ris/ris.demo.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { hashPassword } from '../../src/security/passwords.js';
import { insertUser, securityDb } from '../../src/security/users.store.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextWeekday, practiceTime, testToday } from '../harness/clock.js';
import { requireFile } from '../harness/requirements.js';

const CHROMIUM = '/usr/bin/chromium';

let t: TestApp;
let base: string;
let browser: Browser;
const profile = mkdtempSync(path.join(os.tmpdir(), 'upc-chromium-'));
// The demo week starts on the first Sunday from the suite's day: a closed day, then Monday to Saturday.
const sunday = nextWeekday(7, testToday());
const monday = addDays(sunday, 1);

beforeAll(async () => {
  requireFile(CHROMIUM, 'chromium');
  t = await startTestApp();
  await seedRisDemo(risDb(t.app.parts.database), { seed: 7, now: practiceTime(sunday, '06:00') });
  const users = securityDb(t.app.parts.database.db);
  await insertUser(users, {
    username: 'thandeka',
    role: 'receptionist',
    passwordHash: await hashPassword('reception desk password'),
  });
  await insertUser(users, {
    username: 'audit.lead',
    role: 'auditor',
    passwordHash: await hashPassword('auditor desk password'),
  });
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  rmSync(profile, { recursive: true, force: true });
});

async function signIn(username: string, password: string) {
  const page = await browser.newPage();
  await page.goto(`${base}/console/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

it('shows system health, and a receptionist sees the worklist without clinical text or the audit log', async () => {
  t.clock.set(practiceTime(monday, '10:00'));
  const page = await signIn('thandeka', 'reception desk password');
  await page.locator('#modules li').first().waitFor();
  expect(await page.locator('#overall').textContent()).toBe('degraded');
  expect(await page.locator('#modules').textContent()).toMatch(/pacs.*down/s);
  await page.locator('#worklist tr').first().waitFor();
  expect(await page.locator('#who').textContent()).toBe('signed in as thandeka');
  expect(await page.locator('#signin').isHidden()).toBe(true);
  expect(await page.locator('#signout').isVisible()).toBe(true);
  expect(await page.locator('#worklist tr').count()).toBeGreaterThan(0);
  expect(await page.locator('#worklist-date').inputValue()).toBe(monday);
  expect(await page.locator('#worklist-closed').isHidden()).toBe(true);
  expect(await page.locator('#worklist-count').textContent()).toMatch(
    /appointments \(Africa\/Johannesburg\)/,
  );
  // The status chips add up to the day's appointments; the modality filter narrows the table to one.
  const allRows = await page.locator('#worklist tr').count();
  const chips = await page.locator('#worklist-summary .chip').allTextContents();
  expect(chips.length).toBeGreaterThan(0);
  expect(chips.reduce((sum, chip) => sum + Number.parseInt(chip, 10), 0)).toBe(allRows);
  const modalities = (await page.locator('#worklist-modality option').allTextContents()).slice(1);
  expect(modalities.length).toBeGreaterThan(1);
  await page.locator('#worklist-modality').selectOption(modalities[0]!);
  const filtered = await page.locator('#worklist tr').count();
  expect(filtered).toBeGreaterThan(0);
  expect(filtered).toBeLessThan(allRows);
  expect(await page.locator('#worklist-count').textContent()).toContain(`(${modalities[0]})`);
  await page.locator('#worklist-modality').selectOption('');
  expect(await page.locator('#worklist tr').count()).toBe(allRows);
  expect(await page.locator('#audit-panel').isHidden()).toBe(true);
  // UPC_SCREENSHOT_DIR keeps the screenshot for a person to look at.
  await page.screenshot({
    path: path.join(process.env.UPC_SCREENSHOT_DIR ?? profile, 'console-receptionist.png'),
    fullPage: true,
  });
  await page.close();
});

it('on a closed day the worklist says the practice is closed and offers the next open day', async () => {
  t.clock.set(practiceTime(sunday, '10:00'));
  const page = await signIn('thandeka', 'reception desk password');
  await page.locator('#worklist-closed').waitFor();
  expect(await page.locator('#worklist-date').inputValue()).toBe(sunday);
  expect(await page.locator('#worklist tr').count()).toBe(0);
  expect(await page.locator('#worklist-closed-note').textContent()).toBe(
    `${sunday} is a Sunday: the practice is closed. Next open day: Monday ${monday}.`,
  );
  const next = page.locator('#worklist-next-open');
  expect(await next.textContent()).toBe(`Show Monday ${monday}`);
  await next.click();
  await page.locator('#worklist tr').first().waitFor();
  expect(await page.locator('#worklist-date').inputValue()).toBe(monday);
  expect(await page.locator('#worklist-closed').isHidden()).toBe(true);
  await page.screenshot({
    path: path.join(process.env.UPC_SCREENSHOT_DIR ?? profile, 'console-closed-day.png'),
    fullPage: true,
  });
  await page.close();
});

it('an auditor sees recent activity, including the console calls just made, but no worklist', async () => {
  const page = await signIn('audit.lead', 'auditor desk password');
  await page.locator('#audit tr').first().waitFor();
  const activity = await page.locator('#audit').textContent();
  expect(activity).toMatch(/thandeka.*console.*ris_get_worklist/s);
  expect(await page.locator('#worklist-panel').isHidden()).toBe(true);
  await page.close();
});

it('the console asks which tools a role may use instead of probing: no FORBIDDEN from its own page loads', async () => {
  await t.app.parts.auditWriter.flush();
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM audit.events WHERE door = 'console' AND error_code = 'FORBIDDEN'`.execute(
    t.app.parts.database.db,
  );
  expect(rows[0]?.n).toBe(0);
  const favicon = await fetch(`${base}/favicon.ico`);
  expect(favicon.status).toBe(200);
  expect(favicon.headers.get('content-type')).toMatch(/image\/svg\+xml/);
});

it('a wrong password shows the server’s message and signs nobody in', async () => {
  const page = await signIn('thandeka', 'wrong password');
  await page
    .locator('#signin-error')
    .filter({ hasText: /Wrong username or password/ })
    .waitFor();
  expect(await page.locator('#who').textContent()).toBe('not signed in');
  await page.close();
});
