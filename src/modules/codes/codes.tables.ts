import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';

/** The row shapes of schema `codes` (src/modules/codes/migrations/0014_codes.sql), as Kysely sees them. */

/**
 * `date` columns: written as YYYY-MM-DD; pg reads them back as Date and PGlite as string, so the store
 * always selects them through `to_char` (see `day()` in the stores) and never reads the raw column.
 */
type DateColumn = ColumnType<Date | string, string, string>;
/** Computed by PostgreSQL (GENERATED ALWAYS): never written. */
type SearchColumn = ColumnType<string, never, never>;

export const TARIFF_KINDS = ['item', 'modifier'] as const;
export type TariffKind = (typeof TARIFF_KINDS)[number];

export type CodesTables = {
  'codes.icd10': {
    code: string;
    description: string;
    code_3: string;
    code_3_description: string;
    chapter_no: string;
    chapter_description: string;
    group_code: string;
    group_description: string;
    valid_clinical_use: boolean;
    valid_primary: boolean;
    asterisk: boolean;
    dagger: boolean;
    sequelae: boolean;
    age_range: string | null;
    age_min_years: number | null;
    age_under_years: number | null;
    gender: 'M' | 'F' | null;
    status: string | null;
    who_start_date: DateColumn | null;
    who_end_date: DateColumn | null;
    who_revision_history: string | null;
    sa_start_date: DateColumn | null;
    sa_end_date: DateColumn | null;
    mit_number: number | null;
    source: string;
    updated_at: Generated<Date>;
    search: SearchColumn;
  };
  'codes.tariff_items': {
    code: string;
    description: string;
    kind: TariffKind;
    modality: string | null;
    effective_from: DateColumn;
    effective_to: DateColumn | null;
    source: string;
    updated_at: Generated<Date>;
    search: SearchColumn;
  };
  'codes.tariff_tables': {
    table_id: string;
    description: string;
    source: string;
    updated_at: Generated<Date>;
  };
  'codes.tariff_prices': {
    table_id: string;
    code: string;
    effective_from: DateColumn;
    effective_to: DateColumn | null;
    amount_cents: number;
    source: string;
    updated_at: Generated<Date>;
  };
};

export type CodesDb = Kysely<CodesTables>;
export type CodesTrx = Transaction<CodesTables>;

export function codesDb(database: Database): CodesDb {
  return database.db.withTables<CodesTables>();
}
