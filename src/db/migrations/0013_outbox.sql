-- Domain events: a transactional outbox (src/events/outbox.ts). An event is written in the transaction of
-- the change that caused it and delivered after commit, at least once, to every handler subscribed to its
-- type, by a dispatcher that any number of replicas run at once.
--
-- Where delivery rows come from: `publish` inserts them in the same statement as the event, one per
-- handler subscribed to the event's type in core.outbox_subscriptions (a table, not the publishing
-- process's memory). So:
--   * an event and its deliveries exist together or not at all (no fan-out step that could skip an event
--     whose transaction committed late, as a cursor over ids would);
--   * every replica, whatever version of the code it runs, creates deliveries for every handler any
--     replica has subscribed;
--   * a handler added later subscribes when a dispatcher running it first starts, and receives only the
--     events published after that: never the years of history already in the table.
CREATE TABLE core.outbox_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- <module>.<aggregate>.<past-tense verb>, lower snake case.
  type text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  payload jsonb NOT NULL,
  occurred_at timestamptz NOT NULL
);
-- Pruning: delivered events older than the retention period.
CREATE INDEX outbox_events_occurred_at ON core.outbox_events (occurred_at);

-- Which handler receives which type, since when. Written by the dispatcher at start for its handlers.
CREATE TABLE core.outbox_subscriptions (
  type text NOT NULL,
  handler text NOT NULL CHECK (length(handler) BETWEEN 1 AND 200),
  subscribed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (type, handler)
);

-- One row per (event, handler). A claim by a dispatcher is a lease (locked_until, lease_token), not an
-- open transaction: the handler runs with no lock held, and a replica that dies mid-handler lets its
-- lease expire so another delivers again. `attempts` counts claims, so an event whose handler crashes the
-- process every time still ends up dead instead of looping for ever.
CREATE TABLE core.outbox_deliveries (
  event_id bigint NOT NULL REFERENCES core.outbox_events ON DELETE CASCADE,
  handler text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  locked_until timestamptz,
  lease_token uuid,
  -- The error's kind and code only (never its message, which may name a patient).
  last_error text CHECK (length(last_error) <= 200),
  delivered_at timestamptz,
  PRIMARY KEY (event_id, handler)
);
-- The dispatcher's claim: due pending deliveries, oldest first.
CREATE INDEX outbox_deliveries_due ON core.outbox_deliveries (next_attempt_at, event_id)
  WHERE status = 'pending';
-- The dead-letter list (admin) and its gauge.
CREATE INDEX outbox_deliveries_dead ON core.outbox_deliveries (event_id) WHERE status = 'dead';

-- The application's role uses these as it uses the other non-audit tables (0012_audit_append_only_roles).
-- 0012's default privileges already cover tables the same migrating role creates in core; granted here
-- too so that a different migrating role (a DBA's) leaves the application able to use them.
GRANT SELECT, INSERT, UPDATE, DELETE
  ON core.outbox_events, core.outbox_subscriptions, core.outbox_deliveries TO upc_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA core TO upc_app;
