-- Every bad input is an error with its SQLSTATE, and a failed call writes
-- nothing: each bad call carries good writes before the bad element, and
-- the row counts are checked after it.
BEGIN;
SELECT plan(63);

SELECT lives_ok($$SELECT whatsapp_auth.creds_set('tap', '{"registrationId":1}')$$, 'fixture creds');
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tap', '{"session":{"0.0":{"v":0}}}')$$, 'fixture key');

CREATE FUNCTION pg_temp.unchanged() RETURNS text LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM whatsapp_auth.keys WHERE company_id = 'tap')::text || '/' ||
         (SELECT creds::text FROM whatsapp_auth.creds WHERE company_id = 'tap') || '/' ||
         (SELECT value::text FROM whatsapp_auth.keys WHERE company_id = 'tap' AND key_id = '0.0')
$$;
CREATE TEMP TABLE bad (what text, call text, sqlstate text);
INSERT INTO bad VALUES
  ('company_id with a space',   $$SELECT whatsapp_auth.keys_set('t a p', '{"session":{"1.0":{}}}')$$, '22023'),
  ('company_id too long',       $$SELECT whatsapp_auth.keys_set(repeat('x', 51), '{"session":{"1.0":{}}}')$$, '22023'),
  ('empty company_id',          $$SELECT whatsapp_auth.creds_set('', '{}')$$, '22023'),
  ('key_type in capitals',      $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"Pre-Key":{"1":{}}}')$$, '22023'),
  ('key_type too long',         $$SELECT whatsapp_auth.keys_set('tap', jsonb_build_object('session', '{"1.0":{}}'::jsonb, repeat('k', 65), '{"1":{}}'::jsonb))$$, '22023'),
  ('empty key_id',              $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{},"":{}}}')$$, '22023'),
  ('key_id over 255 chars',     $$SELECT whatsapp_auth.keys_set('tap', jsonb_build_object('session', jsonb_build_object('1.0', '{}'::jsonb, repeat('i', 256), '{}'::jsonb)))$$, '22023'),
  ('data is an array',          $$SELECT whatsapp_auth.keys_set('tap', '[{"session":{}}]')$$, '22023'),
  ('data is a string',          $$SELECT whatsapp_auth.keys_set('tap', '"session"')$$, '22023'),
  ('type maps to an array',     $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":[]}')$$, '22023'),
  ('type maps to a number',     $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":7}')$$, '22023'),
  ('creds not an object',       $$SELECT whatsapp_auth.creds_set('tap', '[1]')$$, '22023'),
  ('ids and vals lengths',      $$SELECT whatsapp_auth.keys_upsert('tap', 'session', '{1.0,2.0}', ARRAY['{}']::jsonb[])$$, '22023'),
  ('bad base64',                $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer","data":"AQ$D"}}}}')$$, '22P02'),
  ('base64 cut short',          $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer","data":"AQIDB"}}}}')$$, '22P02'),
  ('byte 256',                  $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer","data":[1,2,3,256]}}}}')$$, '22P02'),
  ('byte -1',                   $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer","data":[-1]}}}}')$$, '22P02'),
  ('byte 1.5',                  $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer","data":[1.5]}}}}')$$, '22P02'),
  ('byte as a string',          $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer","data":["1"]}}}}')$$, '22P02'),
  ('data of the wrong type',    $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer","data":true}}}}')$$, '22P02'),
  ('Buffer without data',       $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"type":"Buffer"}}}}')$$, '22P02'),
  ('legacy node, bad value',    $$SELECT whatsapp_auth.keys_set('tap', '{"session":{"1.0":{}},"pre-key":{"17":{"private":{"buffer":true,"value":{}}}}}')$$, '22P02'),
  ('bad Buffer in creds',       $$SELECT whatsapp_auth.creds_set('tap', '{"noiseKey":{"private":{"type":"Buffer","data":[300]}}}')$$, '22P02'),
  ('bad Buffer in keys_upsert', $$SELECT whatsapp_auth.keys_upsert('tap', 'pre-key', '{1,2}', ARRAY['{}', '{"type":"Buffer","data":"%"}']::jsonb[])$$, '22P02'),
  ('buffer_decode of a non-node', $$SELECT whatsapp_auth.buffer_decode('{"a":1}')$$, '22P02'),
  ('NULL data',                 $$SELECT whatsapp_auth.keys_set('tap', NULL)$$, '22004'),
  ('NULL company_id',           $$SELECT whatsapp_auth.keys_set(NULL, '{}')$$, '22004'),
  ('NULL creds',                $$SELECT whatsapp_auth.creds_set('tap', NULL)$$, '22004'),
  ('NULL id in ids',            $$SELECT whatsapp_auth.keys_upsert('tap', 'session', ARRAY['1.0', NULL], ARRAY['{}','{}']::jsonb[])$$, '22004');

SELECT throws_ok(call, sqlstate, NULL, what || ' is ' || sqlstate) FROM bad ORDER BY what;
SELECT is(pg_temp.unchanged(), '1/{"registrationId": 1}/{"v": 0}', 'after ' || what || ': nothing written')
FROM bad ORDER BY what;

-- a value over whatsapp_auth.max_value_size
SET LOCAL whatsapp_auth.max_value_size = '1kB';
SELECT throws_ok($$SELECT whatsapp_auth.keys_set('tap', jsonb_build_object('session',
    jsonb_build_object('1.0', '{}'::jsonb, '2.0', jsonb_build_object('blob', repeat('x', 2000)))))$$,
  '54000', NULL, 'a value over max_value_size is 54000');
SELECT throws_ok($$SELECT whatsapp_auth.creds_set('tap', jsonb_build_object('blob', repeat('x', 2000)))$$,
  '54000', NULL, 'creds over max_value_size is 54000');
SELECT is(pg_temp.unchanged(), '1/{"registrationId": 1}/{"v": 0}', 'nothing written after the size errors');

SELECT * FROM finish();
ROLLBACK;
