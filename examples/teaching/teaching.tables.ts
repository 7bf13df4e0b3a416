import type { ColumnType, Generated, Kysely } from 'kysely';
import type { Database } from '../../src/db/database.js';

/** The row shapes of schema `teaching` (migrations/9001_teaching.sql), as Kysely sees them. */
export type TeachingTables = {
  'teaching.cases': {
    case_id: Generated<number>;
    accession_number: string;
    patient_id: string;
    note: string;
    added_by: string;
    added_at: ColumnType<Date, never, never>;
  };
  'teaching.notices': {
    event_id: string;
    case_id: number;
    noticed_at: ColumnType<Date, never, never>;
  };
};

export type TeachingDb = Kysely<TeachingTables>;

export function teachingDb(database: Database): TeachingDb {
  return database.db.withTables<TeachingTables>();
}
