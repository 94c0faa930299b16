-- keys_get_json: keys_get's answer as json text, the same keys and values
SET search_path = whatsapp_auth, public;

-- every kind of JSON value, strings that need escapes among them
SELECT upserted FROM keys_set('acme', jsonb_build_object('session', jsonb_build_object(
  '1.0', '{"_sessions":{"BedY":{"registrationId":205,"chain":{"type":"Buffer","data":"AQID"}}},"version":"v1"}'::jsonb,
  '2.0', jsonb_build_object('ctl', chr(1) || chr(8) || chr(9) || chr(10) || chr(12) || chr(13) || chr(31),
                            'quote "and" \back\slash', 'é ü 日本 😀', 'n', -1.5e3, 'big', 12345678901234567890.5,
                            't', true, 'f', false, 'z', 'null'::jsonb, 'e', '[]'::jsonb, 'o', '{}'::jsonb,
                            'nest', '[[1, [2, {"a": [null, "x"]}]], {}]'::jsonb),
  '3.0', to_jsonb('a "string" at the root'::text),
  '4.0', '42'::jsonb, '5.0', 'true'::jsonb, '6.0', '[]'::jsonb,
  'id "quoted" \ and' || chr(9) || 'tab', '{"k":1}'::jsonb)));
SELECT keys_get_json('acme', 'session', '{1.0,2.0,3.0,4.0,5.0,6.0,404}');
SELECT keys_get_json('acme', 'session', ARRAY['id "quoted" \ and' || chr(9) || 'tab']);

-- the same answer as keys_get: as a whole, and value by value in the very
-- text jsonb prints
CREATE FUNCTION pg_temp.same(company text, type text, ids text[]) RETURNS boolean LANGUAGE sql AS $$
  SELECT keys_get_json(company, type, ids)::jsonb = keys_get(company, type, ids)
     AND (SELECT count(*) FROM json_each(keys_get_json(company, type, ids)))
         = (SELECT count(*) FROM jsonb_each(keys_get(company, type, ids)))
     AND (SELECT bool_and(j.value::text = b.value::text)
          FROM json_each(keys_get_json(company, type, ids)) j
          JOIN jsonb_each(keys_get(company, type, ids)) b USING (key))
$$;
SELECT pg_temp.same('acme', 'session', ARRAY(SELECT key_id FROM keys WHERE company_id = 'acme')) AS all_ids,
       pg_temp.same('acme', 'session', '{2.0}') AS one_id,
       pg_temp.same('acme', 'session', '{2.0,2.0,NULL}') AS duplicates_and_null;

-- 1,000 ids of the shape Baileys writes
SELECT upserted FROM keys_set('many', jsonb_build_object('session', (
  SELECT jsonb_object_agg(i || '.0', jsonb_build_object(
           '_sessions', jsonb_build_object('k' || i, jsonb_build_object(
             'registrationId', i,
             'rootKey', jsonb_build_object('type', 'Buffer', 'data', encode(sha256(i::text::bytea), 'base64')),
             'chains', jsonb_build_array(i, i * 2, md5(i::text)))),
           'version', 'v1'))
  FROM generate_series(1, 1000) i)));
SELECT pg_temp.same('many', 'session', ARRAY(SELECT i || '.0' FROM generate_series(0, 1001) i)) AS thousand_ids,
       (SELECT count(*) FROM json_object_keys(keys_get_json('many', 'session',
          ARRAY(SELECT i || '.0' FROM generate_series(0, 1001) i)))) AS found;

-- a character that needs an escape (or, chr(127) and space, does not) at
-- every offset of a run the printer copies whole, after bytes of multibyte
-- characters that never need one
SELECT upserted FROM keys_set('offsets', jsonb_build_object('session', (
  SELECT jsonb_object_agg(c.n || '.' || o, jsonb_build_object('v',
           repeat('é', o % 3) || repeat('A', o) || c.ch || repeat('b', 19 - o) || '日', 'k' || c.ch, o))
  FROM generate_series(0, 19) o,
       (VALUES (1, chr(1)), (2, chr(31)), (3, '"'), (4, '\'), (5, chr(10)), (6, chr(127)), (7, ' ')) c(n, ch))));
SELECT pg_temp.same('offsets', 'session', ARRAY(SELECT key_id FROM keys WHERE company_id = 'offsets')) AS every_offset,
       (SELECT count(*) FROM keys WHERE company_id = 'offsets') AS ids;

-- expired keys, other companies and types, no ids: left out, {} for none
UPDATE keys SET expires_at = now() - interval '1 second' WHERE company_id = 'acme' AND key_id = '4.0';
SELECT keys_get_json('acme', 'session', '{4.0,5.0}') AS without_expired,
       keys_get_json('acme', 'pre-key', '{1.0}') AS other_type,
       keys_get_json('other', 'session', '{1.0}') AS other_company,
       keys_get_json('acme', 'session', '{}') AS no_ids,
       keys_get_json('acme', 'session', '{404}') AS none;

-- STRICT like keys_get; the same argument errors
SELECT keys_get_json(NULL, 'session', '{1.0}') IS NULL AS null_company,
       keys_get_json('acme', NULL, '{1.0}') IS NULL AS null_type,
       keys_get_json('acme', 'session', NULL) IS NULL AS null_ids;
\set VERBOSITY terse
SELECT keys_get_json('not valid', 'session', '{1.0}');
SELECT keys_get('not valid', 'session', '{1.0}');
SELECT keys_get_json('acme', '', '{1.0}');
SELECT keys_get('acme', '', '{1.0}');
\set VERBOSITY default

SELECT session_remove('acme'), session_remove('many'), session_remove('offsets');
