-- Every key-store, lease and Buffer function: signature, return type, volatility,
-- strictness, parallel safety, SECURITY INVOKER, comment; and the
-- behaviour Baileys relies on.
BEGIN;
SELECT plan(165);

CREATE TEMP TABLE fn (name text, args text[], rettype text, vol text, strict boolean, par "char");
INSERT INTO fn VALUES
  ('creds_get',         '{text}',                      'jsonb',   'stable',    true,  's'),
  ('creds_set',         '{text,jsonb,bigint}',         'void',    'volatile',  false, 'u'),
  ('keys_get',          '{text,text,text[]}',          'jsonb',   'stable',    true,  's'),
  ('keys_set',          '{text,jsonb,bigint}',         'record',  'volatile',  false, 'u'),
  ('keys_upsert',       '{text,text,text[],jsonb[],bigint}', 'integer', 'volatile', false, 'u'),
  ('keys_delete',       '{text,text,text[],bigint}',   'integer', 'volatile',  false, 'u'),
  ('keys_clear',        '{text,bigint}',               'bigint',  'volatile',  false, 'u'),
  ('session_remove',    '{text,bigint}',               'bigint',  'volatile',  false, 'u'),
  ('lease_acquire',     '{text,text,interval}',        'bigint',  'volatile',  false, 'u'),
  ('lease_renew',       '{text,bigint,interval}',      'timestamp with time zone', 'volatile', false, 'u'),
  ('lease_release',     '{text,bigint}',               'boolean', 'volatile',  false, 'u'),
  ('lease_status',      '{text}',                      'jsonb',   'stable',    true,  's'),
  ('lease_adopt',       '{text,text,bigint,timestamp with time zone,timestamp with time zone,timestamp with time zone}', 'bigint', 'volatile', false, 'u'),
  ('keys_get_json',     '{text,text,text[]}',          'json',    'stable',    true,  's'),
  ('keys_set_text',     '{text,text,bigint}',          'record',  'volatile',  false, 'u'),
  ('keys_page',         '{text,text,text,integer,boolean}', 'setof record', 'stable', false, 's'),
  ('session_export_files', '{text}',                     'setof record', 'stable', true, 's'),
  ('session_import_files', '{text,jsonb,boolean,bigint}', 'bigint',  'volatile',  false, 'u'),
  ('key_ttl',           '{text}',                      'interval','stable',    true,  's'),
  ('buffer_decode',     '{jsonb}',                     'bytea',   'immutable', true,  's'),
  ('buffer_encode',     '{bytea}',                     'jsonb',   'immutable', true,  's'),
  ('buffers_normalize', '{jsonb}',                     'jsonb',   'immutable', true,  's'),
  ('jsonb_buffer',      '{jsonb,text[]}',              'bytea',   'immutable', true,  's');

SELECT has_function('whatsapp_auth', name, args, name || '(' || array_to_string(args, ', ') || ')') FROM fn;
SELECT function_returns('whatsapp_auth', name, args, rettype, name || ' returns ' || rettype) FROM fn;
SELECT volatility_is('whatsapp_auth', name, args, vol, name || ' is ' || vol) FROM fn;
SELECT CASE WHEN strict THEN is_strict('whatsapp_auth', name, args, name || ' is STRICT')
            ELSE isnt_strict('whatsapp_auth', name, args, name || ' is not STRICT (NULL raises 22004)') END FROM fn;
SELECT is((SELECT p.proparallel FROM pg_proc p
           WHERE p.oid = ('whatsapp_auth.' || name || '(' || array_to_string(args, ',') || ')')::regprocedure),
          par, name || ' parallel safety') FROM fn;
SELECT isnt_definer('whatsapp_auth', name, args, name || ' runs with the caller''s privileges') FROM fn;

SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'whatsapp_auth'::regnamespace
           AND obj_description(p.oid, 'pg_proc') IS NULL), 0, 'every routine has a comment');
SELECT is((SELECT count(*)::int FROM pg_class c WHERE c.relnamespace = 'whatsapp_auth'::regnamespace
           AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL), 0, 'every table has a comment');

-- keys_set: several types, upsert and delete in one call
SELECT results_eq(
  $$SELECT upserted, deleted FROM whatsapp_auth.keys_set('tap',
      '{"pre-key":{"1":{"k":1},"2":{"k":2}},"session":{"a.0":{"s":1}},"device-list":{"a":["0","12"]},"lid-mapping":{"a":"b"}}')$$,
  $$VALUES (5, 0)$$, 'keys_set writes several types in one call');
SELECT results_eq(
  $$SELECT upserted, deleted FROM whatsapp_auth.keys_set('tap', '{"session":{"b.0":{"s":2}},"pre-key":{"1":null,"404":null}}')$$,
  $$VALUES (1, 1)$$, 'keys_set: a new session and the consumed pre-key''s deletion together; a missing id is a no-op');
SELECT is(whatsapp_auth.keys_get('tap', 'pre-key', '{1,2}'), '{"2":{"k":2}}'::jsonb, 'keys_get returns only present ids');
SELECT is(whatsapp_auth.keys_get('tap', 'pre-key', '{404}'), '{}'::jsonb, 'keys_get returns {} for none');
SELECT is(whatsapp_auth.keys_get('tap', 'device-list', '{a}'), '{"a":["0","12"]}'::jsonb, 'array values');
SELECT is(whatsapp_auth.keys_get('tap', 'lid-mapping', '{a}'), '{"a":"b"}'::jsonb, 'bare string values');

-- expiry
SELECT is((SELECT expires_at FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_type = 'pre-key'), NULL,
  'pre-keys never expire');
CREATE FUNCTION pg_temp.next_hour(t timestamptz) RETURNS timestamptz LANGUAGE sql
  AS $$SELECT date_bin('1 hour', t + interval '1 hour' - interval '1 microsecond', timestamptz '2000-01-01 00:00+00')$$;
SELECT is((SELECT expires_at FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_id = 'b.0'),
  (SELECT pg_temp.next_hour(updated_at + interval '7 days') FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_id = 'b.0'),
  'sessions expire 7 days after the write, rounded up to the hour');
SELECT is((SELECT expires_at FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_type = 'device-list'),
  (SELECT pg_temp.next_hour(updated_at + interval '14 days') FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_type = 'device-list'),
  'other types take the * row');
UPDATE whatsapp_auth.keys SET expires_at = now() - interval '1 second' WHERE company_id = 'tap' AND key_id = 'a.0';
SELECT is(whatsapp_auth.keys_get('tap', 'session', '{a.0,b.0}'), '{"b.0":{"s":2}}'::jsonb,
  'an expired key is invisible before any purge');
UPDATE whatsapp_auth.key_ttl SET ttl = '1 day' WHERE key_type = 'session';
SELECT whatsapp_auth.keys_set('tap', '{"session":{"c.0":{}}}');
SELECT is((SELECT expires_at FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_id = 'c.0'),
  (SELECT pg_temp.next_hour(updated_at + interval '1 day') FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_id = 'c.0'),
  'the next write uses an edited TTL');
SELECT is(whatsapp_auth.key_ttl('session'), interval '1 day', 'key_ttl reads the policy');
SELECT is(whatsapp_auth.key_ttl('pre-key'), NULL, 'key_ttl: NULL = never');

-- keys_upsert / keys_delete
SELECT is(whatsapp_auth.keys_upsert('tap', 'sender-key', '{g1,g2,g1}', ARRAY['{"n":1}','{"n":2}','{"n":3}']::jsonb[]), 2,
  'keys_upsert: an id given twice is written once');
SELECT is(whatsapp_auth.keys_get('tap', 'sender-key', '{g1}'), '{"g1":{"n":3}}'::jsonb, 'the last one wins');
SELECT is(whatsapp_auth.keys_upsert('tap', 'sender-key', '{g2}', ARRAY[NULL]::jsonb[]), 1, 'a NULL element deletes');
SELECT is(whatsapp_auth.keys_delete('tap', 'sender-key', '{g1,g9}'), 1, 'keys_delete counts existing keys');

-- Buffers: every form stored canonically; plain base64 strings untouched
SELECT whatsapp_auth.keys_set('tap', '{"pre-key":{"10":{"a":{"type":"Buffer","data":[1,2,3]},"b":{"buffer":true,"value":"AQID"},"c":{"0":1,"1":2,"2":3},"d":{"type":"Buffer","data":""},"s":"AQID"}}}');
SELECT is(whatsapp_auth.keys_get('tap', 'pre-key', '{10}') -> '10',
  '{"a":{"type":"Buffer","data":"AQID"},"b":{"type":"Buffer","data":"AQID"},"c":{"type":"Buffer","data":"AQID"},"d":{"type":"Buffer","data":""},"s":"AQID"}'::jsonb,
  'byte-array, legacy and Uint8Array forms stored as base64; empty buffer kept; plain strings untouched');
SELECT is(whatsapp_auth.buffer_decode(whatsapp_auth.buffer_encode('\x'::bytea)), '\x'::bytea, 'empty buffer round-trips');
SELECT is(whatsapp_auth.jsonb_buffer(whatsapp_auth.keys_get('tap', 'pre-key', '{10}'), '10', 'c'), '\x010203'::bytea,
  'jsonb_buffer at a path');

-- creds and session_remove
SELECT whatsapp_auth.creds_set('tap', '{"noiseKey":{"private":{"type":"Buffer","data":[9]}}}');
SELECT is(whatsapp_auth.creds_get('tap'), '{"noiseKey":{"private":{"type":"Buffer","data":"CQ=="}}}'::jsonb,
  'creds stored canonically');
SELECT is(whatsapp_auth.creds_get('nobody'), NULL, 'creds_get: NULL when none');
SELECT is(whatsapp_auth.keys_clear('tap') > 0, true, 'keys_clear deletes the keys');
SELECT isnt(whatsapp_auth.creds_get('tap'), NULL, 'keys_clear keeps the creds');
SELECT is(whatsapp_auth.session_remove('tap'), 1::bigint, 'session_remove deletes the creds too');

SELECT * FROM finish();
ROLLBACK;
