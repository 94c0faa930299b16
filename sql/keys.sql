-- keys_set / keys_get / keys_upsert / keys_delete
SET search_path = whatsapp_auth, public;

-- Baileys' keys.set shape: several types, any JSON value, null deletes
SELECT * FROM keys_set('acme', '{
  "pre-key": {"1": {"private":{"type":"Buffer","data":[1,2,3]},"public":{"type":"Buffer","data":"BAUG"}},
              "2": {"private":{"type":"Buffer","data":"AQID"},"public":{"type":"Buffer","data":"BAUG"}}},
  "session": {"79001000000.0": {"_sessions":{"BedY":{"registrationId":205}}, "version":"v1"}},
  "device-list": {"79001000000": ["0", "12"]},
  "lid-mapping": {"79001000000": "123456789012345", "123456789012345_reverse": "79001000000"},
  "sender-key-memory": {"120363010000000@g.us": {"79002000000@s.whatsapp.net": true}}
}');
SELECT key_type, key_id, value FROM keys WHERE company_id = 'acme' ORDER BY 1, 2;

SELECT keys_get('acme', 'pre-key', '{1,2,3}');
SELECT keys_get('acme', 'device-list', '{79001000000}');
SELECT keys_get('acme', 'lid-mapping', '{79001000000,123456789012345_reverse}');
SELECT keys_get('acme', 'pre-key', '{404}') AS none, keys_get('acme', 'pre-key', '{}') AS no_ids;
SELECT keys_get('other', 'pre-key', '{1}') AS other_company;

-- a new session plus the consumed pre-key's deletion, in one call
SELECT * FROM keys_set('acme', '{"session":{"79001000001.0":{"v":1}},"pre-key":{"1":null}}');
SELECT keys_get('acme', 'pre-key', '{1,2}') ? '1' AS consumed_pre_key_still_there;
-- deleting what does not exist is a no-op
SELECT * FROM keys_set('acme', '{"pre-key":{"1":null,"999":null}}');
SELECT * FROM keys_set('acme', '{}');
SELECT * FROM keys_set('acme', '{"session":{}}');

-- expiry from key_ttl on every write: exact type, else '*', NULL = never;
-- rounded up to the next whole hour (UTC)
SELECT key_type, key_ttl(key_type) AS ttl,
       bool_and(expires_at = date_bin('1 hour', updated_at + key_ttl(key_type) + interval '1 hour'
                                      - interval '1 microsecond', timestamptz '2000-01-01 00:00+00')) AS on_next_hour,
       bool_and(expires_at - updated_at >= key_ttl(key_type)
                AND expires_at - updated_at < key_ttl(key_type) + interval '1 hour') AS within_hour_of_ttl
FROM keys WHERE company_id = 'acme' GROUP BY 1 ORDER BY 1;

-- a call that writes one key takes a single-row statement, a call of
-- several one statement over arrays: both leave the same rows
BEGIN;
SELECT * FROM keys_set('one_by_one', '{"pre-key":{"1":{"k":{"type":"Buffer","data":[1,2]}}}}');
SELECT * FROM keys_set('one_by_one', '{"session":{"1.0":{"s":1}}}');
SELECT * FROM keys_set('one_by_one', '{"lid-mapping":{"1_reverse":"79001"}}');
SELECT * FROM keys_set('all_at_once', '{"pre-key":{"1":{"k":{"type":"Buffer","data":[1,2]}}},"session":{"1.0":{"s":1}},"lid-mapping":{"1_reverse":"79001"}}');
SELECT a.key_type, a.key_id, a.value, a.value = b.value AS same_value,
       a.expires_at IS NOT DISTINCT FROM b.expires_at AS same_expiry, a.expires_at IS NULL AS never
FROM keys a JOIN keys b ON b.company_id = 'all_at_once' AND (b.key_type, b.key_id) = (a.key_type, a.key_id)
WHERE a.company_id = 'one_by_one' ORDER BY 1, 2;
COMMIT;
SELECT session_remove('one_by_one') + session_remove('all_at_once') AS removed;

-- a rewrite within the hour keeps expires_at, so it changes no indexed
-- column: a HOT update, no new index entry (one transaction, so one hour)
BEGIN;
SELECT * FROM keys_set('acme', '{"session":{"hot.0":{"written":1}}}');
CREATE TEMP TABLE first_write AS
  SELECT expires_at FROM keys WHERE company_id = 'acme' AND key_type = 'session' AND key_id = 'hot.0';
SELECT * FROM keys_set('acme', '{"session":{"hot.0":{"written":2}}}');
SELECT k.value, k.expires_at = f.expires_at AS same_expiry,
       pg_stat_get_xact_tuples_hot_updated('keys'::regclass) AS hot_updates
FROM keys k, first_write f WHERE k.company_id = 'acme' AND k.key_type = 'session' AND k.key_id = 'hot.0';
COMMIT;
SELECT * FROM keys_set('acme', '{"session":{"hot.0":null}}');

-- expired keys are invisible before any purge
UPDATE keys SET expires_at = now() - interval '1 second'
WHERE company_id = 'acme' AND key_type = 'session' AND key_id = '79001000000.0';
SELECT keys_get('acme', 'session', '{79001000000.0,79001000001.0}') ? '79001000000.0' AS expired_visible;
-- a write brings it back with a fresh expiry
SELECT * FROM keys_set('acme', '{"session":{"79001000000.0":{"v":2}}}');
SELECT keys_get('acme', 'session', '{79001000000.0}');

-- keys_upsert: typed batch; NULL element deletes; duplicates: last wins
SELECT keys_upsert('acme', 'lid-mapping', '{a,b,a,79001000000}',
                   ARRAY['"first"', '"b"', '"last"', NULL]::jsonb[]);
SELECT keys_get('acme', 'lid-mapping', '{a,b,79001000000}');
-- a JSON null element deletes too, as null does in keys_set
SELECT keys_upsert('acme', 'lid-mapping', '{b}', ARRAY['null']::jsonb[]);
SELECT keys_get('acme', 'lid-mapping', '{b}');
SELECT keys_upsert('acme', 'lid-mapping', '{b}', ARRAY['"b"']::jsonb[]);
SELECT keys_upsert('acme', 'pre-key', '{7}', ARRAY['{"private":{"0":1,"1":2}}']::jsonb[]);
SELECT keys_get('acme', 'pre-key', '{7}');

-- keys_delete
SELECT keys_delete('acme', 'lid-mapping', '{a,b,nope}');
SELECT keys_delete('acme', 'lid-mapping', '{}');

-- the same key twice in one keys_upsert never hits "cannot affect row a second time"
SELECT keys_upsert('acme', 'session', '{x.0,x.0,x.0}', ARRAY['{"n":1}','{"n":2}',NULL]::jsonb[]);
SELECT keys_get('acme', 'session', '{x.0}');

-- keys_get assembles its object from the stored values without decoding
-- them: every kind of value, past the 32-entry offset stride, equals what
-- jsonb_object_agg builds
SELECT * FROM keys_set('mix', (SELECT jsonb_build_object('x', jsonb_object_agg(i::text,
    CASE i % 7 WHEN 0 THEN to_jsonb(i) WHEN 1 THEN to_jsonb(i * 1.5) WHEN 2 THEN to_jsonb(i % 2 = 0)
               WHEN 3 THEN to_jsonb(repeat('s', i)) WHEN 4 THEN jsonb_build_array(i, 'a', NULL)
               WHEN 5 THEN jsonb_build_object('k', i, 'b', '{"type":"Buffer","data":"AQID"}'::jsonb)
               ELSE '{}'::jsonb END)) FROM generate_series(1, 70) i));
SELECT keys_get('mix', 'x', (SELECT array_agg(g::text) FROM generate_series(0, 80) g))
     = (SELECT jsonb_object_agg(key_id, value) FROM keys WHERE company_id = 'mix') AS same_object,
       keys_get('mix', 'x', (SELECT array_agg(g::text) FROM generate_series(0, 80) g))::text
     = (SELECT jsonb_object_agg(key_id, value) FROM keys WHERE company_id = 'mix')::text AS same_text;
SELECT keys_get('mix', 'x', '{5,6,7,8,9,10,11,12}');
SELECT (SELECT count(*) FROM jsonb_each(keys_get('mix', 'x', (SELECT array_agg(g::text) FROM generate_series(1, 70) g)))) AS pairs,
       keys_get('mix', 'x', '{40}') -> '40' -> 'b' AS nested_buffer,
       keys_get('mix', 'x', '{66}') ->> '66' AS after_stride;
SELECT session_remove('mix');

-- one id takes a statement of its own (an equality on the whole primary
-- key): it answers as the array form does, and reads one row of the table
-- however many keys of that type the company has
SELECT * FROM keys_set('one', jsonb_build_object('session',
    (SELECT jsonb_object_agg(g::text, jsonb_build_object('n', g)) FROM generate_series(1, 200) g)));
SELECT keys_get('one', 'session', '{7}') AS one_id,
       keys_get('one', 'session', '{7}') = keys_get('one', 'session', '{7,7}') AS same_as_repeated,
       keys_get('one', 'session', '{{7}}') = keys_get('one', 'session', '{7}') AS two_dimensional,
       keys_get('one', 'session', '{404}') AS missing,
       keys_get('one', 'session', ARRAY[NULL]::text[]) AS null_id;
-- (rows read, whatever the plan: by a sequential scan, a bitmap scan, or
-- through the primary key)
CREATE FUNCTION pg_temp.rows_read() RETURNS bigint LANGUAGE sql AS $$
  SELECT pg_stat_get_xact_tuples_returned('whatsapp_auth.keys'::regclass)
       + pg_stat_get_xact_tuples_fetched('whatsapp_auth.keys'::regclass)
       + pg_stat_get_xact_tuples_fetched('whatsapp_auth.keys_pkey'::regclass) $$;
BEGIN;
SELECT pg_temp.rows_read() AS read_before \gset
SELECT keys_get('one', 'session', '{150}') ->> '150' AS read_one;
SELECT pg_temp.rows_read() - :read_before AS rows_read;
COMMIT;
SELECT session_remove('one');

-- a call checks its company against the domain once, not once for each key
-- it writes (counted by a constraint added to the domain for the test)
CREATE SEQUENCE public.domain_checks;
CREATE FUNCTION public.count_domain_check(text) RETURNS boolean LANGUAGE sql
  AS $$ SELECT nextval('public.domain_checks') > 0 $$;
ALTER DOMAIN whatsapp_auth.company_id ADD CONSTRAINT counted CHECK (public.count_domain_check(VALUE));
SELECT setval('public.domain_checks', 1, false) IS NOT NULL AS counting;
SELECT * FROM keys_set('counted', jsonb_build_object('session',
    (SELECT jsonb_object_agg(g::text, jsonb_build_object('n', g)) FROM generate_series(1, 50) g)));
SELECT nextval('public.domain_checks') - 1 AS domain_checks;
ALTER DOMAIN whatsapp_auth.company_id DROP CONSTRAINT counted;
DROP FUNCTION public.count_domain_check(text);
DROP SEQUENCE public.domain_checks;
SELECT session_remove('counted');

-- errors: each names the bad value or path, and nothing is written
SELECT count(*) AS keys_before FROM keys WHERE company_id = 'acme';
SELECT * FROM keys_set('acme y', '{"session":{"n.0":{}}}');
SELECT * FROM keys_set('acme', '{"session":{"n.0":{}}, "Bad_Type":{"1":{}}}');
SELECT * FROM keys_set('acme', '{"session":{"n.0":{}, "":{}}}');
SELECT * FROM keys_set('acme', jsonb_build_object('session', jsonb_build_object('n.0', '{}'::jsonb, repeat('i', 256), '{}'::jsonb)));
SELECT * FROM keys_set('acme', '{"session":{"n.0":{}}, "pre-key":[1]}');
SELECT * FROM keys_set('acme', '{"session":{"n.0":{}}, "pre-key":"x"}');
SELECT * FROM keys_set('acme', '[{"session":{}}]');
SELECT * FROM keys_set('acme', '"session"');
SELECT * FROM keys_set('acme', '{"session":{"n.0":{}}, "pre-key":{"17":{"private":{"type":"Buffer","data":[1,2,3,256]}}}}');
SELECT * FROM keys_set('acme', '{"session":{"n.0":{}}, "pre-key":{"17":{"private":{"type":"Buffer","data":"A$=="}}}}');
SELECT * FROM keys_set('acme', '{"session":{"n.0":{}}, "pre-key":{"17":{"private":{"type":"Buffer","data":{"a":1}}}}}');
SELECT * FROM keys_set('acme', NULL);
SELECT * FROM keys_set(NULL, '{}');
SELECT keys_upsert('acme', 'session', '{a,b}', ARRAY['{}']::jsonb[]);
SELECT keys_upsert('acme', 'session', ARRAY['a', NULL], ARRAY['{}', '{}']::jsonb[]);
SELECT keys_upsert('acme', 'session', '{a}', NULL);
SELECT keys_upsert('acme', 'Session', '{a}', ARRAY['{}']::jsonb[]);
SELECT keys_delete('acme', 'session', NULL);
SELECT keys_get('acme', 'no_such_type!', '{1}');
-- a value over whatsapp_auth.max_value_size is 54000
SET whatsapp_auth.max_value_size = '1kB';
SELECT * FROM keys_set('acme', jsonb_build_object('session', jsonb_build_object('n.0', '{}'::jsonb, 'big.0', jsonb_build_object('blob', repeat('x', 2000)))));
SELECT creds_set('acme', jsonb_build_object('blob', repeat('x', 2000)));
RESET whatsapp_auth.max_value_size;
SELECT count(*) AS keys_after FROM keys WHERE company_id = 'acme';
SELECT keys_get('acme', 'session', '{n.0}') AS nothing_written;

SELECT session_remove('acme');
