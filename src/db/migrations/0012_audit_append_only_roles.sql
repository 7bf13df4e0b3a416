-- The audit log is append-only with no switch (issue: "the append-only guard has a public switch").
--
-- Roles (cluster-wide; created here when the migrating role may create roles, else by the DBA beforehand):
--   upc_audit_owner     NOLOGIN  owns the audit tables and the two functions below; nobody logs in as it.
--   upc_app             NOLOGIN  what the application's login role is a member of: its module tables, and
--                                on the audit log SELECT plus EXECUTE on audit.head_for_append/append only.
--   upc_audit_archiver  NOLOGIN  may run audit.archive_through (the archive command's own credentials).
-- So the application's role cannot UPDATE or DELETE events, rewrite the chain head or forge a seal: it can
-- only append events that continue the chain. A superuser can still do anything; the external, signed
-- checkpoints (src/audit/audit.checkpoint.ts) are what detect that.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upc_audit_owner') THEN
    CREATE ROLE upc_audit_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upc_app') THEN
    CREATE ROLE upc_app NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upc_audit_archiver') THEN
    CREATE ROLE upc_audit_archiver NOLOGIN;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN
    NULL; -- another database's migration created it at the same moment
  WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'The audit log needs the roles upc_audit_owner, upc_app and upc_audit_archiver. Run migrations as a role that may create roles, or have the DBA create them first (docs/SECURITY.md, "Database roles").';
END $$;

-- No switch: DELETE passes only for the audit owner, i.e. inside audit.archive_through below.
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_user = 'upc_audit_owner' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit.events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Locks the chain head for this transaction and returns it: the writer hashes its batch after it.
CREATE FUNCTION audit.head_for_append() RETURNS TABLE (last_id bigint, last_hash text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
  SELECT h.last_id, h.last_hash FROM audit.chain_head h FOR UPDATE;
$$;

-- Appends events that continue the chain from the (locked) head, and moves the head. Anything else is
-- refused: a gap, a wrong predecessor, an id that is not the next one.
CREATE FUNCTION audit.append(batch jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
DECLARE
  head record;
  event jsonb;
  next_id bigint;
  prev text;
BEGIN
  SELECT h.last_id, h.last_hash INTO head FROM audit.chain_head h FOR UPDATE;
  next_id := head.last_id + 1;
  prev := head.last_hash;
  FOR event IN SELECT value FROM jsonb_array_elements(batch) LOOP
    IF (event->>'id')::bigint IS DISTINCT FROM next_id OR event->>'prev_hash' IS DISTINCT FROM prev THEN
      RAISE EXCEPTION 'audit.append: event % does not continue the chain (expected id % after hash %)',
        event->>'id', next_id, prev USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO audit.events SELECT * FROM jsonb_populate_record(NULL::audit.events, event);
    prev := event->>'hash';
    next_id := next_id + 1;
  END LOOP;
  UPDATE audit.chain_head SET last_id = next_id - 1, last_hash = prev;
  RETURN next_id - 1;
END;
$$;

-- Seals and removes events up to through_id, which must be a live event with exactly this hash.
CREATE FUNCTION audit.archive_through(
  through_id bigint, through_hash text, event_count bigint, export_sha256 text, export_name text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
DECLARE
  first_live bigint;
  removed bigint;
BEGIN
  IF NOT EXISTS (SELECT FROM audit.events e WHERE e.id = through_id AND e.hash = through_hash) THEN
    RAISE EXCEPTION 'audit.archive_through: event % with that hash is not in the log', through_id;
  END IF;
  SELECT min(e.id) INTO first_live FROM audit.events e;
  INSERT INTO audit.seals (first_id, last_id, last_hash, event_count, export_sha256, export_name)
  VALUES (first_live, through_id, through_hash, event_count, export_sha256, export_name);
  DELETE FROM audit.events e WHERE e.id <= through_id;
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END;
$$;

ALTER SCHEMA audit OWNER TO upc_audit_owner;
ALTER TABLE audit.events OWNER TO upc_audit_owner;
ALTER TABLE audit.chain_head OWNER TO upc_audit_owner;
ALTER TABLE audit.seals OWNER TO upc_audit_owner;
ALTER FUNCTION audit.refuse_change() OWNER TO upc_audit_owner;
ALTER FUNCTION audit.head_for_append() OWNER TO upc_audit_owner;
ALTER FUNCTION audit.append(jsonb) OWNER TO upc_audit_owner;
ALTER FUNCTION audit.archive_through(bigint, text, bigint, text, text) OWNER TO upc_audit_owner;

REVOKE ALL ON audit.events, audit.chain_head, audit.seals FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.head_for_append(), audit.append(jsonb),
  audit.archive_through(bigint, text, bigint, text, text) FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO upc_app, upc_audit_archiver;
GRANT SELECT ON audit.events, audit.chain_head, audit.seals TO upc_app, upc_audit_archiver;
GRANT EXECUTE ON FUNCTION audit.head_for_append(), audit.append(jsonb) TO upc_app;
GRANT EXECUTE ON FUNCTION audit.archive_through(bigint, text, bigint, text, text) TO upc_audit_archiver;

-- What the application needs everywhere else, now and for tables later migrations create.
GRANT USAGE ON SCHEMA core, ris, security TO upc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA core, ris, security TO upc_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA core, ris, security TO upc_app;
GRANT SELECT ON public.schema_migrations TO upc_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, ris, security
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO upc_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, ris, security
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO upc_app;
