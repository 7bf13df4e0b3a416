-- Single-use record of redeemed confirmation tokens (sign, submit, send, cancel).
CREATE TABLE core.used_confirmations (
  nonce text PRIMARY KEY,
  used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX used_confirmations_used_at ON core.used_confirmations (used_at);
