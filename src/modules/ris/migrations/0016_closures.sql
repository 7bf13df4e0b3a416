-- Practice closures and rooms open on public holidays. Public holidays themselves are not rows: they are
-- computed per year from the statutory list (src/core/public-holidays.za.json). A day is closed for a room
-- when a closure covers it (the whole practice's or the room's), or when it is a public holiday and the
-- room has no holiday opening for it; otherwise the room's weekday hours (ris.room_hours) apply.

-- Days the practice (room_id NULL) or one room is closed: whole days, first_day through last_day.
CREATE TABLE ris.closures (
  closure_id serial PRIMARY KEY,
  room_id integer REFERENCES ris.rooms ON DELETE CASCADE,
  first_day date NOT NULL,
  last_day date NOT NULL,
  reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 3 AND 200),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (last_day >= first_day),
  CHECK (last_day - first_day < 366)
);
-- Scheduling reads the closures overlapping a window of days.
CREATE INDEX closures_days ON ris.closures (last_day, first_day);

-- A room that works on a public holiday (the trauma CT on Christmas Day), with its usual hours for that
-- weekday. A closure still wins over it.
CREATE TABLE ris.holiday_openings (
  room_id integer NOT NULL REFERENCES ris.rooms ON DELETE CASCADE,
  day date NOT NULL,
  reason text CHECK (length(btrim(reason)) BETWEEN 3 AND 200),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, day)
);
CREATE INDEX holiday_openings_day ON ris.holiday_openings (day);

-- 0012's default privileges cover tables the migrating role creates in schema ris; granted here too so that
-- a different migrating role (a DBA's) leaves the application able to use them.
GRANT SELECT, INSERT, UPDATE, DELETE ON ris.closures, ris.holiday_openings TO upc_app;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE ris.closures_closure_id_seq TO upc_app;
