-- Reference data kept by the practice through tools and CSV imports (ris.reference.tools.ts,
-- `upc-mcp import physicians|procedures|rooms`), no longer by editing rows.

-- Procedures: what the patient must do beforehand, and the tariff items the procedure is billed with
-- (codes in codes.tariff_items, checked through the codes module when set: no foreign key across modules).
ALTER TABLE ris.procedures
  ADD COLUMN preparation text CHECK (length(preparation) <= 2000),
  ADD COLUMN tariff_codes text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tariff_codes) <= 10);
-- The seeded procedures are billed under their own (NRPL-style) codes.
UPDATE ris.procedures SET tariff_codes = ARRAY[procedure_code] WHERE procedure_code ~ '^[0-9]{4}$';

-- Folds text for searching by name: common Latin accents removed (unaccent is not available on every
-- engine, e.g. embedded PGlite), then lower case. Searches fold what is typed with the same function.
CREATE FUNCTION ris.fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT lower(translate($1,
    'ÀÁÂÃÄÅĀĂĄàáâãäåāăąÇĆČçćčĎďÈÉÊËĒĖĘĚèéêëēėęěÌÍÎÏĪĮìíîïīįŁłÑŃŇñńňÒÓÔÕÖØŌŐòóôõöøōőŔŘŕřŚŠŞśšşȚŤțťÙÚÛÜŪŮŰŲùúûüūůűųÝŸýÿŹŻŽźżž',
    'AAAAAAAAAaaaaaaaaaCCCcccDdEEEEEEEEeeeeeeeeIIIIIIiiiiiiLlNNNnnnOOOOOOOOooooooooRRrrSSSsssTTttUUUUUUUUuuuuuuuuYYyyZZZzzz'))
$$;

-- Referring physicians: deactivated rather than deleted (orders keep pointing at them), and found by name
-- whatever the accents and case.
ALTER TABLE ris.referring_physicians
  ADD COLUMN active boolean NOT NULL DEFAULT true,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN search_name text GENERATED ALWAYS AS (
    ris.fold(title || ' ' || given_names || ' ' || family_name)) STORED;

-- A room name is unique whatever its case: tools find rooms by upper(room).
CREATE UNIQUE INDEX rooms_room_upper ON ris.rooms (upper(room));
