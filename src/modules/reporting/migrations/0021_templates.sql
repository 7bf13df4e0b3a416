-- Report templates (docs/REPORTING.md "Templates"): IHE MRRT files, sanitised on import, kept as a model
-- (sections, fields with their completion actions, macros) plus the sanitised file. A template is never
-- changed once stored: reports made from it read its fields when they are signed.
CREATE TABLE reporting.templates (
  template_id text PRIMARY KEY CHECK (template_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'),
  title text NOT NULL,
  modality text NOT NULL,
  body_part text NOT NULL,
  definition jsonb NOT NULL,
  sanitised_html text NOT NULL,
  source text NOT NULL CHECK (source IN ('demo', 'import')),
  imported_by text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX templates_modality_body_part ON reporting.templates (modality, body_part);

-- Which template a report was made from (one at most, set when the report is created).
CREATE TABLE reporting.report_templates (
  report_id bigint PRIMARY KEY REFERENCES reporting.reports (report_id),
  template_id text NOT NULL REFERENCES reporting.templates (template_id),
  macro text,
  applied_by text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION reporting.refuse_template_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% of % cannot be changed or deleted', TG_TABLE_NAME, COALESCE(OLD.template_id, '?')
    USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER templates_immutable BEFORE UPDATE OR DELETE ON reporting.templates
  FOR EACH ROW EXECUTE FUNCTION reporting.refuse_template_change();
CREATE TRIGGER report_templates_immutable BEFORE UPDATE OR DELETE ON reporting.report_templates
  FOR EACH ROW EXECUTE FUNCTION reporting.refuse_template_change();

GRANT SELECT, INSERT ON reporting.templates, reporting.report_templates TO upc_app;
