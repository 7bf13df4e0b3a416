/**
 * The transactional outbox (src/events) on both engines, PostgreSQL and embedded PGlite: an event exists
 * exactly when its transaction commits, reaches each handler of its type once, is retried with backoff and
 * dead-lettered, can be sent again by an operator, and two dispatchers on one database (two replicas)
 * never deliver the same delivery twice. Time is the outbox's injected clock, moved by the tests.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { SettableClock } from '../../src/core/clock.js';
import type { CallContext } from '../../src/core/context.js';
import type { DeadLetters, DomainEvent, EventHandler } from '../../src/core/domain-events.js';
import { ToolError } from '../../src/core/errors.js';
import { assertValidToolDefinition } from '../../src/core/tool.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { Outbox, type OutboxOptions } from '../../src/events/outbox.js';
import { retryDelayMs } from '../../src/events/outbox.retry.js';
import { outboxTools } from '../../src/modules/admin/outbox.tools.js';
import { createTestDatabase } from '../harness/postgres.js';
import { waitUntil } from '../harness/wait.js';

/** Where the outbox's clock starts in every test (any instant works: nothing here reads the calendar). */
const START = '2031-05-12T08:00:00.000Z';

const TEST_TABLES = `
  CREATE SCHEMA outbox_test;
  -- What a handler did, once per (event, handler); a second delivery shows as deliveries = 2.
  CREATE TABLE outbox_test.effects (
    event_id text NOT NULL,
    handler text NOT NULL,
    deliveries integer NOT NULL,
    PRIMARY KEY (event_id, handler)
  );
  -- An idempotent handler's work, keyed by the event id.
  CREATE TABLE outbox_test.invoices (event_id text PRIMARY KEY, accession text NOT NULL);`;

interface Engine {
  database: Database;
  /** A second handle on the same database: another pool (PostgreSQL), the same engine (PGlite). */
  replica: Database;
  url?: string;
  cleanup(): Promise<void>;
}

async function openPostgres(): Promise<Engine> {
  const testDb = await createTestDatabase(inject('pgAdminUrl'));
  const database = await openDatabase(testConfig({ DATABASE_URL: testDb.url }));
  await migrate(database);
  const replica = await openDatabase(testConfig({ DATABASE_URL: testDb.url }));
  return {
    database,
    replica,
    url: testDb.url,
    async cleanup() {
      await replica.close();
      await database.close();
      await testDb.drop();
    },
  };
}

async function openPglite(): Promise<Engine> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-outbox-pglite-'));
  const database = await openDatabase(testConfig({ DATA_DIR: dir }));
  await migrate(database);
  return {
    database,
    replica: database,
    async cleanup() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const ENGINES = [
  { name: 'PostgreSQL', open: openPostgres },
  { name: 'PGlite', open: openPglite },
] as const;

let counter = 0;
/** A suffix that keeps each test's event types and handler names apart from the others'. */
const unique = () => `${(++counter).toString(36)}_${randomBytes(3).toString('hex')}`;

function recorder(name: string, types: readonly string[]) {
  const seen: DomainEvent[] = [];
  const handler: EventHandler = {
    name,
    types,
    async handle(event) {
      seen.push(event);
    },
  };
  return { handler, seen };
}

describe('retry delays', () => {
  it('double per attempt from the base, up to the cap, jittered between half and all of it', () => {
    const at = (attempt: number, random: number) =>
      retryDelayMs(attempt, { baseMs: 5_000, maxMs: 3_600_000, random: () => random });
    expect([1, 2, 3, 4].map((n) => at(n, 1))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect([1, 2, 3, 4].map((n) => at(n, 0))).toEqual([2_500, 5_000, 10_000, 20_000]);
    expect(at(11, 1)).toBe(3_600_000);
    expect(at(40, 0)).toBe(1_800_000);
  });
});

describe.each(ENGINES)('the outbox on $name', ({ name: engineName, open }) => {
  let engine: Engine;
  // biome-ignore lint/suspicious/noExplicitAny: the tests read the outbox's and their own tables directly
  let db: Kysely<any>;
  const started: Outbox[] = [];
  const logLines: string[] = [];
  const log = pino(
    { level: 'info' },
    {
      write(line: string) {
        logLines.push(line);
      },
    },
  );

  beforeAll(async () => {
    engine = await open();
    db = engine.database.db;
    const session = await engine.database.session();
    try {
      await session.exec(TEST_TABLES);
    } finally {
      await session.release();
    }
  }, 120_000);
  afterEach(async () => {
    await Promise.all(started.splice(0).map((outbox) => outbox.close()));
  });
  afterAll(async () => {
    await engine?.cleanup();
  });

  /**
   * An outbox on the test's clock, polling often, with its handlers started, plus `settle()`: publishes a
   * marker event and waits until it is delivered, so every pass that could have claimed what was due
   * before it has run.
   */
  async function startOutbox(
    handlers: readonly EventHandler[],
    options: OutboxOptions & { clock?: SettableClock; on?: Database } = {},
  ) {
    const clock = options.clock ?? new SettableClock(START);
    const outbox = new Outbox((options.on ?? engine.database).db, log, {
      pollIntervalMs: 20,
      ...options,
      now: () => clock.now(),
    });
    started.push(outbox);
    const marker = recorder(`test.marker_${unique()}`, [`test.marker_${unique()}.passed`]);
    await outbox.start([...handlers, marker.handler]);
    const settle = async () => {
      const key = `marker-${unique()}`;
      await outbox.publish(db, { type: marker.handler.types[0]!, key, payload: {} });
      await waitUntil(() => marker.seen.some((e) => e.key === key), { what: 'the marker event' });
    };
    return { outbox, clock, settle };
  }

  async function deliveriesOf(key: string) {
    return db
      .selectFrom('core.outbox_deliveries as d')
      .innerJoin('core.outbox_events as e', 'e.id', 'd.event_id')
      .select([
        'd.event_id',
        'd.handler',
        'd.status',
        'd.attempts',
        'd.next_attempt_at',
        'd.locked_until',
        'd.last_error',
        'd.delivered_at',
      ])
      .where('e.key', '=', key)
      .orderBy('d.handler')
      .execute();
  }

  /** The one delivery of `key`, once its latest attempt's outcome is written (no lease held). */
  async function settledDelivery(
    key: string,
    check: (d: Awaited<ReturnType<typeof deliveriesOf>>[0]) => boolean,
  ) {
    let found: Awaited<ReturnType<typeof deliveriesOf>>[0] | undefined;
    await waitUntil(
      async () => {
        const [delivery] = await deliveriesOf(key);
        found = delivery;
        return delivery !== undefined && delivery.locked_until === null && check(delivery);
      },
      { what: `the delivery of ${key}` },
    );
    return found!;
  }

  it('never delivers an event whose transaction rolled back; delivers the committed one', async () => {
    const u = unique();
    const type = `test.order_${u}.created`;
    const watcher = recorder(`test.watcher_${u}`, [type]);
    const { outbox, settle } = await startOutbox([watcher.handler]);

    await expect(
      db.transaction().execute(async (tx) => {
        await outbox.publish(tx, { type, key: `rolled-back-${u}`, payload: { n: 1 } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await db
      .transaction()
      .execute((tx) => outbox.publish(tx, { type, key: `committed-${u}`, payload: { n: 2 } }));

    await waitUntil(() => watcher.seen.length > 0, { what: 'the committed event' });
    await settle();
    expect(watcher.seen.map((e) => e.key)).toEqual([`committed-${u}`]);
    const rolledBack = await db
      .selectFrom('core.outbox_events')
      .select('id')
      .where('key', '=', `rolled-back-${u}`)
      .execute();
    expect(rolledBack).toEqual([]);
  });

  it('delivers a committed event once to each handler of its type, and to no other', async () => {
    const u = unique();
    const signed = `test.report_${u}.signed`;
    const amended = `test.report_${u}.amended`;
    const billing = recorder(`test.billing_${u}`, [signed]);
    const notify = recorder(`test.notify_${u}`, [signed, amended]);
    const other = recorder(`test.other_${u}`, [amended]);
    const { outbox, settle } = await startOutbox([billing.handler, notify.handler, other.handler]);

    const key = `RPT-${u}`;
    await db
      .transaction()
      .execute((tx) =>
        outbox.publish(tx, { type: signed, key, payload: { report_id: key, accession: 'ACC00001234' } }),
      );
    await waitUntil(async () => (await deliveriesOf(key)).every((d) => d.status === 'delivered'), {
      what: 'both deliveries',
    });
    await settle();
    await settle();

    const [event] = billing.seen;
    expect(event).toEqual({
      id: expect.stringMatching(/^[1-9][0-9]*$/),
      type: signed,
      key,
      payload: { report_id: key, accession: 'ACC00001234' },
      occurredAt: new Date(START),
    });
    expect(billing.seen).toEqual([event]);
    expect(notify.seen).toEqual([event]);
    expect(other.seen).toEqual([]);
    expect(
      (await deliveriesOf(key)).map((d) => ({ handler: d.handler, status: d.status, attempts: d.attempts })),
    ).toEqual([
      { handler: billing.handler.name, status: 'delivered', attempts: 1 },
      { handler: notify.handler.name, status: 'delivered', attempts: 1 },
    ]);
  });

  it('gives a handler added later only the events published after it started', async () => {
    const u = unique();
    const type = `test.patient_${u}.merged`;
    const earlier = new Outbox(db, log);
    await earlier.publish(db, { type, key: `before-${u}`, payload: {} });

    const late = recorder(`test.late_${u}`, [type]);
    const { outbox, settle } = await startOutbox([late.handler]);
    await outbox.publish(db, { type, key: `after-${u}`, payload: {} });
    await waitUntil(() => late.seen.length > 0, { what: 'the new event' });
    await settle();

    expect(late.seen.map((e) => e.key)).toEqual([`after-${u}`]);
    expect(await deliveriesOf(`before-${u}`)).toEqual([]);
  });

  it('stops delivering a type a handler no longer lists, skipping what was already queued', async () => {
    const u = unique();
    const kept = `test.order_${u}.created`;
    const dropped = `test.order_${u}.cancelled`;
    const clock = new SettableClock(START);
    const before = new Outbox(db, log, { now: () => clock.now() });
    await before.start([recorder(`test.reactor_${u}`, [kept, dropped]).handler]);
    await before.close();
    await before.publish(db, { type: dropped, key: `queued-${u}`, payload: {} });

    // The next version of the handler lists only one of the two types.
    const reactor = recorder(`test.reactor_${u}`, [kept]);
    const { outbox } = await startOutbox([reactor.handler], { clock });
    await settledDelivery(`queued-${u}`, (d) => d.status === 'delivered');
    await outbox.publish(db, { type: dropped, key: `later-${u}`, payload: {} });
    await outbox.publish(db, { type: kept, key: `kept-${u}`, payload: {} });
    await waitUntil(() => reactor.seen.length > 0, { what: 'the kept type' });

    expect(reactor.seen.map((e) => e.key)).toEqual([`kept-${u}`]);
    expect(await deliveriesOf(`later-${u}`)).toEqual([]);
  });

  it('retries a failing handler with backoff, dead-letters it, and delivers it again on retry', async () => {
    const u = unique();
    const type = `test.claim_${u}.submitted`;
    const handlerName = `test.flaky_${u}`;
    let broken = true;
    const attempts: number[] = [];
    const flaky: EventHandler = {
      name: handlerName,
      types: [type],
      async handle(_event, context) {
        attempts.push(context.attempt);
        if (broken) {
          throw Object.assign(new Error('medical aid refused claim for Thandi Mokoena'), {
            code: 'ECONNREFUSED',
          });
        }
      },
    };
    // Jitter fixed at the middle: after attempt n the delay is 3/4 of base·2^(n-1).
    const { outbox, clock, settle } = await startOutbox([flaky], {
      maxAttempts: 3,
      backoffBaseMs: 1_000,
      backoffMaxMs: 10_000,
      random: () => 0.5,
    });
    const t0 = clock.now().getTime();
    const key = `CLM-${u}`;
    await outbox.publish(db, { type, key, payload: { claim: key, note: 'payload-must-not-be-logged' } });

    const first = await settledDelivery(key, (d) => d.attempts === 1);
    expect(first).toMatchObject({ status: 'pending', last_error: 'Error: ECONNREFUSED', delivered_at: null });
    expect(new Date(first.next_attempt_at).getTime()).toBe(t0 + 750);

    // Not due yet: passes go by without touching it.
    clock.advance(749);
    await settle();
    expect((await deliveriesOf(key))[0]?.attempts).toBe(1);

    clock.advance(1);
    const second = await settledDelivery(key, (d) => d.attempts === 2);
    expect(second.status).toBe('pending');
    expect(new Date(second.next_attempt_at).getTime()).toBe(t0 + 750 + 1_500);

    clock.advance(1_500);
    const dead = await settledDelivery(key, (d) => d.status === 'dead');
    expect(dead).toMatchObject({ attempts: 3, last_error: 'Error: ECONNREFUSED' });
    expect(attempts).toEqual([1, 2, 3]);

    // Logged at warn, naming the delivery; neither the payload nor the error's message is logged.
    const eventId = String(dead.event_id);
    const warning = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.level === 40 && entry.event_id === eventId);
    expect(warning).toMatchObject({ handler: handlerName, event_type: type, err: 'Error: ECONNREFUSED' });
    const logged = logLines.join('\n');
    expect(logged).not.toContain('payload-must-not-be-logged');
    expect(logged).not.toContain('Mokoena');

    expect(await outbox.deadLetters({ limit: 100 })).toContainEqual({
      eventId,
      type,
      key,
      handler: handlerName,
      attempts: 3,
      lastError: 'Error: ECONNREFUSED',
      occurredAt: new Date(t0),
    });
    expect(await outbox.stats()).toMatchObject({ failed_total: 3, dead_lettered_total: 1 });
    expect((await outbox.stats()).dead).toBeGreaterThanOrEqual(1);

    // The admin tools, on this outbox.
    const admin: DeadLetters = outbox;
    const [listTool, retryTool] = outboxTools(admin);
    for (const tool of [listTool!, retryTool!]) assertValidToolDefinition(tool);
    const ctx = {} as CallContext; // the outbox tools read nothing from their caller
    const listed = listTool!.output.parse(await listTool!.handler(listTool!.input.parse({}), ctx)) as {
      dead_letters: unknown[];
    };
    expect(listed.dead_letters).toContainEqual({
      event_id: eventId,
      type,
      key,
      handler: handlerName,
      attempts: 3,
      last_error: 'Error: ECONNREFUSED',
      occurred_at: new Date(t0).toISOString(),
    });

    broken = false;
    const input = retryTool!.input.parse({ event_id: eventId, handler: handlerName });
    expect(retryTool!.output.parse(await retryTool!.handler(input, ctx))).toEqual({
      event_id: eventId,
      handler: handlerName,
      status: 'pending',
    });
    const delivered = await settledDelivery(key, (d) => d.status === 'delivered');
    expect(delivered.attempts).toBe(1);
    expect(attempts).toEqual([1, 2, 3, 1]);
    expect(await outbox.deadLetters({ limit: 100 })).not.toContainEqual(expect.objectContaining({ eventId }));

    await expect(retryTool!.handler(input, ctx)).rejects.toSatisfy(
      (error) => error instanceof ToolError && error.code === 'NOT_FOUND',
    );
    expect(await outbox.retryDead('not-an-id', handlerName)).toBe(false);
  });

  it('dead-letters a delivery whose last attempt never reported back (its replica died)', async () => {
    const u = unique();
    const type = `test.study_${u}.completed`;
    const calls = recorder(`test.crashing_${u}`, [type]);
    // A previous run subscribed the handler and published; then every attempt died with its process.
    const previous = new Outbox(db, log);
    await previous.start([calls.handler]);
    await previous.close();
    const key = `STU-${u}`;
    await previous.publish(db, { type, key, payload: {} });
    await db
      .updateTable('core.outbox_deliveries')
      .set({
        attempts: 2,
        lease_token: '00000000-0000-4000-8000-000000000000',
        locked_until: new Date(new Date(START).getTime() - 1),
      })
      .where('handler', '=', calls.handler.name)
      .execute();

    await startOutbox([calls.handler], { maxAttempts: 2 });
    const dead = await settledDelivery(key, (d) => d.status === 'dead');
    expect(dead).toMatchObject({ attempts: 3, last_error: 'LeaseExpired: no outcome recorded' });
    expect(calls.seen).toEqual([]);
  });

  it('counts a handler still running at the end of its lease as failed, and keeps delivering others', async () => {
    const u = unique();
    const type = `test.export_${u}.requested`;
    let release = () => {};
    const hung: EventHandler = {
      name: `test.hung_${u}`,
      types: [type],
      handle: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    };
    const { outbox, settle } = await startOutbox([hung], { leaseMs: 50, maxAttempts: 5 });
    const key = `EXP-${u}`;
    await outbox.publish(db, { type, key, payload: {} });
    const failed = await settledDelivery(key, (d) => d.attempts === 1);
    expect(failed).toMatchObject({ status: 'pending', last_error: 'TimeoutError: LEASE' });
    await settle(); // the loop goes on
    release();
  });

  it('with two dispatchers on one database (two replicas), delivers each delivery once', async () => {
    const u = unique();
    const type = `test.appointment_${u}.booked`;
    const handlerName = `test.effect_${u}`;
    const effectOn = (on: Database): EventHandler => ({
      name: handlerName,
      types: [type],
      async handle(event) {
        await sql`
          INSERT INTO outbox_test.effects (event_id, handler, deliveries) VALUES (${event.id}, ${handlerName}, 1)
          ON CONFLICT (event_id, handler) DO UPDATE SET deliveries = outbox_test.effects.deliveries + 1`.execute(
          on.db,
        );
      },
    });
    const options = { pollIntervalMs: 5, batchSize: 4 };
    const a = await startOutbox([effectOn(engine.database)], { ...options, on: engine.database });
    const b = await startOutbox([effectOn(engine.replica)], { ...options, on: engine.replica });

    const total = 60;
    for (let batch = 0; batch < total / 10; batch++) {
      const publisher = batch % 2 === 0 ? a.outbox : b.outbox;
      await (batch % 2 === 0 ? engine.database : engine.replica).db.transaction().execute(async (tx) => {
        for (let i = 0; i < 10; i++) {
          await publisher.publish(tx, { type, key: `APT-${u}-${batch * 10 + i}`, payload: {} });
        }
      });
    }
    const deliveries = () =>
      db.selectFrom('core.outbox_deliveries').selectAll().where('handler', '=', handlerName).execute();
    await waitUntil(
      async () => {
        const rows = await deliveries();
        return rows.length === total && rows.every((d) => d.status === 'delivered');
      },
      { what: `${total} deliveries` },
    );

    const effects = await db
      .selectFrom('outbox_test.effects')
      .select(['event_id', 'deliveries'])
      .where('handler', '=', handlerName)
      .execute();
    expect(effects).toHaveLength(total);
    expect(effects.filter((e) => e.deliveries !== 1)).toEqual([]);
    expect((await deliveries()).filter((d) => d.attempts !== 1)).toEqual([]);
  });

  it('an idempotent handler does its work once when a delivery is made again', async () => {
    const u = unique();
    const type = `test.report_${u}.signed`;
    const handlerName = `test.invoice_drafter_${u}`;
    let runs = 0;
    const drafter: EventHandler = {
      name: handlerName,
      types: [type],
      async handle(event) {
        runs += 1;
        await sql`
          INSERT INTO outbox_test.invoices (event_id, accession)
          VALUES (${event.id}, ${String(event.payload.accession)})
          ON CONFLICT (event_id) DO NOTHING`.execute(db);
      },
    };
    const { outbox } = await startOutbox([drafter]);
    const key = `RPT-${u}`;
    await outbox.publish(db, { type, key, payload: { accession: `ACC-${u}` } });
    const first = await settledDelivery(key, (d) => d.status === 'delivered');

    // A redelivery, as after a lost acknowledgement.
    await db
      .updateTable('core.outbox_deliveries')
      .set({ status: 'pending', delivered_at: null, next_attempt_at: new Date(START) })
      .where('event_id', '=', first.event_id)
      .where('handler', '=', handlerName)
      .execute();
    await waitUntil(() => runs === 2, { what: 'the redelivery' });
    await settledDelivery(key, (d) => d.status === 'delivered');

    const invoices = await db
      .selectFrom('outbox_test.invoices')
      .selectAll()
      .where('event_id', '=', String(first.event_id))
      .execute();
    expect(invoices).toEqual([{ event_id: String(first.event_id), accession: `ACC-${u}` }]);
  });

  it('lets a handler use the database, publishing in its own transaction (no deadlock on PGlite)', async () => {
    const u = unique();
    const signed = `test.report_${u}.signed`;
    const drafted = `test.invoice_${u}.drafted`;
    const chained = recorder(`test.after_draft_${u}`, [drafted]);
    let outbox: Outbox | undefined;
    const drafter: EventHandler = {
      name: `test.drafter_${u}`,
      types: [signed],
      async handle(event) {
        await db.transaction().execute(async (tx) => {
          await tx
            .insertInto('outbox_test.invoices')
            .values({ event_id: event.id, accession: event.key })
            .execute();
          await outbox!.publish(tx, { type: drafted, key: event.key, payload: { from: event.id } });
        });
      },
    };
    ({ outbox } = await startOutbox([drafter, chained.handler]));
    await outbox.publish(db, { type: signed, key: `RPT-${u}`, payload: {} });
    await waitUntil(() => chained.seen.length > 0, { what: 'the follow-up event' });
    expect(chained.seen[0]).toMatchObject({ type: drafted, key: `RPT-${u}` });
  });

  it('refuses malformed events and handler sets', async () => {
    const u = unique();
    const outbox = new Outbox(db, log);
    for (const type of ['OrderCreated', 'ris.order', 'ris.order.created.now', 'ris.Order.created']) {
      await expect(outbox.publish(db, { type, key: 'k', payload: {} })).rejects.toThrow(RangeError);
    }
    await expect(outbox.publish(db, { type: 'ris.order.created', key: '', payload: {} })).rejects.toThrow(
      /key must be/,
    );
    const big = { blob: 'x'.repeat(70_000) };
    await expect(outbox.publish(db, { type: 'ris.order.created', key: 'k', payload: big })).rejects.toThrow(
      /payload is \d+ bytes/,
    );

    const twin = recorder(`test.twin_${u}`, [`test.order_${u}.created`]);
    await expect(outbox.start([twin.handler, { ...twin.handler }])).rejects.toThrow(/Two event handlers/);
    await expect(outbox.start([recorder(`test.bad_${u}`, ['not-a-type']).handler])).rejects.toThrow(
      /not an event type/,
    );
    const { outbox: running } = await startOutbox([]);
    await expect(running.start([])).rejects.toThrow(/already running/);
  });

  it.runIf(engineName === 'PostgreSQL')("works under the application's database role (upc_app)", async () => {
    const role = `upc_app_outbox_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: engine.url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN IN ROLE upc_app`);
      const url = new URL(engine.url!);
      url.username = role;
      const asApp = await openDatabase(testConfig({ DATABASE_URL: url.toString() }));
      try {
        const u = unique();
        const type = `test.order_${u}.created`;
        const watcher = recorder(`test.app_role_${u}`, [type]);
        const { outbox } = await startOutbox([watcher.handler], { on: asApp });
        await asApp.db
          .transaction()
          .execute((tx) => outbox.publish(tx, { type, key: `k-${u}`, payload: {} }));
        await waitUntil(() => watcher.seen.length > 0, { what: 'the event, as upc_app' });
        await settledDelivery(`k-${u}`, (d) => d.status === 'delivered');
        expect(await outbox.stats()).toMatchObject({ delivered_total: expect.any(Number) });
        expect(await outbox.deadLetters({ limit: 5 })).toBeInstanceOf(Array);
        expect(await outbox.retryDead('1', watcher.handler.name)).toBe(false);
        expect(await outbox.prune(new Date(START))).toBeGreaterThanOrEqual(0);
        await Promise.all(started.splice(0).map((o) => o.close()));
      } finally {
        await asApp.close();
      }
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
