/**
 * The outbox survives `kill -9`: a process (test/fixtures/outbox-writer.ts) that commits a change with its
 * event and dies before delivering it leaves both behind for the next dispatcher; one killed while its
 * handler runs leaves a lease that expires, after which a fresh dispatcher delivers again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { SettableClock } from '../../src/core/clock.js';
import type { DomainEvent, EventHandler } from '../../src/core/domain-events.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { Outbox } from '../../src/events/outbox.js';
import { CRASH_EVENT_TYPE, CRASH_HANDLER, CRASH_SCHEMA_SQL } from '../fixtures/outbox-crash.shared.js';
import { REPO_ROOT } from '../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';
import { waitUntil } from '../harness/wait.js';

/** The outbox's clock, in the writer and here (frozen; the test moves its own). */
const NOW = '2031-05-12T08:00:00.000Z';
const LEASE_MS = 60_000;

let testDb: TestDatabase;
let database: Database;
const children: ChildProcess[] = [];
const outboxes: Outbox[] = [];
const log = pino({ level: 'warn' });

beforeAll(async () => {
  testDb = await createTestDatabase(inject('pgAdminUrl'));
  database = await openDatabase(testConfig({ DATABASE_URL: testDb.url }));
  await migrate(database);
  const session = await database.session();
  try {
    await session.exec(CRASH_SCHEMA_SQL);
  } finally {
    await session.release();
  }
}, 120_000);

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all(outboxes.map((outbox) => outbox.close()));
  await database?.close();
  await testDb?.drop();
});

interface Writer {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWriter(env: Record<string, string>): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/outbox-writer.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      OUTBOX_DATABASE_URL: testDb.url,
      OUTBOX_NOW: NOW,
      OUTBOX_LEASE_MS: String(LEASE_MS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout, stderr, exited };
}

/** A handler recording what it receives and on which attempt; by default the writer's, as this process runs it. */
function reactor(name = CRASH_HANDLER, types = [CRASH_EVENT_TYPE]) {
  const received: { event: DomainEvent; attempt: number }[] = [];
  const handler: EventHandler = {
    name,
    types,
    async handle(event, context) {
      received.push({ event, attempt: context.attempt });
    },
  };
  return { handler, received };
}

async function changesWithKey(key: string) {
  return database.db.selectFrom('outbox_crash.changes').select('key').where('key', '=', key).execute();
}

async function deliveriesOf(key: string) {
  return database.db
    .selectFrom('core.outbox_deliveries as d')
    .innerJoin('core.outbox_events as e', 'e.id', 'd.event_id')
    .select(['d.event_id', 'd.handler', 'd.status', 'd.attempts', 'd.locked_until'])
    .where('e.key', '=', key)
    .execute();
}

function startOutbox(clock: SettableClock): Outbox {
  const outbox = new Outbox(database.db, log, {
    now: () => clock.now(),
    pollIntervalMs: 20,
    leaseMs: LEASE_MS,
  });
  outboxes.push(outbox);
  return outbox;
}

it('a change and its event committed just before kill -9 are both kept, and the event is delivered after', async () => {
  const key = `CHG-${randomBytes(4).toString('hex')}`;
  // The handler existed before the crash: an earlier run of the server subscribed it.
  const clock = new SettableClock(NOW);
  const earlier = new Outbox(database.db, log, { now: () => clock.now() });
  await earlier.start([reactor().handler]);
  await earlier.close();

  const writer = startWriter({ OUTBOX_FAULT: 'kill-after-commit', OUTBOX_KEY: key });
  const exit = await writer.exited;
  expect(exit, writer.stderr.join('')).toEqual({ code: null, signal: 'SIGKILL' });

  expect(await changesWithKey(key)).toEqual([{ key }]);
  expect(await deliveriesOf(key)).toEqual([
    {
      event_id: expect.any(Number),
      handler: CRASH_HANDLER,
      status: 'pending',
      attempts: 0,
      locked_until: null,
    },
  ]);

  const { handler, received } = reactor();
  const outbox = startOutbox(clock);
  await outbox.start([handler]);
  await waitUntil(async () => (await deliveriesOf(key)).every((d) => d.status === 'delivered'), {
    what: 'the delivery after the crash',
  });
  expect(received).toEqual([{ event: expect.objectContaining({ key, payload: { key } }), attempt: 1 }]);
  // Stopped here, so that it cannot take the next test's delivery from the process under test.
  await outbox.close();
}, 120_000);

it('a delivery whose handler was running at kill -9 is made again once its lease has expired', async () => {
  const key = `CHG-${randomBytes(4).toString('hex')}`;
  const writer = startWriter({ OUTBOX_FAULT: 'kill-in-handler', OUTBOX_KEY: key });
  await waitUntil(() => writer.stdout.some((line) => line.startsWith('handler-started ')), {
    what: `the writer's handler to start\n${writer.stderr.join('')}`,
    timeoutMs: 100_000,
  });
  const [, eventId, attempt] = writer.stdout.find((line) => line.startsWith('handler-started '))!.split(' ');
  expect(attempt).toBe('1');
  writer.child.kill('SIGKILL');
  expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });

  // The change and its event are there; the delivery is still leased by the dead process.
  expect(await changesWithKey(key)).toEqual([{ key }]);
  const leaseEnd = new Date(new Date(NOW).getTime() + LEASE_MS);
  expect(await deliveriesOf(key)).toEqual([
    {
      event_id: Number(eventId),
      handler: CRASH_HANDLER,
      status: 'pending',
      attempts: 1,
      locked_until: leaseEnd,
    },
  ]);

  // A fresh dispatcher leaves it alone while the lease runs (a marker event shows passes going by)...
  const clock = new SettableClock(NOW);
  const { handler, received } = reactor();
  const marker = reactor('test.crash_marker', ['test.crash_marker.passed']);
  const outbox = startOutbox(clock);
  await outbox.start([handler, marker.handler]);
  await outbox.publish(database.db, { type: 'test.crash_marker.passed', key: `marker-${key}`, payload: {} });
  await waitUntil(() => marker.received.length > 0, { what: 'the marker event' });
  expect(received).toEqual([]);
  expect((await deliveriesOf(key))[0]).toMatchObject({ status: 'pending', attempts: 1 });

  // ...and delivers it, as the second attempt, once the lease has run out.
  clock.advance(LEASE_MS);
  await waitUntil(async () => (await deliveriesOf(key)).every((d) => d.status === 'delivered'), {
    what: 'the delivery after the lease expired',
  });
  expect(received).toEqual([{ event: expect.objectContaining({ id: eventId, key }), attempt: 2 }]);
  expect((await deliveriesOf(key))[0]).toMatchObject({ attempts: 2, locked_until: null });
}, 120_000);
