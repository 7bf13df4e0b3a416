/**
 * `upc-mcp transfer --to postgres://...`: moves a practice from the embedded database to PostgreSQL. The
 * target is migrated first (same schema, same migrations), then every row of every module's tables is
 * copied as it is (ids, hashes and timestamps unchanged, so the audit chain still verifies there) and the
 * id sequences are moved past the copied ids. Run it with the server stopped; the target must be empty.
 */
import { type Kysely, sql } from 'kysely';
import type { Config } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { fail, ok } from './output.js';

export const TRANSFER_HELP = `Usage: upc-mcp transfer --to postgres://user@host:5432/db

Copies the embedded database (DATA_DIR) into an empty PostgreSQL database: migrations first, then every
row (audit log included, hashes unchanged). Stop the server first; connect as the database owner (a role
that may set session_replication_role, usually the one that runs migrations).`;

/** Module schemas whose tables hold the practice's data (public holds only the migration ledger). */
const SCHEMAS = ['core', 'security', 'ris', 'audit'];
const PAGE = 5_000;

export async function transferCommand(config: Config, args: string[]): Promise<number> {
  const to = args[args.indexOf('--to') + 1];
  if (!args.includes('--to') || !to || !/^postgres(ql)?:\/\//.test(to)) {
    console.error(fail('give the target: --to postgres://user@host:5432/db'));
    return 2;
  }
  if (config.DATABASE_URL) {
    console.error(fail('transfer copies the embedded database (DATA_DIR); unset DATABASE_URL.'));
    return 2;
  }
  const source = await openDatabase({ ...config, DATABASE_STATEMENT_TIMEOUT_MS: 0 }); // owns DATA_DIR now
  const target = await openDatabase({
    ...config,
    DATABASE_URL: to,
    DATABASE_POOL_SIZE: 2,
    DATABASE_STATEMENT_TIMEOUT_MS: 0,
  });
  try {
    await migrate(source);
    await migrate(target);
    const tables = await tablesOf(source.db);
    // The target's migrations seeded reference rows (rooms, procedures, settings), which the source's
    // replace; practice data (patients, the audit log) means it is not a new database.
    const used = await sql<{ n: number }>`
      SELECT (SELECT count(*) FROM audit.events)::int + (SELECT count(*) FROM ris.patients)::int AS n`.execute(
      target.db,
    );
    if ((used.rows[0]?.n ?? 0) > 0) {
      console.error(
        fail(`${redacted(to)} already holds patients or audit events: transfer needs a new, empty database.`),
      );
      return 2;
    }
    let copied = 0;
    await target.db.transaction().execute(async (trx) => {
      // Rows go in as they are: foreign keys and the audit triggers are not re-checked row by row.
      await sql`SET LOCAL session_replication_role = replica`.execute(trx);
      for (const table of [...tables].reverse()) await sql`DELETE FROM ${sql.table(table)}`.execute(trx);
      for (const table of tables) {
        const n = await copyTable(source, trx, table);
        copied += n;
        console.log(ok(`${table}: ${n} rows`));
      }
      await copySequences(source.db, trx);
    });
    console.log(
      ok(`transferred ${copied} rows into ${redacted(to)}; point DATABASE_URL at it and start the server`),
    );
    return 0;
  } finally {
    await Promise.allSettled([source.close(), target.close()]);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tables are copied generically, by name
type AnyDb = Kysely<any>;

async function tablesOf(db: AnyDb): Promise<string[]> {
  const { rows } = await sql<{ schema: string; name: string }>`
    SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema IN (${sql.join(SCHEMAS)})
    ORDER BY array_position(${sql.val(SCHEMAS)}::text[], table_schema::text), table_name`.execute(db);
  return rows.map((r) => `${r.schema}.${r.name}`);
}

async function copyTable(source: Database, target: AnyDb, table: string): Promise<number> {
  const columns = await sql<{ name: string; type: string }>`
    SELECT column_name AS name, data_type AS type FROM information_schema.columns
    WHERE table_schema = ${table.split('.')[0]} AND table_name = ${table.split('.')[1]}
      AND is_generated = 'NEVER' ORDER BY ordinal_position`.execute(source.db);
  const names = columns.rows.map((c) => c.name);
  const json = new Set(
    columns.rows.filter((c) => c.type === 'json' || c.type === 'jsonb').map((c) => c.name),
  );
  let copied = 0;
  for (let offset = 0; ; offset += PAGE) {
    const page = await sql<Record<string, unknown>>`
      SELECT ${sql.join(names.map((n) => sql.ref(n)))} FROM ${sql.table(table)}
      ORDER BY 1 OFFSET ${offset} LIMIT ${PAGE}`.execute(source.db);
    if (page.rows.length === 0) break;
    await target
      .insertInto(table)
      .values(
        page.rows.map((row) =>
          Object.fromEntries(
            names.map((n) => [n, json.has(n) && row[n] !== null ? JSON.stringify(row[n]) : row[n]]),
          ),
        ),
      )
      .execute();
    copied += page.rows.length;
    if (page.rows.length < PAGE) break;
  }
  return copied;
}

/** Every sequence of the module schemas as the source has it (ids, MRNs, accession numbers go on from there). */
async function copySequences(source: AnyDb, target: AnyDb): Promise<void> {
  const { rows } = await sql<{ seq: string }>`
    SELECT sequence_schema || '.' || sequence_name AS seq FROM information_schema.sequences
    WHERE sequence_schema IN (${sql.join(SCHEMAS)})`.execute(source);
  for (const { seq } of rows) {
    const state = await sql<{ last_value: number; is_called: boolean }>`
      SELECT last_value, is_called FROM ${sql.table(seq)}`.execute(source);
    const current = state.rows[0];
    if (current)
      await sql`SELECT setval(${seq}, ${current.last_value}, ${current.is_called})`.execute(target);
  }
}

function redacted(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
