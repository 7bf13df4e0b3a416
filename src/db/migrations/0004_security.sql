-- Built-in users for practices without an identity provider, and time-limited patient assignments that
-- widen a referring doctor's scope (e.g. a second opinion).
CREATE SCHEMA IF NOT EXISTS security;

CREATE TABLE security.users (
  username text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
  display_name text NOT NULL DEFAULT '',
  role text NOT NULL,
  password_hash text NOT NULL,
  patients text[] NOT NULL DEFAULT '{}',
  disabled boolean NOT NULL DEFAULT false,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE security.patient_assignments (
  subject text NOT NULL,
  patient_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  assigned_by text NOT NULL,
  reason text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject, patient_id)
);
CREATE INDEX patient_assignments_subject ON security.patient_assignments (subject, expires_at);
