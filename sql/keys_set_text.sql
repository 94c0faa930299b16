-- keys_set_text: keys_set with its document as text, walked as it is
-- parsed.  One set of documents runs through both forms: each must write
-- the same rows, or fail with the same SQLSTATE, message and detail.
SET search_path = whatsapp_auth, public;

-- what a call did: the rows it left (then removed again), or its error
CREATE FUNCTION pg_temp.outcome(form text, company text, doc text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
  written text;
  st text;
  msg text;
  det text;
BEGIN
  IF form = 'jsonb' THEN
    SELECT * INTO r FROM whatsapp_auth.keys_set(company, doc::jsonb);
  ELSE
    SELECT * INTO r FROM whatsapp_auth.keys_set_text(company, doc);
  END IF;
  SELECT string_agg(k.key_type || '/' || k.key_id || '=' || k.value::text, ' ' ORDER BY k.key_type, k.key_id)
    INTO written FROM whatsapp_auth.keys k WHERE k.company_id = company;
  DELETE FROM whatsapp_auth.keys k WHERE k.company_id = company;
  RETURN format('ok %s/%s: %s', r.upserted, r.deleted,
                CASE WHEN length(written) > 160 THEN 'rows ' || md5(written) ELSE written END);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN format('%s: %s%s', st, msg, COALESCE(' (' || NULLIF(det, '') || ')', ''));
END $$;

CREATE TEMP TABLE doc (n serial, company text DEFAULT 'acme', d text);
INSERT INTO doc (d) VALUES
  -- writes
  ('{"pre-key": {"1": {"private":{"type":"Buffer","data":[1,2,3]},"public":{"type":"Buffer","data":"BAUG"}}},
     "session": {"79001000000.0": {"_sessions":{"BedY":{"registrationId":205}}, "version":"v1"}},
     "device-list": {"79001000000": ["0", "12"]},
     "lid-mapping": {"79001000000": "123456789012345", "123456789012345_reverse": "79001000000"},
     "sender-key-memory": {"120363010000000@g.us": {"79002000000@s.whatsapp.net": true}}}'),
  ('{"session":{"79001000001.0":{"v":1}},"pre-key":{"1":null}}'),
  ('{}'),
  ('{"session":{}}'),
  ('  {"session" : {"a.0" : { "x" : [ 1 , 2.50 , -0 , 1e3 , 12345678901234567890 ] } } }  '),
  ('{"session":{"a.0":1,"a.0":2}}'),
  ('{"session":{"a.0":1},"pre-key":{"1":{}},"session":{"b.0":2}}'),
  ('{"session":{"a.0":{"k":1,"k":2}}}'),
  ('{"session":{"a\"b\\c\u00e9\n.0":{"s":"\t\u00e9\ud83d\ude00"}}}'),
  ('{"session":{"s.0":"text","n.0":42,"t.0":true,"f.0":false,"e.0":[],"o.0":{}}}'),
  ('{"session":{"deep.0":' || repeat('[', 1000) || repeat(']', 1000) || '}}'),
  ('{"session":{"deep.0":' || repeat('[', 10000) || repeat(']', 10000) || '}}'),
  -- refused shapes, names and values
  ('{"session":{"n.0":{}}, "Bad_Type":{"1":{}}}'),
  ('{"session":{"n.0":{}, "":{}}}'),
  ('{"session":{"n.0":{}, "' || repeat('i', 256) || '":{}}}'),
  ('{"session":{"n.0":{}}, "pre-key":[1]}'),
  ('{"session":{"n.0":{}}, "pre-key":"x"}'),
  ('{"session":{"n.0":{}}, "pre-key":null}'),
  ('{"session":{"n.0":{}}, "pre-key":7}'),
  ('[{"session":{}}]'),
  ('"session"'),
  ('null'),
  ('17'),
  ('{"session":{"n.0":{}}, "pre-key":{"17":{"private":{"type":"Buffer","data":[1,2,3,256]}}}}'),
  ('{"session":{"n.0":{}}, "pre-key":{"17":{"private":{"type":"Buffer","data":"A$=="}}}}'),
  ('{"session":{"n.0":{}}, "pre-key":{"17":{"private":{"type":"Buffer","data":{"a":1}}}}}'),
  ('{"session":{"n.0":{}}, "pre-key":{"17":{"k":{"type":"Buffer","data":[1,2]},"l":{"buffer":true,"value":"x!"}}}}'),
  -- malformed JSON: the errors of jsonb's input
  ('{"session":{"a.0":1,}}'),
  ('{"session":'),
  (''),
  ('{"session" {"a.0":1}}'),
  ('{"session":{"a.0":nul}}'),
  ('{"session":{"a.0":{"s":"\u0000"}}}'),
  ('{"session":{"\u0000":1}}'),
  ('{"session":{"a.0":"\ud800"}}'),
  ('{"session":{"a.0":"\uZZZZ"}}'),
  ('{"session":{"a.0":1}} x'),
  ('{"session":{"a.0":"' || chr(10) || '"}}');
INSERT INTO doc (company, d) VALUES
  ('acme y', '{"session":{"n.0":{}}}'),
  (NULL, '{}'),
  ('acme', NULL);

SELECT n, j IS NOT DISTINCT FROM t AS same, j AS outcome
  FROM (SELECT n, pg_temp.outcome('jsonb', company, d) AS j, pg_temp.outcome('text', company, d) AS t FROM doc) x
 ORDER BY n;

-- a value over whatsapp_auth.max_value_size, and one just under it
SET whatsapp_auth.max_value_size = '1kB';
SELECT j IS NOT DISTINCT FROM t AS same, j AS outcome
  FROM (SELECT pg_temp.outcome('jsonb', 'acme', d) AS j, pg_temp.outcome('text', 'acme', d) AS t
          FROM (VALUES ('{"session":{"n.0":{},"big.0":{"blob":"' || repeat('x', 2000) || '"}}}'),
                       ('{"session":{"n.0":{},"fits.0":{"blob":"' || repeat('x', 900) || '"}}}')) v(d)) x;
RESET whatsapp_auth.max_value_size;

-- 10,000 keys in one call, the same rows either way
SELECT j = t AS same, j AS outcome
  FROM (SELECT pg_temp.outcome('jsonb', 'bulk', d) AS j, pg_temp.outcome('text', 'bulk', d) AS t
          FROM (SELECT jsonb_build_object('pre-key', jsonb_object_agg(g::text,
                   jsonb_build_object('private', jsonb_build_object('type', 'Buffer', 'data', jsonb_build_array(g % 256, 1, 2)))),
                   'session', jsonb_object_agg(g || '.0', jsonb_build_object('n', g)))::text AS d
                FROM generate_series(1, 5000) g) v) x;

-- 2,600 keys of 1.5 kB, deletes among them: upserts go in batches cut by
-- their keys, their bytes and the deletes; every row written either way
SELECT j = t AS same, j AS outcome
  FROM (SELECT pg_temp.outcome('jsonb', 'bulk', d) AS j, pg_temp.outcome('text', 'bulk', d) AS t
          FROM (SELECT jsonb_build_object('pre-key', jsonb_object_agg(g::text,
                   CASE WHEN g % 700 = 0 THEN NULL
                        ELSE jsonb_build_object('b', repeat('x', 1500) || g) END),
                   'session', jsonb_object_agg(g || '.0', jsonb_build_object('n', g)) FILTER (WHERE g <= 100))::text AS d
                FROM generate_series(1, 2500) g) v) x;

-- nothing half-written: an error after a thousand good keys leaves none
SELECT pg_temp.outcome('text', 'acme', (SELECT '{"session":{' || string_agg('"' || g || '.0":{}', ',') || '}, "pre-key":[1]}'
                                        FROM generate_series(1, 1000) g)) AS outcome,
       (SELECT count(*) FROM keys WHERE company_id = 'acme') AS keys_written;
