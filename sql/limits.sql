-- Limits and interruptions: timeouts and lock waits during keys_set end
-- with a clear error and nothing written; huge or hostile inputs end in a
-- typed error or a bounded success, never a crash.
SET search_path = whatsapp_auth, public;

-- statement_timeout in the middle of a large keys_set (the document is
-- built first, so the timeout fires inside the call; whether in the C code
-- or in its INSERT depends on the machine's speed, so no CONTEXT line)
CREATE TEMP TABLE big_doc AS SELECT jsonb_build_object('session', jsonb_object_agg(g::text,
    jsonb_build_object('k', repeat('x', 500)))) AS d FROM generate_series(1, 100000) g;
SET statement_timeout = '50ms';
\set VERBOSITY terse
SELECT * FROM keys_set('big', (SELECT d FROM big_doc));
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) AS nothing_written FROM keys WHERE company_id = 'big';

-- lock_timeout while another session holds one of the keys
CREATE EXTENSION dblink;
SELECT * FROM keys_set('locked', '{"session":{"1.0":{"v":0}}}');
SELECT dblink_connect('holder', format('host=%s port=%s dbname=%s',
    split_part(current_setting('unix_socket_directories'), ',', 1),
    current_setting('port'), current_database()));
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', $$SELECT upserted FROM whatsapp_auth.keys_set('locked', '{"session":{"1.0":{"v":1}}}')$$) AS t(upserted int);
SET lock_timeout = '100ms';
\set VERBOSITY terse
SELECT * FROM keys_set('locked', '{"session":{"0.0":{"v":2},"1.0":{"v":2},"2.0":{"v":2}}}');
\set VERBOSITY default
RESET lock_timeout;
SELECT dblink_exec('holder', 'ROLLBACK');
SELECT dblink_disconnect('holder');
SELECT key_id, value FROM keys WHERE company_id = 'locked' ORDER BY key_id;

-- 100,000 keys in one call
SELECT * FROM keys_set('big', (SELECT jsonb_build_object('pre-key', jsonb_object_agg(g::text,
    '{"private":{"type":"Buffer","data":"AQID"}}'::jsonb)) FROM generate_series(1, 100000) g));
SELECT count(*) FROM keys WHERE company_id = 'big';

-- a 50 MB value is over max_value_size (4 MB): 54000, nothing written
SELECT * FROM keys_set('big', jsonb_build_object('session', jsonb_build_object('huge.0',
    jsonb_build_object('blob', repeat('x', 50 * 1024 * 1024)))));
SELECT count(*) FROM keys WHERE company_id = 'big' AND key_type = 'session';

-- 1,000,000-element byte array: decoded, stored as base64 (1,333,336 chars)
SELECT length(buffers_normalize(jsonb_build_object('type', 'Buffer', 'data',
    (SELECT jsonb_agg(g % 256) FROM generate_series(1, 1000000) g))) ->> 'data') AS base64_length;

-- 10,000-deep nesting: a typed error or a normalised value, never a crash
SELECT buffers_normalize((repeat('[', 10000) || '{"type":"Buffer","data":[1]}' || repeat(']', 10000))::jsonb)
  #>> (SELECT array_agg('0'::text) FROM generate_series(1, 10000)) AS deep_buffer;
SELECT * FROM keys_set('big', ('{"session":{"deep.0":' || repeat('[', 10000) || repeat(']', 10000) || '}}')::jsonb);

SELECT session_remove('big'), session_remove('locked');
DROP EXTENSION dblink;
