-- session_export / session_import, and import_legacy from the client-side tables
SET search_path = whatsapp_auth, public;

SELECT creds_set('acme', '{"noiseKey":{"private":{"type":"Buffer","data":[1,2,3]}},"registrationId":205}');
SELECT * FROM keys_set('acme', '{"pre-key":{"1":{"private":{"type":"Buffer","data":"AQID"}}},
                                 "session":{"1.0":{"v":1},"2.0":{"v":2}},
                                 "lid-mapping":{"123_reverse":"79001"}}');
-- expired keys are not part of the state
UPDATE keys SET expires_at = now() - interval '1 second' WHERE company_id = 'acme' AND key_id = '2.0';

SELECT session_export('acme') - 'exported_at' AS exported;
SELECT session_export('nobody') IS NULL AS nothing_to_export;

-- import refuses to overwrite unless replace
SELECT session_import(session_export('acme'));
SELECT session_import(session_export('acme'), replace => true);
SELECT session_import(jsonb_set(session_export('acme'), '{company_id}', '"copy"'));
SELECT (session_export('acme') - 'exported_at' - 'company_id')
     = (session_export('copy') - 'exported_at' - 'company_id') AS round_trip_exact;
-- replace drops what the document does not have
SELECT session_import('{"company_id":"copy","creds":{"registrationId":9},"keys":{}}', true);
SELECT session_export('copy') - 'exported_at' AS replaced;

-- validated and normalised like keys_set; nothing written on error
SELECT session_import('{"company_id":"new","keys":{"pre-key":{"1":{"type":"Buffer","data":[1,2]}}}}');
SELECT keys_get('new', 'pre-key', '{1}');
SELECT session_import('{"company_id":"bad","creds":{},"keys":{"pre-key":{"1":{"type":"Buffer","data":[1,256]}}}}');
SELECT session_import('{"company_id":"bad id","creds":{}}');
SELECT session_import('{"creds":{}}');
SELECT session_import('{"company_id":"bad","creds":[]}');
SELECT session_import('{"company_id":"bad","keys":{"Pre":{}}}');
SELECT session_import('[]');
SELECT session_import(NULL);
SELECT count(*) AS nothing_written FROM creds WHERE company_id = 'bad';

-- the legacy layout: buffers in byte-array form, expiry computed in JS
CREATE TABLE public.legacy_auth (company_id varchar(50) PRIMARY KEY, creds jsonb, updated_at timestamptz);
CREATE TABLE public.legacy_keys (company_id varchar(50), key_type varchar(100), key_id varchar(255),
  value jsonb, updated_at timestamptz, expires_at timestamptz, PRIMARY KEY (company_id, key_type, key_id));
INSERT INTO public.legacy_auth VALUES
  ('old', '{"noiseKey":{"private":{"type":"Buffer","data":[1,2,3]}}}', now()),
  ('nocreds', NULL, now());
INSERT INTO public.legacy_keys VALUES
  ('old', 'pre-key', '5', '{"private":{"type":"Buffer","data":[4,5,6]}}', now(), now() + interval '7 days'),
  ('old', 'session', '1.0', '{"_sessions":{}}', now(), now() + interval '7 days'),
  ('old', 'sender-key', 'g::1', '[{"senderKeyId":1}]', now(), now() - interval '1 day'),
  ('old', 'lid-mapping', '1_reverse', '"79001"', now(), NULL);
SELECT import_legacy('public.legacy_auth', 'public.legacy_keys');
-- idempotent
SELECT import_legacy('public.legacy_auth', 'public.legacy_keys');
SELECT key_type, key_id, value, key_ttl(key_type) AS ttl,
       expires_at = date_bin('1 hour', updated_at + key_ttl(key_type) + interval '1 hour'
                             - interval '1 microsecond', timestamptz '2000-01-01 00:00+00') AS on_next_hour
FROM keys WHERE company_id = 'old' ORDER BY 1, 2;
SELECT creds_get('old');
SELECT creds_get('nocreds') IS NULL AS no_creds_row;
-- a bad row stops the import; nothing of it is kept
INSERT INTO public.legacy_keys VALUES ('old', 'pre-key', '6', '{"private":{"type":"Buffer","data":[1,300]}}', now(), NULL);
SELECT import_legacy('public.legacy_auth', 'public.legacy_keys');
SELECT keys_get('old', 'pre-key', '{6}') AS not_imported;
SELECT import_legacy('public.no_such_table', 'public.legacy_keys');

DROP TABLE public.legacy_auth, public.legacy_keys;
SELECT session_remove('acme'), session_remove('copy'), session_remove('new'), session_remove('old');

-- an import larger than work_mem: its writes sorted on disk, then written
-- in lock order a batch at a time; the export gives back what it took
SET work_mem = '64kB';
CREATE TEMP TABLE big AS
SELECT jsonb_build_object('company_id', 'big', 'creds', '{}'::jsonb, 'keys', jsonb_build_object(
         'pre-key', jsonb_object_agg(g::text, jsonb_build_object('b', repeat('x', 1000) || g)),
         'session', jsonb_object_agg(g || '.0', jsonb_build_object('n', g)) FILTER (WHERE g <= 1500))) AS doc
FROM generate_series(1, 3000) g;
SELECT session_import(doc) FROM big;
SELECT session_import(doc, replace => true) FROM big;
SELECT session_export('big') -> 'keys' = doc -> 'keys' AS same_keys,
       (SELECT count(*) FROM keys WHERE company_id = 'big') AS keys
FROM big;
-- a value refused among them: the import fails, the stored state stays
SELECT session_import(jsonb_set(doc, '{keys,pre-key,2999}', '{"private":{"type":"Buffer","data":[1,300]}}'),
                      replace => true) FROM big;
SELECT count(*) AS keys_kept FROM keys WHERE company_id = 'big';
RESET work_mem;
SELECT session_remove('big');
