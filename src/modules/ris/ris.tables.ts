import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';

/** The row shapes of schema `ris` (src/modules/ris/migrations/0010_ris.sql), as Kysely sees them. */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** `date` columns: written as YYYY-MM-DD; read back as Date by pg, string by PGlite (normalised in the store). */
type DateColumn = ColumnType<Date | string, string, string>;
/** `time` columns come back as 'HH:MM:SS'. */
type TimeColumn = ColumnType<string, string, string>;

export const STUDY_STATUSES = [
  'BOOKED',
  'REGISTERED',
  'IN_PROGRESS',
  'COMPLETED',
  'REPORTED',
  'DELIVERED',
  'CANCELLED',
  'NO_SHOW',
] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

export const PRIORITIES = ['stat', 'urgent', 'routine'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const SEXES = ['M', 'F', 'O'] as const;
export type Sex = (typeof SEXES)[number];

export type RisTables = {
  'ris.settings': { key: string; value: string };
  'ris.modalities': { modality: string; description: string };
  'ris.rooms': {
    room_id: Generated<number>;
    room: string;
    description: string;
    modality: string;
    grid_minutes: Generated<number>;
    active: Generated<boolean>;
  };
  'ris.room_hours': {
    room_id: number;
    iso_weekday: number;
    opens_at: TimeColumn;
    closes_at: TimeColumn;
  };
  'ris.procedures': {
    procedure_code: string;
    description: string;
    modality: string;
    duration_minutes: number;
    active: Generated<boolean>;
    /** Migration 0018: what the patient does beforehand; the tariff items it is billed with. */
    preparation: string | null;
    tariff_codes: Generated<string[]>;
  };
  'ris.priority_rules': { priority: Priority; rank: number; horizon_days: number; same_day_only: boolean };
  'ris.referring_physicians': {
    physician_id: Generated<number>;
    practice_number: string;
    hpcsa_number: string;
    title: Generated<string>;
    family_name: string;
    given_names: string;
    phone: string | null;
    email: string | null;
    user_subject: string | null;
    created_at: Generated<Date>;
    /** Migration 0018: deactivated physicians stay (orders name them) but take no new orders. */
    active: Generated<boolean>;
    updated_at: Generated<Date>;
    /** Generated: ris.fold(title given_names family_name), for accent- and case-insensitive search. */
    search_name: ColumnType<string, never, never>;
  };
  'ris.patients': {
    patient_id: Generated<string>;
    family_name: string;
    given_names: string;
    birth_date: DateColumn;
    sex: Sex;
    phone: string | null;
    email: string | null;
    sa_id_number: string | null;
    medical_aid_scheme: string | null;
    medical_aid_number: string | null;
    created_at: Generated<Date>;
    created_by: string;
  };
  'ris.orders': {
    accession_number: string;
    patient_id: string;
    procedure_code: string;
    modality: string;
    clinical_indication: string;
    icd10_codes: string[];
    priority: Priority;
    referring_physician_id: number;
    created_at: Generated<Date>;
    created_by: string;
  };
  'ris.appointments': {
    appointment_id: Generated<number>;
    accession_number: string;
    room_id: number;
    start_at: Timestamp;
    end_at: Timestamp;
    status: Generated<StudyStatus>;
    created_at: Generated<Date>;
    created_by: string;
    updated_at: Generated<Date>;
  };
  'ris.status_history': {
    history_id: Generated<number>;
    appointment_id: number;
    from_status: StudyStatus | null;
    to_status: StudyStatus;
    changed_by: string;
    changed_by_role: string;
    changed_at: Generated<Date>;
    note: string | null;
  };
  /** Migration 0016: days the practice (room_id null) or a room is closed. */
  'ris.closures': {
    closure_id: Generated<number>;
    room_id: number | null;
    first_day: DateColumn;
    last_day: DateColumn;
    reason: string;
    created_by: string;
    created_at: Generated<Date>;
  };
  /** Migration 0016: a room open on a public holiday (its usual hours for that weekday). */
  'ris.holiday_openings': {
    room_id: number;
    day: DateColumn;
    reason: string | null;
    created_by: string;
    created_at: Generated<Date>;
  };
};

export type RisDb = Kysely<RisTables>;
export type RisTrx = Transaction<RisTables>;

/** The shared database seen through schema `ris`'s tables. */
export function risDb(database: Database): RisDb {
  return database.db.withTables<RisTables>();
}
