-- RIS: patients, referring physicians, rooms and opening hours, orders, appointments, status history.
-- Reference data (modalities, rooms, hours, procedures, priority rules, the practice time zone) is seeded
-- here as rows, not constants in code: a practice edits the rows, the code reads them.
CREATE SCHEMA IF NOT EXISTS ris;

CREATE TABLE ris.settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
-- Africa/Johannesburg is UTC+02:00 all year (no DST); times are stored as timestamptz and shown with
-- an explicit offset in this zone.
INSERT INTO ris.settings (key, value) VALUES ('time_zone', 'Africa/Johannesburg');

CREATE TABLE ris.modalities (
  modality text PRIMARY KEY CHECK (modality ~ '^[A-Z]{2,3}$'),
  description text NOT NULL
);

CREATE TABLE ris.rooms (
  room_id serial PRIMARY KEY,
  room text NOT NULL UNIQUE,
  description text NOT NULL,
  modality text NOT NULL REFERENCES ris.modalities,
  -- Free slots are offered on this grid from opening time (an explicitly requested time may be off-grid).
  grid_minutes integer NOT NULL DEFAULT 15 CHECK (grid_minutes BETWEEN 1 AND 240),
  active boolean NOT NULL DEFAULT true
);

-- Several rows per day describe a lunch break; closes_at may be 24:00.
CREATE TABLE ris.room_hours (
  room_id integer NOT NULL REFERENCES ris.rooms ON DELETE CASCADE,
  iso_weekday smallint NOT NULL CHECK (iso_weekday BETWEEN 1 AND 7),
  opens_at time NOT NULL,
  closes_at time NOT NULL,
  PRIMARY KEY (room_id, iso_weekday, opens_at),
  CHECK (closes_at > opens_at)
);

CREATE TABLE ris.procedures (
  procedure_code text PRIMARY KEY,
  description text NOT NULL,
  modality text NOT NULL REFERENCES ris.modalities,
  duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
  active boolean NOT NULL DEFAULT true
);

-- How far ahead each priority may be booked, and its place in the worklist order.
CREATE TABLE ris.priority_rules (
  priority text PRIMARY KEY CHECK (priority IN ('stat', 'urgent', 'routine')),
  rank smallint NOT NULL UNIQUE,
  horizon_days integer NOT NULL CHECK (horizon_days >= 0),
  same_day_only boolean NOT NULL
);

CREATE TABLE ris.referring_physicians (
  physician_id serial PRIMARY KEY,
  practice_number text NOT NULL UNIQUE,
  hpcsa_number text NOT NULL UNIQUE,
  title text NOT NULL DEFAULT 'Dr',
  family_name text NOT NULL,
  given_names text NOT NULL,
  phone text,
  email text,
  -- The login subject of this physician, so a referring_doctor token sees the patients they referred.
  user_subject text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE ris.patient_number_seq START 100001;
CREATE TABLE ris.patients (
  patient_id text PRIMARY KEY
    DEFAULT 'UPC' || lpad(nextval('ris.patient_number_seq')::text, 6, '0')
    CHECK (patient_id ~ '^[A-Z0-9]{3,16}$'),
  family_name text NOT NULL,
  given_names text NOT NULL,
  birth_date date NOT NULL,
  sex text NOT NULL CHECK (sex IN ('M', 'F', 'O')),
  phone text,
  email text,
  sa_id_number text UNIQUE CHECK (sa_id_number ~ '^[0-9]{13}$'),
  medical_aid_scheme text,
  medical_aid_number text,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  CHECK ((medical_aid_scheme IS NULL) = (medical_aid_number IS NULL))
);
CREATE INDEX patients_family_name ON ris.patients (lower(family_name) text_pattern_ops);
CREATE INDEX patients_birth_date ON ris.patients (birth_date);

CREATE SEQUENCE ris.accession_seq START 1;
CREATE TABLE ris.orders (
  accession_number text PRIMARY KEY CHECK (accession_number ~ '^[A-Z0-9]{1,16}$'),
  patient_id text NOT NULL REFERENCES ris.patients,
  procedure_code text NOT NULL REFERENCES ris.procedures,
  modality text NOT NULL REFERENCES ris.modalities,
  clinical_indication text NOT NULL,
  icd10_codes text[] NOT NULL CHECK (cardinality(icd10_codes) >= 1),
  priority text NOT NULL REFERENCES ris.priority_rules,
  referring_physician_id integer NOT NULL REFERENCES ris.referring_physicians,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL
);
CREATE INDEX orders_patient ON ris.orders (patient_id);
CREATE INDEX orders_physician ON ris.orders (referring_physician_id);

CREATE TABLE ris.appointments (
  appointment_id bigserial PRIMARY KEY,
  accession_number text NOT NULL REFERENCES ris.orders,
  room_id integer NOT NULL REFERENCES ris.rooms,
  start_at timestamptz NOT NULL,
  end_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'BOOKED' CHECK (status IN (
    'BOOKED', 'REGISTERED', 'IN_PROGRESS', 'COMPLETED', 'REPORTED', 'DELIVERED', 'CANCELLED', 'NO_SHOW')),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at > start_at),
  -- No double booking, enforced by the database. A room is a one-point int4range so that both columns use
  -- the built-in range GiST operator class: no btree_gist extension needed, which PGlite cannot load as
  -- the server opens it. A cancelled or missed appointment frees its time.
  CONSTRAINT appointments_no_double_booking EXCLUDE USING gist (
    int4range(room_id, room_id, '[]') WITH &&,
    tstzrange(start_at, end_at) WITH &&
  ) WHERE (status NOT IN ('CANCELLED', 'NO_SHOW'))
);
-- One live appointment per order; a cancelled or missed one may be booked again.
CREATE UNIQUE INDEX appointments_one_live_per_order ON ris.appointments (accession_number)
  WHERE status NOT IN ('CANCELLED', 'NO_SHOW');
-- The worklist reads one day by start time.
CREATE INDEX appointments_start ON ris.appointments (start_at);

CREATE TABLE ris.status_history (
  history_id bigserial PRIMARY KEY,
  appointment_id bigint NOT NULL REFERENCES ris.appointments,
  from_status text,
  to_status text NOT NULL,
  changed_by text NOT NULL,
  changed_by_role text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  note text
);
CREATE INDEX status_history_appointment ON ris.status_history (appointment_id, history_id);

-- Demo reference data (a practice replaces these rows with its own).
INSERT INTO ris.modalities (modality, description) VALUES
  ('CT', 'Computed tomography'),
  ('MR', 'Magnetic resonance'),
  ('CR', 'Computed radiography (X-ray)'),
  ('US', 'Ultrasound'),
  ('MG', 'Mammography');

INSERT INTO ris.rooms (room, description, modality, grid_minutes) VALUES
  ('CT-1', 'CT scanner 1 (Siemens)', 'CT', 15),
  ('CT-2', 'CT scanner 2 (GE)', 'CT', 15),
  ('MR-1', 'MRI 1.5T', 'MR', 15),
  ('XR-1', 'General X-ray room 1', 'CR', 10),
  ('US-1', 'Ultrasound room 1', 'US', 15),
  ('MG-1', 'Mammography room', 'MG', 15);

-- Weekdays 07:00-18:00; X-ray and CT-1 also Saturday morning.
INSERT INTO ris.room_hours (room_id, iso_weekday, opens_at, closes_at)
SELECT r.room_id, d, time '07:00', time '18:00' FROM ris.rooms r, generate_series(1, 5) AS d;
INSERT INTO ris.room_hours (room_id, iso_weekday, opens_at, closes_at)
SELECT r.room_id, 6, time '08:00', time '13:00' FROM ris.rooms r WHERE r.room IN ('XR-1', 'CT-1');

-- NRPL-style tariff codes as procedure codes; durations are the slot length booked.
INSERT INTO ris.procedures (procedure_code, description, modality, duration_minutes) VALUES
  ('3011', 'CT head without contrast', 'CT', 15),
  ('3021', 'CT chest with contrast', 'CT', 30),
  ('3041', 'CT abdomen and pelvis with contrast', 'CT', 30),
  ('3111', 'MRI brain', 'MR', 45),
  ('3161', 'MRI lumbar spine', 'MR', 45),
  ('3181', 'MRI knee', 'MR', 30),
  ('0101', 'Chest X-ray PA and lateral', 'CR', 10),
  ('0301', 'X-ray wrist', 'CR', 10),
  ('0501', 'X-ray lower leg (tibia and fibula)', 'CR', 10),
  ('4011', 'Ultrasound abdomen', 'US', 30),
  ('4031', 'Ultrasound obstetric', 'US', 30),
  ('3601', 'Mammography bilateral', 'MG', 20);

INSERT INTO ris.priority_rules (priority, rank, horizon_days, same_day_only) VALUES
  ('stat', 0, 0, true),
  ('urgent', 1, 2, false),
  ('routine', 2, 90, false);
