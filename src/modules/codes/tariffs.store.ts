/**
 * All of the tariff tables' SQL: items, tariff tables and prices with effective dates. Every function takes
 * the database (or transaction) handle first; rows become `TariffItem` / `TariffPrice` objects here.
 */
import { sql } from 'kysely';
import { escapeLike } from '../../db/sql-helpers.js';
import type { TariffItem, TariffPrice } from './codes.api.js';
import type { CodesDb, CodesTrx, TariffKind } from './codes.tables.js';
import { day } from './icd10.store.js';

export interface TariffItemRow {
  code: string;
  description: string;
  kind: TariffKind;
  modality: string | null;
  effective_from: string;
  effective_to: string | null;
  source: string;
}

export interface TariffPriceRow {
  table_id: string;
  code: string;
  effective_from: string;
  effective_to: string | null;
  amount_cents: number;
  source: string;
}

export interface WriteCounts {
  inserted: number;
  updated: number;
}

/** "in force on `on`": from <= on <= to (an open end never ends). */
const inForce = (from: string, to: string, on: string) =>
  sql<boolean>`${sql.ref(from)} <= ${on}::date AND (${sql.ref(to)} IS NULL OR ${sql.ref(to)} >= ${on}::date)`;

function toItem(row: {
  code: string;
  description: string;
  kind: TariffKind;
  modality: string | null;
  effective_from: string | null;
  effective_to: string | null;
  source: string;
}): TariffItem {
  return {
    code: row.code,
    description: row.description,
    kind: row.kind,
    modality: row.modality,
    effectiveFrom: row.effective_from!,
    effectiveTo: row.effective_to,
    source: row.source,
  };
}

const itemColumns = [
  'i.code',
  'i.description',
  'i.kind',
  'i.modality',
  day('i.effective_from').as('effective_from'),
  day('i.effective_to').as('effective_to'),
  'i.source',
] as const;

export async function tariffItemOn(db: CodesDb, code: string, on: string): Promise<TariffItem | undefined> {
  const row = await db
    .selectFrom('codes.tariff_items as i')
    .select(itemColumns)
    .where('i.code', '=', code)
    .where(inForce('i.effective_from', 'i.effective_to', on))
    .executeTakeFirst();
  return row ? toItem(row) : undefined;
}

export async function tariffPriceOn(
  db: CodesDb,
  table: string,
  code: string,
  on: string,
): Promise<TariffPrice | undefined> {
  const row = await db
    .selectFrom('codes.tariff_prices as p')
    .select([
      'p.table_id',
      'p.code',
      'p.amount_cents',
      day('p.effective_from').as('effective_from'),
      day('p.effective_to').as('effective_to'),
      'p.source',
    ])
    .where('p.table_id', '=', table)
    .where('p.code', '=', code)
    .where(inForce('p.effective_from', 'p.effective_to', on))
    .executeTakeFirst();
  return row
    ? {
        table: row.table_id,
        code: row.code,
        amountCents: Number(row.amount_cents),
        effectiveFrom: row.effective_from!,
        effectiveTo: row.effective_to,
        source: row.source,
      }
    : undefined;
}

export interface TariffSearch {
  /** Code prefix or words of the description; absent: every item. */
  query?: string | undefined;
  modality?: string | undefined;
  kind?: TariffKind | undefined;
  /** Only items in force on this day (YYYY-MM-DD). */
  on: string;
  /** Also the price in this tariff table on that day. */
  table?: string | undefined;
  limit: number;
}

export interface TariffSearchHit {
  item: TariffItem;
  /** The price in `table` on the day; null when the table has none (or no table was asked for). */
  price: TariffPrice | null;
}

/** Items in force on a day, by code prefix or description words (code matches first), with a price. */
export async function searchTariffItems(db: CodesDb, search: TariffSearch): Promise<TariffSearchHit[]> {
  const text = search.query?.trim() ?? '';
  let q = db
    .selectFrom('codes.tariff_items as i')
    .leftJoin('codes.tariff_prices as p', (join) =>
      join
        .onRef('p.code', '=', 'i.code')
        .on('p.table_id', '=', search.table ?? '')
        .on(inForce('p.effective_from', 'p.effective_to', search.on)),
    )
    .select([
      ...itemColumns,
      'p.table_id',
      'p.amount_cents',
      day('p.effective_from').as('price_from'),
      day('p.effective_to').as('price_to'),
      'p.source as price_source',
    ])
    .where(inForce('i.effective_from', 'i.effective_to', search.on));
  if (search.modality) q = q.where('i.modality', '=', search.modality);
  if (search.kind) q = q.where('i.kind', '=', search.kind);
  if (text !== '') {
    const prefix = `${escapeLike(text.toUpperCase())}%`;
    const words = sql`websearch_to_tsquery('english', ${text})`;
    q = q.where((eb) =>
      eb.or([
        eb('i.code', 'like', prefix),
        sql<boolean>`i.search @@ ${words}`,
        eb('i.description', 'ilike', `%${escapeLike(text)}%`),
      ]),
    );
    q = q.orderBy(sql<number>`CASE WHEN i.code LIKE ${prefix} THEN 0 ELSE 1 END`);
  }
  const rows = await q.orderBy('i.code').limit(search.limit).execute();
  return rows.map((row) => ({
    item: toItem(row),
    price:
      row.table_id === null || row.amount_cents === null
        ? null
        : {
            table: row.table_id,
            code: row.code,
            amountCents: Number(row.amount_cents),
            effectiveFrom: row.price_from!,
            effectiveTo: row.price_to,
            source: row.price_source!,
          },
  }));
}

/** The periods of every price in a table (for the importer's overlap check). */
export async function pricePeriods(
  trx: CodesTrx,
  table: string,
): Promise<{ code: string; from: string; to: string | null }[]> {
  const rows = await trx
    .selectFrom('codes.tariff_prices as p')
    .select(['p.code', day('p.effective_from').as('from'), day('p.effective_to').as('to')])
    .where('p.table_id', '=', table)
    .execute();
  return rows.map((row) => ({ code: row.code, from: row.from!, to: row.to }));
}

export async function upsertTariffTable(
  trx: CodesTrx,
  table: { table_id: string; description: string; source: string },
): Promise<void> {
  await trx
    .insertInto('codes.tariff_tables')
    .values(table)
    .onConflict((oc) =>
      oc.column('table_id').doUpdateSet((eb) => ({
        description: eb.ref('excluded.description'),
        source: eb.ref('excluded.source'),
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

/**
 * Writes items. An item's period only widens: it is in force from the earliest day and until the latest
 * day any import gave it (an open end stays open), so importing one year's table never hides another's.
 */
export async function upsertTariffItems(trx: CodesTrx, rows: readonly TariffItemRow[]): Promise<WriteCounts> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const from = sql<string>`LEAST(codes.tariff_items.effective_from, excluded.effective_from)`;
  const to = sql<
    string | null
  >`CASE WHEN codes.tariff_items.effective_to IS NULL OR excluded.effective_to IS NULL
    THEN NULL ELSE GREATEST(codes.tariff_items.effective_to, excluded.effective_to) END`;
  const written = await trx
    .insertInto('codes.tariff_items')
    .values([...rows])
    .onConflict((oc) =>
      oc
        .column('code')
        .doUpdateSet((eb) => ({
          description: eb.ref('excluded.description'),
          kind: eb.ref('excluded.kind'),
          modality: eb.ref('excluded.modality'),
          source: eb.ref('excluded.source'),
          effective_from: from,
          effective_to: to,
          updated_at: sql<Date>`now()`,
        }))
        .where(
          sql<boolean>`(codes.tariff_items.description, codes.tariff_items.kind, codes.tariff_items.modality,
            codes.tariff_items.source, codes.tariff_items.effective_from, codes.tariff_items.effective_to)
            IS DISTINCT FROM (excluded.description, excluded.kind, excluded.modality, excluded.source,
            ${from}, ${to})`,
        ),
    )
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
    .execute();
  const inserted = written.filter((row) => row.inserted).length;
  return { inserted, updated: written.length - inserted };
}

export async function upsertTariffPrices(
  trx: CodesTrx,
  rows: readonly TariffPriceRow[],
): Promise<WriteCounts> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const written = await trx
    .insertInto('codes.tariff_prices')
    .values([...rows])
    .onConflict((oc) =>
      oc
        .columns(['table_id', 'code', 'effective_from'])
        .doUpdateSet((eb) => ({
          effective_to: eb.ref('excluded.effective_to'),
          amount_cents: eb.ref('excluded.amount_cents'),
          source: eb.ref('excluded.source'),
          updated_at: sql<Date>`now()`,
        }))
        .where(
          sql<boolean>`(codes.tariff_prices.effective_to, codes.tariff_prices.amount_cents, codes.tariff_prices.source)
            IS DISTINCT FROM (excluded.effective_to, excluded.amount_cents, excluded.source)`,
        ),
    )
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
    .execute();
  const inserted = written.filter((row) => row.inserted).length;
  return { inserted, updated: written.length - inserted };
}

export interface TariffCounts {
  items: number;
  demoItems: number;
  tables: number;
  prices: number;
}

export async function countTariffs(db: CodesDb): Promise<TariffCounts> {
  const row = await db
    .selectNoFrom([
      sql<number>`(SELECT count(*) FROM codes.tariff_items)::int`.as('items'),
      sql<number>`(SELECT count(*) FROM codes.tariff_items WHERE source = 'demo')::int`.as('demo_items'),
      sql<number>`(SELECT count(*) FROM codes.tariff_tables)::int`.as('tables'),
      sql<number>`(SELECT count(*) FROM codes.tariff_prices)::int`.as('prices'),
    ])
    .executeTakeFirstOrThrow();
  return {
    items: Number(row.items),
    demoItems: Number(row.demo_items),
    tables: Number(row.tables),
    prices: Number(row.prices),
  };
}

/** Takes the tariff import lock for this transaction: imports (and demo loads) run one at a time. */
export async function lockTariffImports(trx: CodesTrx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('codes.tariffs import'))`.execute(trx);
}

/** The ids of every tariff table, in order. */
export async function tariffTableIds(db: CodesDb): Promise<string[]> {
  const rows = await db.selectFrom('codes.tariff_tables').select('table_id').orderBy('table_id').execute();
  return rows.map((row) => row.table_id);
}
