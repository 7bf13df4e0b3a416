/** One transaction per write call, on the engine with a single connection (PGlite). */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { waitUntil } from '../harness/wait.js';

describe('call transactions on PGlite', () => {
  let dir: string;
  let database: Database;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'upc-call-tx-'));
    database = await openDatabase(testConfig({ DATA_DIR: dir }));
    await sql`CREATE TABLE notes (text text)`.execute(database.db);
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A call that waits on `gate` part-way, after `before` has run inside it. */
  function callWaitingOn(gate: Promise<void>, before: () => Promise<unknown>) {
    let reachedGate = false;
    const call = database.runInCallTransaction(async () => {
      await before();
      reachedGate = true;
      await gate;
      await sql`INSERT INTO notes VALUES ('from the call')`.execute(database.db);
    });
    return { call, reachedGate: () => reachedGate };
  }

  it('a call that has not touched the database yet holds no connection (others run meanwhile)', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { call, reachedGate } = callWaitingOn(gate, async () => {});
    await waitUntil(reachedGate, { what: 'the call to reach its gate' });
    // Another caller's statement runs at once although the call is still going on.
    const other = await sql<{ n: number }>`SELECT count(*)::int AS n FROM notes`.execute(database.db);
    expect(other.rows[0]?.n).toBe(0);
    open();
    await call;
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM notes`.execute(database.db);
    expect(after.rows[0]?.n).toBe(1);
  });

  it('once it has, others wait for its commit and never run inside its transaction', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { call, reachedGate } = callWaitingOn(gate, () =>
      sql`INSERT INTO notes VALUES ('first')`.execute(database.db),
    );
    await waitUntil(reachedGate, { what: 'the call to reach its gate' });
    let seen: number | undefined;
    const other = sql<{ n: number }>`SELECT count(*)::int AS n FROM notes`.execute(database.db).then((r) => {
      seen = r.rows[0]?.n;
    });
    open();
    await Promise.all([call, other]);
    // It ran after the call committed: both of the call's rows, never half of them.
    expect(seen).toBe(3);
  });

  it('a failing call leaves nothing behind', async () => {
    await expect(
      database.runInCallTransaction(async () => {
        await sql`INSERT INTO notes VALUES ('rolled back')`.execute(database.db);
        throw new Error('the handler failed');
      }),
    ).rejects.toThrow('the handler failed');
    const rows = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM notes WHERE text = 'rolled back'`.execute(database.db);
    expect(rows.rows[0]?.n).toBe(0);
  });
});
