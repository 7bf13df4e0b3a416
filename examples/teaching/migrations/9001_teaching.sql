-- Example module (docs/ADAPTER_INTERFACE.md): a teaching file. Add-on modules take versions from 9000
-- up, clear of the product's own sequence.
CREATE SCHEMA IF NOT EXISTS teaching;

CREATE TABLE teaching.cases (
  case_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  accession_number text NOT NULL UNIQUE,
  patient_id text NOT NULL,
  note text NOT NULL,
  added_by text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_patient ON teaching.cases (patient_id);

-- What the event handler did, once per event: redelivery finds its row and does nothing.
CREATE TABLE teaching.notices (
  event_id text PRIMARY KEY,
  case_id bigint NOT NULL REFERENCES teaching.cases (case_id),
  noticed_at timestamptz NOT NULL DEFAULT now()
);

-- The application's role (migration 0012) may read and write the module's tables.
GRANT USAGE ON SCHEMA teaching TO upc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA teaching TO upc_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA teaching TO upc_app;
