-- The practice profile: who the practice is, as its documents (reports, invoices, letters) show it. One row,
-- practice-wide, read by every module (src/core/practice-profile.ts) and written by the admin tool
-- admin_update_practice_profile. The practice's time zone is NOT a column here: it stays the one row
-- core.instance_settings.time_zone (0011), which PracticeZone reads; the profile shows and changes that row.
CREATE TABLE core.practice_profile (
  -- Exactly one row: the key can only be true.
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  name text CHECK (length(name) BETWEEN 1 AND 120),
  -- BHF PCNS practice number: 7 digits (no published check digit).
  practice_number text CHECK (practice_number ~ '^[0-9]{7}$'),
  address_line1 text CHECK (length(address_line1) BETWEEN 1 AND 120),
  address_line2 text CHECK (length(address_line2) BETWEEN 1 AND 120),
  suburb text CHECK (length(suburb) BETWEEN 1 AND 80),
  city text CHECK (length(city) BETWEEN 1 AND 80),
  province text CHECK (province IN (
    'Eastern Cape', 'Free State', 'Gauteng', 'KwaZulu-Natal', 'Limpopo', 'Mpumalanga', 'North West',
    'Northern Cape', 'Western Cape')),
  postal_code text CHECK (postal_code ~ '^[0-9]{4}$'),
  phone text CHECK (length(phone) BETWEEN 9 AND 20),
  email text CHECK (length(email) BETWEEN 3 AND 254),
  -- A VAT vendor has a SARS VAT number (10 digits starting with 4); a practice that is not has none.
  vat_vendor boolean NOT NULL DEFAULT false,
  vat_number text CHECK (vat_number ~ '^4[0-9]{9}$'),
  -- ISO weekdays the practice works (1 = Monday ... 7 = Sunday), ascending, no repeats.
  working_week smallint[] NOT NULL DEFAULT '{1,2,3,4,5}' CHECK (
    cardinality(working_week) BETWEEN 1 AND 7 AND working_week <@ '{1,2,3,4,5,6,7}'::smallint[]),
  -- The logo documents print: a small PNG or SVG, kept as bytes (size capped here and by the tool).
  logo bytea CHECK (octet_length(logo) <= 262144),
  logo_media_type text CHECK (logo_media_type IN ('image/png', 'image/svg+xml')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT 'migration',
  CHECK (vat_vendor = (vat_number IS NOT NULL)),
  CHECK ((logo IS NULL) = (logo_media_type IS NULL))
);

-- The one row exists from the start; a new practice fills it in with admin_update_practice_profile.
INSERT INTO core.practice_profile (singleton) VALUES (true);

-- 0012's default privileges cover tables the migrating role creates in core; granted here too so that a
-- different migrating role (a DBA's) leaves the application able to use it. Only SELECT and UPDATE: the
-- row is never inserted or deleted by the application.
GRANT SELECT, UPDATE ON core.practice_profile TO upc_app;
