-- session_import_files / session_export_files (useMultiFileAuthState
-- folders) and keys_page (keys.list / keys.listIds)
SET search_path = whatsapp_auth, public;
\set VERBOSITY terse

-- A folder as Baileys writes it: names through fixFileName, Buffers in
-- both forms, leftovers that are not state
SELECT '{"creds.json": "{\"noiseKey\":{\"private\":{\"type\":\"Buffer\",\"data\":[1,2,3]}},\"registrationId\":205}", "pre-key-1.json": "{\"private\":{\"type\":\"Buffer\",\"data\":\"AQID\"}}", "session-79001.0.json": "{\"v\":1}", "session-123456789012345_1.3.json": "{\"v\":2}", "sender-key-120363@g.us--79001--12.json": "{\"sk\":1}", "sender-key-1234-5678@g.us--79001--0.json": "{\"sk\":2}", "sender-key-memory-120363@g.us.json": "{\"79001:12@s.whatsapp.net\":true}", "sender-key-memory-1234-5678@g.us.json": "{}", "app-state-sync-key-AB__CD+E.json": "{\"keyData\":{\"type\":\"Buffer\",\"data\":\"AQ==\"}}", "app-state-sync-version-regular_high.json": "{\"version\":3}", "lid-mapping-79001.json": "\"123456789012345\"", "lid-mapping-123456789012345_reverse.json": "\"79001\"", "device-list-79001.json": "[\"0\",\"12\"]", "tctoken-__index.json": "{\"token\":{\"type\":\"Buffer\",\"data\":\"AQ==\"}}", "tctoken-79001@s.whatsapp.net.json": "{\"token\":{\"type\":\"Buffer\",\"data\":\"Ag==\"}}", "identity-key-79001.0.json": "{\"type\":\"Buffer\",\"data\":\"BQ==\"}", "creds.json.bak": "{", "pre-key-1.json.tmp": "", ".DS_Store": "x"}'::jsonb AS folder \gset
\set VERBOSITY default
SELECT session_import_files('acme', :'folder');
\set VERBOSITY terse
SELECT key_type, key_id, value FROM keys WHERE company_id = 'acme' ORDER BY key_type, key_id;
SELECT creds_get('acme');
-- expiry from key_ttl, as keys_set gives it
SELECT key_type, count(*) FILTER (WHERE expires_at IS NULL) AS never,
       count(*) FILTER (WHERE expires_at > now()) AS expiring
  FROM keys WHERE company_id = 'acme' GROUP BY 1 ORDER BY 1;

-- the same folder back, names encoded again; an expired key is not exported
UPDATE keys SET expires_at = now() - interval '1 second'
 WHERE company_id = 'acme' AND key_type = 'session' AND key_id = '79001.0';
SELECT * FROM session_export_files('acme');
SELECT count(*) AS unknown_company FROM session_export_files('nobody');
-- what it exports imports under another company to the same state
SELECT session_import_files('copy', (SELECT jsonb_object_agg(file_name, content) FROM session_export_files('acme')));
SELECT (SELECT array_agg(f ORDER BY f.file_name) FROM session_export_files('acme') f)
     = (SELECT array_agg(f ORDER BY f.file_name) FROM session_export_files('copy') f) AS round_trip_exact;

-- an existing company only with replace, like session_import
SELECT session_import_files('acme', :'folder');
SELECT session_import_files('acme', '{"creds.json": "{\"registrationId\":9}"}', replace => true);
SELECT count(*) AS keys_after_replace FROM keys WHERE company_id = 'acme';

-- bad input: a typed error naming the file (and the path inside it), nothing written
SELECT session_import_files('new', '{"creds.json": "{}", "pre-keys-1.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "Session-1.0.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "pre-key-.json": "{}"}');
SELECT session_import_files('new', jsonb_build_object('creds.json', '{}', 'session-' || repeat('9', 256) || '.json', '{}'));
\set VERBOSITY default
SELECT session_import_files('new', '{"creds.json": "{}", "pre-key-1.json": "{\"private\":{\"type\":\"Buffer\",\"data\":\"AQ"}');
SELECT session_import_files('new', '{"creds.json": "{}", "pre-key-1.json": "{\"a\":1}\n {\"b\"}"}');
\set VERBOSITY terse
SELECT session_import_files('new', '{"creds.json": "{}", "pre-key-1.json": "{\"private\":{\"type\":\"Buffer\",\"data\":[1,256]}}"}');
SELECT session_import_files('new', '{"creds.json": "{\"me\":{\"type\":\"Buffer\",\"data\":\"A*==\"}}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "pre-key-1.json": "null"}');
SELECT session_import_files('new', '{"creds.json": "{}", "pre-key-1.json": {"private": 1}}');
SELECT session_import_files('new', '{"pre-key-1.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "[]"}');
SELECT session_import_files('new', '{"creds.json": "\"x\""}');
SELECT session_import_files('new', '["creds.json"]');
SELECT session_import_files('bad id', '{"creds.json": "{}"}');
SELECT session_import_files(NULL, '{"creds.json": "{}"}');
SELECT session_import_files('new', NULL);
SELECT session_import_files('new', '{"creds.json": "{}"}', NULL);
SELECT count(*) AS nothing_written FROM keys WHERE company_id = 'new';
SELECT creds_get('new') IS NULL AS no_creds;

-- names that two ids could have produced are refused, never guessed
\set VERBOSITY default
SELECT session_import_files('new', '{"creds.json": "{}", "sender-key-1@g.us---79001--0.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "sender-key-1@g.us--a__b--0.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "sender-key-memory-1--2@g.us.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "app-state-sync-key-AB___C.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "app-state-sync-key-AB-C.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "session-79001-12.0.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "tctoken-a__b.json": "{}"}');
SELECT session_import_files('new', '{"creds.json": "{}", "lid-mapping-1__index.json": "\"1\""}');

\set VERBOSITY terse

-- keys_page: id order (bytewise), pages from after_id, expired keys skipped
SELECT session_import_files('pages', (SELECT jsonb_object_agg('session-' || i || '.0.json', '{"n":' || i || '}')
                                        FROM generate_series(1, 25) i) || '{"creds.json": "{}"}');
UPDATE keys SET expires_at = now() - interval '1 second'
 WHERE company_id = 'pages' AND key_id IN ('11.0', '2.0');
SELECT key_id, value FROM keys_page('pages', 'session', page_size => 5);
SELECT key_id, value FROM keys_page('pages', 'session', '14.0', 5);
SELECT key_id, value FROM keys_page('pages', 'session', '3.0', 5, with_values => false);
SELECT count(*) FROM keys_page('pages', 'pre-key');
SELECT count(*) FROM keys_page('nobody', 'session');
SELECT keys_page('pages', 'session', NULL, 0);
SELECT keys_page('pages', 'session', NULL, 10001);
SELECT keys_page('pages', 'Bad Type');
SELECT keys_page(NULL, 'session');
SELECT keys_page('pages', NULL);
SELECT keys_page('pages', 'session', NULL, NULL);

-- a pinned session reaches its own company only
SET whatsapp_auth.company_id = 'acme';
SELECT count(*) FROM keys_page('pages', 'session');
SELECT count(*) FROM session_export_files('pages');
SELECT session_import_files('pages', '{"creds.json": "{}"}', true);
RESET whatsapp_auth.company_id;

SELECT session_remove(c) FROM unnest(ARRAY['acme', 'copy', 'pages']) c;

-- a folder larger than work_mem: its writes sorted on disk, the same rows
SET work_mem = '64kB';
SELECT session_import_files('bigfolder', jsonb_object_agg(name, body), true)
FROM (SELECT 'pre-key-' || g || '.json' AS name, jsonb_build_object('b', repeat('x', 1000) || g)::text AS body
      FROM generate_series(1, 3000) g
      UNION ALL SELECT 'creds.json', '{}') f;
SELECT count(*) AS keys,
       string_agg(key_id || '=' || value::text, ',' ORDER BY key_id) =
       (SELECT string_agg(g::text || '=' || jsonb_build_object('b', repeat('x', 1000) || g)::text, ',' ORDER BY g::text)
        FROM generate_series(1, 3000) g) AS same_values
FROM keys WHERE company_id = 'bigfolder';
RESET work_mem;
SELECT session_remove('bigfolder');
