-- Core schema: settings shared by every module. Each business module owns its own schema
-- (ris, reporting, billing, audit) created by its own migration.
CREATE SCHEMA IF NOT EXISTS core;

CREATE TABLE core.instance_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE core.idempotency_keys (
  subject text NOT NULL,
  tool text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject, tool, key)
);
