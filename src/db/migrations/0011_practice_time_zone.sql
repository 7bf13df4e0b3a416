-- The practice time zone is practice-wide: every module shows times to people in it. It moves from
-- ris.settings to core.instance_settings, where every module reads it (src/core/practice-time.ts).
INSERT INTO core.instance_settings (key, value)
SELECT 'time_zone', to_jsonb(value) FROM ris.settings WHERE key = 'time_zone'
ON CONFLICT (key) DO NOTHING;
INSERT INTO core.instance_settings (key, value) VALUES ('time_zone', to_jsonb('Africa/Johannesburg'::text))
ON CONFLICT (key) DO NOTHING;
DELETE FROM ris.settings WHERE key = 'time_zone';
