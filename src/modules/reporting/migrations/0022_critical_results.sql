-- Critical results (docs/REPORTING.md, "Critical results"): a report whose current version flags a critical
-- finding has an open critical result until its communication is recorded, once. The record is never
-- edited or deleted: the triggers below refuse UPDATE, DELETE and TRUNCATE whoever connects.
CREATE TABLE reporting.critical_communications (
  communication_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- One record per report: written once.
  report_id bigint NOT NULL UNIQUE REFERENCES reporting.reports (report_id),
  -- The version whose finding was communicated (its snapshot below).
  report_version integer NOT NULL,
  communicated_by text NOT NULL,
  communicated_by_role text NOT NULL,
  recipient text NOT NULL CHECK (length(btrim(recipient)) > 0),
  -- Server time (the product clock), never a parameter.
  communicated_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('CONFIRMED', 'REACHED_NO_READBACK', 'UNABLE_TO_REACH')),
  snapshot_findings text NOT NULL,
  snapshot_impression text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (report_id, report_version) REFERENCES reporting.report_versions (report_id, version)
);

CREATE FUNCTION reporting.refuse_communication_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    RAISE EXCEPTION 'critical-result communications cannot be truncated'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RAISE EXCEPTION 'critical-result communication % of report % is recorded and cannot be changed or deleted',
    OLD.communication_id, OLD.report_id USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER critical_communications_immutable BEFORE UPDATE OR DELETE ON reporting.critical_communications
  FOR EACH ROW EXECUTE FUNCTION reporting.refuse_communication_change();
CREATE TRIGGER critical_communications_no_truncate BEFORE TRUNCATE ON reporting.critical_communications
  FOR EACH STATEMENT EXECUTE FUNCTION reporting.refuse_communication_change();

-- The open-criticals list and gauge start from the flagged versions only.
CREATE INDEX report_versions_critical ON reporting.report_versions (report_id, version) WHERE critical_finding;
-- The worklists read reports by status.
CREATE INDEX reports_status ON reporting.reports (status, updated_at);

-- Cancelling and marking entered-in-error are versions too (who, when, why), unsigned, content unchanged.
ALTER TABLE reporting.report_versions DROP CONSTRAINT report_versions_change_check;
ALTER TABLE reporting.report_versions ADD CONSTRAINT report_versions_change_check CHECK (change IN (
  'created', 'updated', 'submitted', 'signed', 'addendum', 'correction', 'cancelled', 'entered-in-error'));

GRANT SELECT, INSERT ON reporting.critical_communications TO upc_app;
