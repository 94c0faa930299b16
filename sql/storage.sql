-- How key values are stored: compressed (lz4) where that makes them
-- smaller, by every write path; read back the same by every read path.
SET search_path = whatsapp_auth, public;

-- a session-shaped value (Buffers in canonical form, distinct bytes), about
-- 1 kB of jsonb like a real Baileys session, and one of about 20 kB
CREATE FUNCTION pg_temp.session(chains int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('_sessions', jsonb_build_object('BedY', jsonb_build_object(
    'registrationId', 205,
    'currentRatchet', jsonb_build_object('ephemeralKeyPair', jsonb_build_object(
      'pubKey', jsonb_build_object('type', 'Buffer', 'data', encode(sha256('pub'), 'base64')),
      'privKey', jsonb_build_object('type', 'Buffer', 'data', encode(sha256('priv'), 'base64')))),
    '_chains', (SELECT jsonb_object_agg(encode(sha256(i::text::bytea), 'base64'), jsonb_build_object(
                  'chainKey', jsonb_build_object('counter', i, 'key',
                    jsonb_build_object('type', 'Buffer', 'data', encode(sha256(('k' || i)::bytea), 'base64'))),
                  'chainType', 1, 'messageKeys', '{}'::jsonb))
                FROM generate_series(1, chains) i))),
    'version', 'v1')
$$;
CREATE TEMP TABLE sample AS
  SELECT pg_temp.session(3) AS small, pg_temp.session(80) AS large,
         '{"private":{"type":"Buffer","data":"AQID"},"public":{"type":"Buffer","data":"BAUG"}}'::jsonb AS tiny;
SELECT pg_column_size(pg_temp.session(3)) BETWEEN 800 AND 1200 AS small_about_1kb,
       pg_column_size(pg_temp.session(80)) BETWEEN 16000 AND 30000 AS large_about_20kb;

-- one key (its own upsert), several (the array upsert), a whole session
-- (session_import), a typed batch (keys_upsert)
SELECT upserted FROM sample, keys_set('one', jsonb_build_object('session', jsonb_build_object('a.0', small)));
SELECT upserted FROM sample, keys_set('many', jsonb_build_object(
  'session', jsonb_build_object('a.0', small, 'b.0', large), 'pre-key', jsonb_build_object('1', tiny)));
SELECT session_import(jsonb_build_object('company_id', 'imported', 'creds', '{}'::jsonb,
  'keys', jsonb_build_object('session', jsonb_build_object('a.0', small, 'b.0', large), 'pre-key', jsonb_build_object('1', tiny))))
  FROM sample;
SELECT keys_upsert('typed', 'session', '{a.0,b.0}', ARRAY[small, large]) FROM sample;
-- written again: the new version is stored the same way
SELECT upserted FROM sample, keys_set('one', jsonb_build_object('session', jsonb_build_object('a.0', small)));

-- compressed where it pays (both sessions), not the tiny pre-key; every
-- value the same as written
SELECT k.company_id, k.key_type, k.key_id, pg_column_compression(k.value) AS compression,
       pg_column_size(k.value) < octet_length(k.value::text) AS smaller_than_its_text,
       k.value = CASE k.key_id WHEN 'a.0' THEN s.small WHEN 'b.0' THEN s.large ELSE s.tiny END AS same
  FROM keys k, sample s ORDER BY 1, 2, 3;

-- read back the same through every reader
SELECT keys_get('many', 'session', '{a.0,b.0}') = jsonb_build_object('a.0', small, 'b.0', large) AS keys_get,
       keys_get_json('many', 'session', '{a.0,b.0}')::jsonb = jsonb_build_object('a.0', small, 'b.0', large) AS keys_get_json,
       session_export('imported') -> 'keys' -> 'session' = jsonb_build_object('a.0', small, 'b.0', large) AS session_export,
       (SELECT jsonb_object_agg(key_id, value) FROM keys_page('typed', 'session'))
         = jsonb_build_object('a.0', small, 'b.0', large) AS keys_page
  FROM sample;

-- Compressed values up to a page stay in their row, where a rewrite's old
-- version is pruned as the page is visited; only a larger one goes to TOAST
CREATE TEMP TABLE sized AS SELECT pg_temp.session(30) AS mid, pg_temp.session(200) AS page;
SELECT reltoastrelid::regclass AS toast FROM pg_class WHERE oid = 'whatsapp_auth.keys'::regclass \gset
SELECT count(DISTINCT chunk_id) AS toasted_before FROM :toast \gset
SELECT upserted FROM sized, keys_set('rows', jsonb_build_object('session', jsonb_build_object('mid.0', mid, 'page.0', page)));
SELECT k.key_id, pg_column_size(k.value) > 2100 AS over_a_toast_row, pg_column_size(k.value) > 8160 AS over_a_page,
       k.value = CASE k.key_id WHEN 'mid.0' THEN s.mid ELSE s.page END AS same
  FROM keys k, sized s WHERE k.company_id = 'rows' ORDER BY k.key_id;
SELECT count(DISTINCT chunk_id) - :toasted_before AS values_in_toast FROM :toast;
SELECT keys_get_json('rows', 'session', '{mid.0,page.0}')::jsonb = jsonb_build_object('mid.0', mid, 'page.0', page) AS read_back
  FROM sized;

SELECT session_remove(c) FROM unnest('{one,many,imported,typed,rows}'::text[]) c;
