-- key_ttl: shipped defaults, lookups, user edits, and what pg_dump keeps
SET search_path = whatsapp_auth, public;

SELECT key_type, ttl, shipped FROM key_ttl ORDER BY key_type;

SELECT t, key_ttl(t) FROM unnest(ARRAY['pre-key', 'app-state-sync-key', 'identity-key',
    'session', 'sender-key', 'lid-mapping', 'device-list', 'app-state-sync-version', '*']) t;
SELECT key_ttl('Bad Type');

-- an edit makes the row the user's: pg_dump keeps exactly those rows
UPDATE key_ttl SET ttl = '30 days' WHERE key_type = 'session';
-- a user row for a type replaces the shipped one; no duplicates
INSERT INTO key_ttl (key_type, ttl) VALUES ('sender-key', '1 day');
INSERT INTO key_ttl (key_type, ttl) VALUES ('device-list', NULL);
SELECT key_type, ttl, shipped FROM key_ttl ORDER BY key_type;
SELECT extcondition FROM pg_extension WHERE extname = 'whatsapp_auth';

-- writes use the policy in force
SELECT * FROM keys_set('ttl', '{"session":{"a.0":{}},"sender-key":{"g::a::1":{}},"device-list":{"a":[]},"x":{"1":{}}}');
SELECT key_type, key_ttl(key_type) AS ttl,
       expires_at = date_bin('1 hour', updated_at + key_ttl(key_type) + interval '1 hour'
                             - interval '1 microsecond', timestamptz '2000-01-01 00:00+00') AS on_next_hour
FROM keys WHERE company_id = 'ttl' ORDER BY 1;

-- the statement that restores the policy of the client-side store this replaces
UPDATE key_ttl SET ttl = CASE WHEN key_type IN ('lid-mapping', 'pre-key', 'session', 'sender-key')
                              THEN interval '7 days' ELSE interval '14 days' END;
SELECT key_type, ttl FROM key_ttl ORDER BY key_type;

-- invalid rows are refused by the table itself
INSERT INTO key_ttl (key_type, ttl) VALUES ('Nope', '1 day');
INSERT INTO key_ttl (key_type, ttl) VALUES ('zero', '0');
INSERT INTO key_ttl (key_type, ttl) VALUES ('session', '1 day');

-- back to the shipped defaults for the tests that follow
DELETE FROM key_ttl;
INSERT INTO key_ttl (key_type, ttl, shipped) VALUES
	('*', '14 days', true), ('pre-key', NULL, true), ('app-state-sync-key', NULL, true),
	('identity-key', NULL, true), ('session', '7 days', true), ('sender-key', '7 days', true),
	('lid-mapping', '7 days', true);
SELECT session_remove('ttl');
