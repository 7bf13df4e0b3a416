-- Audit intents: a write call's audit event, written in the call's own transaction (with its changes and
-- its idempotency result), so that a committed write always has its event. After commit the audit writer
-- moves the intent onto the hash chain (deleting it in the same transaction); an intent left by a crashed
-- process is moved at the next start, or by another replica's sweep.
CREATE TABLE audit.intents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The event as the chain will hold it, less its id and hashes (given when it is appended).
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX intents_created ON audit.intents (created_at);

ALTER TABLE audit.intents OWNER TO upc_audit_owner;
REVOKE ALL ON audit.intents FROM PUBLIC;
-- The application writes intents in its calls' transactions and removes them as it appends them.
GRANT SELECT, INSERT, DELETE ON audit.intents TO upc_app;
GRANT USAGE ON SEQUENCE audit.intents_id_seq TO upc_app;
