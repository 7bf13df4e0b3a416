-- Reporting (docs/REPORTING.md): one report per accession number, every change kept as a version.
-- Statuses follow FHIR R4 DiagnosticReport.status. A signed version (signed_at set) is immutable: the
-- trigger below refuses UPDATE and DELETE of its row whoever asks, the application or raw SQL.
CREATE SCHEMA IF NOT EXISTS reporting;

-- The report's head: where it stands now. Its content lives in its versions.
CREATE TABLE reporting.reports (
  report_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  accession_number text NOT NULL,
  patient_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'preliminary', 'final', 'amended', 'appended', 'corrected',
    'cancelled', 'entered-in-error')),
  version integer NOT NULL CHECK (version >= 1),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- One live report per study; a cancelled one or one entered in error leaves room for a new one.
CREATE UNIQUE INDEX reports_one_live_per_accession ON reporting.reports (accession_number)
  WHERE status NOT IN ('cancelled', 'entered-in-error');
CREATE INDEX reports_patient ON reporting.reports (patient_id);

-- Every version, append-only: who changed what, when; the signature on signed ones.
CREATE TABLE reporting.report_versions (
  report_id bigint NOT NULL REFERENCES reporting.reports (report_id),
  version integer NOT NULL CHECK (version >= 1),
  status text NOT NULL,
  change text NOT NULL CHECK (change IN ('created', 'updated', 'submitted', 'signed', 'addendum', 'correction')),
  clinical_history text NOT NULL DEFAULT '',
  technique text NOT NULL DEFAULT '',
  comparison text NOT NULL DEFAULT '',
  findings text NOT NULL DEFAULT '',
  impression text NOT NULL DEFAULT '',
  recommendations text NOT NULL DEFAULT '',
  addendum text,
  critical_finding boolean NOT NULL DEFAULT false,
  icd10_codes text[] NOT NULL DEFAULT '{}',
  reason text,
  predecessor_version integer,
  changed_by text NOT NULL,
  changed_by_role text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  signed_by text,
  signed_at timestamptz,
  content_sha256 text,
  PRIMARY KEY (report_id, version),
  CHECK ((signed_at IS NULL) = (signed_by IS NULL) AND (signed_at IS NULL) = (content_sha256 IS NULL)),
  CHECK (content_sha256 IS NULL OR content_sha256 ~ '^[0-9a-f]{64}$'),
  CHECK (predecessor_version IS NULL OR predecessor_version < version)
);

-- Signed versions are immutable; unsigned ones are history and are not rewritten either.
CREATE FUNCTION reporting.refuse_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.signed_at IS NOT NULL THEN
    RAISE EXCEPTION 'report % version % is signed and cannot be changed or deleted', OLD.report_id, OLD.version
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RAISE EXCEPTION 'report % version % is history and cannot be changed or deleted', OLD.report_id, OLD.version
    USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER report_versions_immutable BEFORE UPDATE OR DELETE ON reporting.report_versions
  FOR EACH ROW EXECUTE FUNCTION reporting.refuse_version_change();
CREATE FUNCTION reporting.refuse_version_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'report versions cannot be truncated' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER report_versions_no_truncate BEFORE TRUNCATE ON reporting.report_versions
  FOR EACH STATEMENT EXECUTE FUNCTION reporting.refuse_version_truncate();

-- The head may not leave the signed world for an editable state, nor lose its versions' numbering.
CREATE FUNCTION reporting.guard_report_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'report % cannot be deleted', OLD.report_id USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.status IN ('final', 'amended', 'appended', 'corrected', 'entered-in-error', 'cancelled')
     AND NEW.status IN ('draft', 'preliminary') THEN
    RAISE EXCEPTION 'report % is % and cannot go back to %', OLD.report_id, OLD.status, NEW.status
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.version < OLD.version OR NEW.accession_number <> OLD.accession_number
     OR NEW.patient_id <> OLD.patient_id THEN
    RAISE EXCEPTION 'report % cannot move to another study or an older version', OLD.report_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER reports_guard BEFORE UPDATE OR DELETE ON reporting.reports
  FOR EACH ROW EXECUTE FUNCTION reporting.guard_report_head();

GRANT USAGE ON SCHEMA reporting TO upc_app;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA reporting TO upc_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA reporting TO upc_app;
