-- Nothing is usable by PUBLIC after CREATE EXTENSION: no privilege on the
-- schema, any table, sequence or routine; a role without grants gets 42501
-- from every function; the README's application grants are enough to run
-- the key store, and its operations grants to monitor and purge; the
-- lease grants to hold a lease and write with its token, and the fence of
-- a write needs no privilege on leases (roles granted before 1.2 work).
BEGIN;
SELECT plan(102);

SELECT schema_privs_are('whatsapp_auth', 'public', ARRAY[]::text[], 'PUBLIC has no privilege on the schema');
SELECT table_privs_are('whatsapp_auth', t, 'public', ARRAY[]::text[], 'PUBLIC has no privilege on ' || t)
FROM unnest(ARRAY['creds', 'keys', 'key_ttl', 'purge_log', 'leases']) t;
SELECT sequence_privs_are('whatsapp_auth', 'purge_log_id_seq', 'public', ARRAY[]::text[],
  'PUBLIC has no privilege on the purge_log sequence');
SELECT is((SELECT count(*)::int FROM pg_proc p
           WHERE p.pronamespace = 'whatsapp_auth'::regnamespace
             AND (p.proacl IS NULL OR has_function_privilege('public', p.oid, 'EXECUTE'))),
  0, 'PUBLIC can execute no routine');

SELECT function_privs_are('whatsapp_auth', p.proname,
         (SELECT coalesce(array_agg(format_type(t, NULL) ORDER BY i), ARRAY[]::text[])
            FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)),
         'public', ARRAY[]::text[], 'PUBLIC cannot execute ' || p.oid::regprocedure)
  FROM pg_proc p
 WHERE p.pronamespace = 'whatsapp_auth'::regnamespace AND p.prokind = 'f'
 ORDER BY p.proname;

-- The routines run with the caller's privileges, so the grants above and
-- the row level security policies decide what a role reaches; a SECURITY
-- DEFINER routine would have to pin its search_path.
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'whatsapp_auth'::regnamespace AND prosecdef),
  0, 'no routine is SECURITY DEFINER');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'whatsapp_auth'::regnamespace
             AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
             AND NOT coalesce(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)),
  0, 'every PL/pgSQL routine pins search_path = pg_catalog, pg_temp');

CREATE ROLE wa_tap_nobody;
CREATE ROLE wa_tap_app;
GRANT USAGE ON SCHEMA whatsapp_auth TO wa_tap_nobody;
GRANT USAGE ON SCHEMA whatsapp_auth TO wa_tap_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON whatsapp_auth.creds, whatsapp_auth.keys TO wa_tap_app;
GRANT SELECT ON whatsapp_auth.key_ttl TO wa_tap_app;
GRANT EXECUTE ON FUNCTION
  whatsapp_auth.creds_get(text), whatsapp_auth.creds_set(text, jsonb, bigint),
  whatsapp_auth.keys_get(text, text, text[]), whatsapp_auth.keys_set(text, jsonb, bigint),
  whatsapp_auth.keys_upsert(text, text, text[], jsonb[], bigint), whatsapp_auth.keys_delete(text, text, text[], bigint),
  whatsapp_auth.keys_clear(text, bigint), whatsapp_auth.session_remove(text, bigint), whatsapp_auth.key_ttl(text),
  whatsapp_auth.keys_page(text, text, text, integer, boolean),
  whatsapp_auth.keys_get_json(text, text, text[]), whatsapp_auth.keys_set_text(text, text, bigint)
  TO wa_tap_app;

SET LOCAL ROLE wa_tap_nobody;
SELECT throws_ok(call, '42501', NULL, 'without grants: ' || call) FROM unnest(ARRAY[
  $$SELECT whatsapp_auth.creds_get('a')$$,
  $$SELECT whatsapp_auth.creds_set('a', '{}')$$,
  $$SELECT whatsapp_auth.keys_get('a', 'session', '{1}')$$,
  $$SELECT whatsapp_auth.keys_get_json('a', 'session', '{1}')$$,
  $$SELECT whatsapp_auth.keys_set('a', '{}')$$,
  $$SELECT whatsapp_auth.keys_set_text('a', '{}')$$,
  $$SELECT whatsapp_auth.keys_upsert('a', 'session', '{1}', ARRAY['{}']::jsonb[])$$,
  $$SELECT whatsapp_auth.keys_delete('a', 'session', '{1}')$$,
  $$SELECT whatsapp_auth.keys_clear('a')$$,
  $$SELECT whatsapp_auth.session_remove('a')$$,
  $$SELECT whatsapp_auth.key_ttl('session')$$,
  $$SELECT whatsapp_auth.buffer_decode('{"type":"Buffer","data":""}')$$,
  $$SELECT whatsapp_auth.buffer_encode('\x00')$$,
  $$SELECT whatsapp_auth.buffers_normalize('{}')$$,
  $$SELECT whatsapp_auth.jsonb_buffer('{}', 'a')$$,
  $$SELECT whatsapp_auth.health()$$,
  $$SELECT whatsapp_auth.purge_expired()$$,
  $$CALL whatsapp_auth.purge()$$,
  $$SELECT whatsapp_auth.schedule_purge()$$,
  $$SELECT whatsapp_auth.unschedule_purge()$$,
  $$SELECT whatsapp_auth.session_export('a')$$,
  $$SELECT whatsapp_auth.session_import('{"company_id":"a"}')$$,
  $$SELECT whatsapp_auth.session_export_files('a')$$,
  $$SELECT whatsapp_auth.session_import_files('a', '{}')$$,
  $$SELECT whatsapp_auth.keys_page('a', 'session')$$,
  $$SELECT whatsapp_auth.import_legacy('pg_class', 'pg_class')$$,
  $$SELECT * FROM whatsapp_auth.stats$$,
  $$SELECT whatsapp_auth.stats_reset()$$,
  $$SELECT whatsapp_auth.lease_acquire('a', 'h')$$,
  $$SELECT whatsapp_auth.lease_renew('a', 1)$$,
  $$SELECT whatsapp_auth.lease_release('a', 1)$$,
  $$SELECT whatsapp_auth.lease_status('a')$$,
  $$SELECT * FROM whatsapp_auth.keys$$,
  $$SELECT * FROM whatsapp_auth.leases$$
]) call;
RESET ROLE;

SET LOCAL ROLE wa_tap_app;
SELECT lives_ok($$SELECT whatsapp_auth.creds_set('tap_app', '{}'); SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"1.0":{}}}')$$,
  'the application grants are enough to write');
SELECT is(whatsapp_auth.keys_get('tap_app', 'session', '{1.0}'), '{"1.0":{}}'::jsonb, 'and to read');
SELECT throws_ok($$SELECT whatsapp_auth.lease_acquire('tap_app', 'pod-1')$$, '42501', NULL,
  'but not to take a lease');
RESET ROLE;

-- The README's lease grants: the adapter's lease option.
GRANT SELECT, INSERT, UPDATE ON whatsapp_auth.leases TO wa_tap_app;
GRANT EXECUTE ON FUNCTION whatsapp_auth.lease_acquire(text, text, interval),
  whatsapp_auth.lease_renew(text, bigint, interval), whatsapp_auth.lease_release(text, bigint),
  whatsapp_auth.lease_status(text) TO wa_tap_app;
SET LOCAL ROLE wa_tap_app;
SELECT is(whatsapp_auth.lease_acquire('tap_app', 'pod-1'), 1::bigint, 'the lease grants are enough to take a lease');
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"1.0":{"v":1}}}', 1);
                  SELECT whatsapp_auth.creds_set('tap_app', '{}', 1)$$, 'to write with its token');
SELECT lives_ok($$SELECT whatsapp_auth.lease_renew('tap_app', 1)$$, 'to renew it');
SELECT is(whatsapp_auth.lease_status('tap_app')->>'holder', 'pod-1', 'to read its status');
RESET ROLE;
REVOKE ALL ON whatsapp_auth.leases FROM wa_tap_app;
SET LOCAL ROLE wa_tap_app;
SELECT throws_ok($$SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"1.0":{"v":2}}}')$$, '55006', NULL,
  'the fence binds a role without privileges on leases');
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"1.0":{"v":1}}}', 1)$$,
  'and admits its token');
RESET ROLE;
GRANT SELECT, INSERT, UPDATE ON whatsapp_auth.leases TO wa_tap_app;
SET LOCAL ROLE wa_tap_app;
SELECT is(whatsapp_auth.lease_release('tap_app', 1), true, 'the lease grants are enough to release it');
SELECT is(whatsapp_auth.keys_get_json('tap_app', 'session', '{1.0}')::text, '{"1.0": {"v": 1}}', 'and to read as json');
SELECT lives_ok($$SELECT whatsapp_auth.keys_set_text('tap_app', '{"session":{"9.0":null}}')$$, 'and to write as text');
RESET ROLE;

-- Writes read key_ttl directly, not through SQL, with the same checks a
-- SELECT on it would make.
REVOKE SELECT ON whatsapp_auth.key_ttl FROM wa_tap_app;
SET LOCAL ROLE wa_tap_app;
SELECT throws_ok($$SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"2.0":{}}}')$$, '42501',
  'permission denied for table key_ttl', 'a write needs SELECT on key_ttl');
RESET ROLE;
GRANT SELECT (key_type, ttl) ON whatsapp_auth.key_ttl TO wa_tap_app;
SET LOCAL ROLE wa_tap_app;
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"2.0":{}}}')$$,
  'SELECT on its key_type and ttl columns is enough');
RESET ROLE;
GRANT SELECT ON whatsapp_auth.key_ttl TO wa_tap_app;
ALTER TABLE whatsapp_auth.key_ttl ENABLE ROW LEVEL SECURITY;
SET LOCAL ROLE wa_tap_app;
SELECT throws_ok($$SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"3.0":{}}}')$$, '0A000',
  'row level security on whatsapp_auth.key_ttl is not supported',
  'a write refuses row level security on key_ttl rather than ignore it');
RESET ROLE;
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"3.0":{}}}')$$,
  'a role that bypasses row level security writes');
ALTER TABLE whatsapp_auth.key_ttl DISABLE ROW LEVEL SECURITY;
SELECT whatsapp_auth.keys_set('tap_app', '{"session":{"2.0":null,"3.0":null}}');

-- The README's operations role: monitor, purge, change the TTL policy.
CREATE ROLE wa_tap_ops;
GRANT USAGE ON SCHEMA whatsapp_auth TO wa_tap_ops;
GRANT SELECT ON ALL TABLES IN SCHEMA whatsapp_auth TO wa_tap_ops;
GRANT DELETE, UPDATE (expires_at) ON whatsapp_auth.keys TO wa_tap_ops;
GRANT INSERT, DELETE ON whatsapp_auth.purge_log TO wa_tap_ops;
GRANT USAGE ON SEQUENCE whatsapp_auth.purge_log_id_seq TO wa_tap_ops;
GRANT UPDATE, INSERT, DELETE ON whatsapp_auth.key_ttl TO wa_tap_ops;
GRANT EXECUTE ON FUNCTION whatsapp_auth.health(text),
  whatsapp_auth.purge_expired(interval, integer, bigint, boolean),
  whatsapp_auth.schedule_purge(text, interval), whatsapp_auth.unschedule_purge() TO wa_tap_ops;
GRANT EXECUTE ON PROCEDURE whatsapp_auth.purge(interval, integer, bigint) TO wa_tap_ops;
UPDATE whatsapp_auth.keys SET expires_at = now() - interval '1 hour' WHERE company_id = 'tap_app';

SET LOCAL ROLE wa_tap_ops;
SELECT is(whatsapp_auth.health('tap_app')->>'total_keys', '1', 'the operations grants are enough for health(company)');
SELECT lives_ok($$SELECT whatsapp_auth.health()$$, 'and for health()');
SET LOCAL whatsapp_auth.health_sample_rows = 1;
SELECT is(whatsapp_auth.health()->'figures'->>'method', 'sample',
  'and for health() from a sample (no grant on its TABLESAMPLE method)');
RESET whatsapp_auth.health_sample_rows;
SELECT is(whatsapp_auth.purge_expired(dry_run => true), 1::bigint, 'and for a dry run');
SELECT is(whatsapp_auth.purge_expired(), 1::bigint, 'and for purge_expired()');
SELECT lives_ok($$CALL whatsapp_auth.purge()$$, 'and for CALL purge()');
SELECT lives_ok($$UPDATE whatsapp_auth.key_ttl SET ttl = '10 days' WHERE key_type = 'session'$$,
  'and to change the TTL policy');
SELECT throws_ok($$SELECT whatsapp_auth.keys_get('tap_app', 'session', '{1.0}')$$, '42501', NULL,
  'but not to read keys through the key store');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
