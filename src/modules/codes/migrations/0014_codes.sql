-- Reference codes shared by RIS, reporting and billing: ICD-10 (WHO, as the South African Master Industry
-- Table publishes it) and tariff items with prices per tariff table, all with effective dates. Rows come
-- from files (`upc-mcp import icd10|tariffs FILE`) or from the demo set (source 'demo'), never from
-- constants in code. Dates are calendar days in the practice's time zone; an end date is the last day on
-- which the code (or price) is in force, and NULL means "no end".
CREATE SCHEMA IF NOT EXISTS codes;

-- One row per ICD-10 code of the MIT (about 41,000), including the three-character headings.
CREATE TABLE codes.icd10 (
  code text PRIMARY KEY CHECK (code ~ '^[A-Z][0-9]{2}(\.[0-9]{1,2})?$'),
  -- WHO_Full_Desc
  description text NOT NULL CHECK (description <> ''),
  code_3 text NOT NULL CHECK (code_3 ~ '^[A-Z][0-9]{2}$'),
  code_3_description text NOT NULL,
  chapter_no text NOT NULL,
  chapter_description text NOT NULL,
  group_code text NOT NULL,
  group_description text NOT NULL,
  valid_clinical_use boolean NOT NULL,
  valid_primary boolean NOT NULL,
  asterisk boolean NOT NULL,
  dagger boolean NOT NULL,
  sequelae boolean NOT NULL,
  -- Age_Range as published ('0-28 days', '> 19 years', ...) and what could be read from it: the code fits
  -- a patient whose exact age in years is >= age_min_years and < age_under_years (NULL: no bound). Both
  -- NULL with a non-empty age_range means the text was not understood, so age is not checked.
  age_range text,
  age_min_years double precision CHECK (age_min_years >= 0),
  age_under_years double precision CHECK (age_under_years > 0),
  -- NULL: either sex.
  gender text CHECK (gender IN ('M', 'F')),
  status text,
  who_start_date date,
  who_end_date date,
  who_revision_history text,
  sa_start_date date,
  sa_end_date date,
  -- The MIT's own row number.
  mit_number integer,
  -- 'demo' (src/modules/codes/demo/icd10-demo.csv) or 'mit:<file name>'.
  source text NOT NULL CHECK (source = 'demo' OR source ~ '^mit:.+'),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Full-text search: the code's own description weighs more than its three-character heading's.
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', description), 'A') ||
    setweight(to_tsvector('english', code_3_description), 'B')
  ) STORED,
  CHECK (left(code, 3) = code_3),
  CHECK (age_min_years IS NULL OR age_under_years IS NULL OR age_min_years < age_under_years),
  CHECK (sa_end_date IS NULL OR sa_start_date IS NULL OR sa_end_date >= sa_start_date)
);
CREATE INDEX icd10_search ON codes.icd10 USING gin (search);
-- Code prefix search ('S06', 'S06.') whatever the database's collation.
CREATE INDEX icd10_code_prefix ON codes.icd10 (code text_pattern_ops);
CREATE INDEX icd10_code_3 ON codes.icd10 (code_3);

-- Tariff item codes (radiology items and modifiers), one row per code, with the period it is in force.
CREATE TABLE codes.tariff_items (
  code text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{0,19}$'),
  description text NOT NULL CHECK (description <> ''),
  kind text NOT NULL CHECK (kind IN ('item', 'modifier')),
  modality text CHECK (modality ~ '^[A-Z]{2,3}$'),
  effective_from date NOT NULL,
  effective_to date,
  -- 'demo' (src/modules/codes/demo/tariffs-demo.csv) or 'import:<file name>'.
  source text NOT NULL CHECK (source = 'demo' OR source ~ '^import:.+'),
  updated_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (to_tsvector('english', description)) STORED,
  CHECK (effective_to IS NULL OR effective_to >= effective_from)
);
CREATE INDEX tariff_items_search ON codes.tariff_items USING gin (search);
CREATE INDEX tariff_items_code_prefix ON codes.tariff_items (code text_pattern_ops);

-- A price list: one per scheme and year, or the practice's own ('demo' for the demo set). Schemes pick
-- their table in billing.
CREATE TABLE codes.tariff_tables (
  table_id text PRIMARY KEY CHECK (table_id ~ '^[a-z0-9][a-z0-9._-]{0,39}$'),
  description text NOT NULL,
  source text NOT NULL CHECK (source = 'demo' OR source ~ '^import:.+'),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Prices in integer cents (ZAR, as published: VAT is billing's business), with effective dates.
CREATE TABLE codes.tariff_prices (
  table_id text NOT NULL REFERENCES codes.tariff_tables ON DELETE CASCADE,
  code text NOT NULL REFERENCES codes.tariff_items,
  effective_from date NOT NULL,
  effective_to date,
  amount_cents integer NOT NULL CHECK (amount_cents >= 0),
  source text NOT NULL CHECK (source = 'demo' OR source ~ '^import:.+'),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_id, code, effective_from),
  CHECK (effective_to IS NULL OR effective_to >= effective_from)
);
CREATE INDEX tariff_prices_code ON codes.tariff_prices (code);

-- At most one price per table, code and day. An exclusion constraint would need btree_gist for the text
-- columns, which PGlite cannot load, so a constraint trigger checks it, deferred to commit so that an
-- import may shorten one period and add the next in either order. It re-reads the row: a later update in
-- the same transaction has its own check.
CREATE FUNCTION codes.refuse_overlapping_price() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cur codes.tariff_prices;
  other codes.tariff_prices;
BEGIN
  SELECT * INTO cur FROM codes.tariff_prices p
  WHERE p.table_id = NEW.table_id AND p.code = NEW.code AND p.effective_from = NEW.effective_from;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT * INTO other FROM codes.tariff_prices p
  WHERE p.table_id = cur.table_id AND p.code = cur.code AND p.effective_from <> cur.effective_from
    AND daterange(p.effective_from, p.effective_to, '[]') && daterange(cur.effective_from, cur.effective_to, '[]')
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'Tariff table % has two prices for % on the same days: from % and from %',
      cur.table_id, cur.code, other.effective_from, cur.effective_from
      USING ERRCODE = 'exclusion_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER tariff_prices_no_overlap
  AFTER INSERT OR UPDATE ON codes.tariff_prices
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION codes.refuse_overlapping_price();

-- The application's role (0012_audit_append_only_roles.sql) reads the codes and, for imports and the demo
-- set, writes them, as for schema ris.
GRANT USAGE ON SCHEMA codes TO upc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA codes TO upc_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA codes TO upc_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA codes GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO upc_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA codes GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO upc_app;
