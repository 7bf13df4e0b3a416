-- Audit log (ARCHITECTURE §7): one row per tool invocation from every door, allowed or denied.
-- Append-only (UPDATE/DELETE/TRUNCATE refused by triggers and privileges) and hash-chained: each row holds
-- its predecessor's hash and its own, so any change to a stored row is found by `upc-mcp audit verify`.
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE audit.events (
  id bigint PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  actor_subject text,
  actor_role text,
  door text NOT NULL,
  client text,
  ip text,
  tool text NOT NULL,
  parameters jsonb,
  outcome text NOT NULL CHECK (outcome IN ('success', 'error', 'denied')),
  error_code text,
  patient_ids text[] NOT NULL DEFAULT '{}',
  phi_accessed boolean NOT NULL,
  request_id text NOT NULL,
  latency_ms double precision NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);

CREATE INDEX events_occurred_at ON audit.events (occurred_at);
CREATE INDEX events_actor ON audit.events (actor_subject, occurred_at);
CREATE INDEX events_tool ON audit.events (tool, occurred_at);
CREATE INDEX events_patients ON audit.events USING gin (patient_ids);

-- The chain head: one row, locked by each committing writer, so replicas append in one total order.
CREATE TABLE audit.chain_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_id bigint NOT NULL,
  last_hash text NOT NULL
);
INSERT INTO audit.chain_head (last_id, last_hash) VALUES (0, repeat('0', 64));

-- Archived ranges: events moved to an export file; verification starts after the latest seal.
CREATE TABLE audit.seals (
  id serial PRIMARY KEY,
  sealed_at timestamptz NOT NULL DEFAULT now(),
  first_id bigint NOT NULL,
  last_id bigint NOT NULL,
  last_hash text NOT NULL,
  event_count bigint NOT NULL,
  export_sha256 text NOT NULL,
  export_name text NOT NULL
);

CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The archive command removes sealed rows inside a transaction that sets this flag; nothing else may.
  IF TG_OP = 'DELETE' AND current_setting('audit.archiving', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit.events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON audit.events FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_no_delete BEFORE DELETE ON audit.events FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit.events FROM PUBLIC;
