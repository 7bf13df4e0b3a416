-- Chat agent sessions (src/llm): one user's conversation with the model, so any replica can continue it.
-- `messages` is the bounded history in the provider-neutral shape (src/llm/provider.ts); `pending` holds
-- the actions waiting for the person's confirmation (tool, parameters, readable summary, token).
CREATE TABLE core.chat_sessions (
  session_id uuid PRIMARY KEY,
  owner_subject text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Product clock: a session is gone once this has passed.
  expires_at timestamptz NOT NULL,
  messages jsonb NOT NULL DEFAULT '[]',
  pending jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX chat_sessions_owner ON core.chat_sessions (owner_subject, updated_at);
CREATE INDEX chat_sessions_expires_at ON core.chat_sessions (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON core.chat_sessions TO upc_app;
