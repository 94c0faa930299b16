-- Operations objects: purge_log, health(), purge_expired(), purge(),
-- schedule_purge(), unschedule_purge(); their settings, volatility,
-- strictness, privileges and SQLSTATEs; and nothing left behind by a
-- failed call.
BEGIN;
SELECT plan(55);

-- purge_log
SELECT has_table('whatsapp_auth', 'purge_log', 'purge_log exists');
SELECT columns_are('whatsapp_auth', 'purge_log',
  ARRAY['id', 'started_at', 'finished_at', 'role', 'grace', 'batch_size', 'max_rows',
        'deleted', 'dry_run', 'duration'], 'purge_log columns');
SELECT col_is_pk('whatsapp_auth', 'purge_log', 'id', 'purge_log keyed by id');
SELECT col_type_is('whatsapp_auth', 'purge_log', 'grace', 'interval', 'grace is an interval');
SELECT col_type_is('whatsapp_auth', 'purge_log', 'deleted', 'bigint', 'deleted is a bigint');
SELECT col_is_null('whatsapp_auth', 'purge_log', 'max_rows', 'max_rows may be NULL (no limit)');
SELECT col_not_null('whatsapp_auth', 'purge_log', 'dry_run', 'dry_run is never NULL');
SELECT has_index('whatsapp_auth', 'purge_log', 'purge_log_started_at_idx', ARRAY['started_at'],
  'purge_log trimmed through an index on started_at');
SELECT has_sequence('whatsapp_auth', 'purge_log_id_seq', 'purge_log id sequence');
SELECT ok((SELECT 'whatsapp_auth.purge_log'::regclass = ANY (extconfig)
                  AND 'whatsapp_auth.purge_log_id_seq'::regclass = ANY (extconfig)
           FROM pg_extension WHERE extname = 'whatsapp_auth'),
  'purge_log and its sequence are dumped by pg_dump');

-- functions: signatures, volatility, strictness, parallel safety
SELECT has_function('whatsapp_auth', 'health', ARRAY['text'], 'health(text)');
SELECT function_returns('whatsapp_auth', 'health', ARRAY['text'], 'jsonb', 'health returns jsonb');
SELECT volatility_is('whatsapp_auth', 'health', ARRAY['text'], 'stable', 'health is STABLE');
SELECT isnt_strict('whatsapp_auth', 'health', ARRAY['text'], 'health is not STRICT: NULL is the whole store');
SELECT has_function('whatsapp_auth', 'purge_expired', ARRAY['interval', 'integer', 'bigint', 'boolean'],
  'purge_expired(interval, integer, bigint, boolean)');
SELECT function_returns('whatsapp_auth', 'purge_expired', ARRAY['interval', 'integer', 'bigint', 'boolean'],
  'bigint', 'purge_expired returns bigint');
SELECT volatility_is('whatsapp_auth', 'purge_expired', ARRAY['interval', 'integer', 'bigint', 'boolean'],
  'volatile', 'purge_expired is VOLATILE');
SELECT isnt_strict('whatsapp_auth', 'purge_expired', ARRAY['interval', 'integer', 'bigint', 'boolean'],
  'purge_expired is not STRICT: NULL max_rows means no limit');
SELECT has_function('whatsapp_auth', 'purge', ARRAY['interval', 'integer', 'bigint'], 'purge(interval, integer, bigint)');
SELECT is((SELECT prokind FROM pg_proc WHERE oid = 'whatsapp_auth.purge(interval, integer, bigint)'::regprocedure),
  'p'::"char", 'purge is a procedure');
SELECT has_function('whatsapp_auth', 'schedule_purge', ARRAY['text', 'interval'], 'schedule_purge(text, interval)');
SELECT function_returns('whatsapp_auth', 'schedule_purge', ARRAY['text', 'interval'], 'bigint',
  'schedule_purge returns the job id');
SELECT has_function('whatsapp_auth', 'unschedule_purge', ARRAY[]::text[], 'unschedule_purge()');
SELECT function_returns('whatsapp_auth', 'unschedule_purge', ARRAY[]::text[], 'boolean',
  'unschedule_purge returns boolean');
SELECT is(
  (SELECT array_agg(p.proname || ':' || p.proparallel::text ORDER BY p.proname)
   FROM pg_proc p WHERE p.pronamespace = 'whatsapp_auth'::regnamespace
     AND p.proname IN ('health', 'purge_expired', 'schedule_purge', 'unschedule_purge')),
  ARRAY['health:s', 'purge_expired:u', 'schedule_purge:u', 'unschedule_purge:u'],
  'health is PARALLEL SAFE, the writers PARALLEL UNSAFE');
SELECT is(
  (SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'whatsapp_auth'::regnamespace
     AND p.proname IN ('health', 'purge_expired', 'purge', 'schedule_purge', 'unschedule_purge')
     AND obj_description(p.oid, 'pg_proc') IS NOT NULL),
  5, 'every operations routine has a comment');
SELECT is(
  (SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'whatsapp_auth'::regnamespace AND p.prosecdef),
  0, 'no routine is SECURITY DEFINER');

-- settings exist with their defaults (the library is loaded by now)
SELECT lives_ok($$SELECT whatsapp_auth.health('x')$$, 'health loads the library');
SELECT is(current_setting('whatsapp_auth.stale_after'), '2d', 'stale_after defaults to 48 h');
SELECT is(current_setting('whatsapp_auth.expired_ratio_warn'), '0.5', 'expired_ratio_warn defaults to 0.5');
SELECT is(current_setting('whatsapp_auth.expired_count_warn'), '500', 'expired_count_warn defaults to 500');
SELECT is(current_setting('whatsapp_auth.purge_overdue_after'), '2d', 'purge_overdue_after defaults to 48 h');
SELECT is(current_setting('whatsapp_auth.purge_log_retention'), '30d', 'purge_log_retention defaults to 30 days');
SELECT throws_ok($$SET LOCAL whatsapp_auth.expired_ratio_warn = 1.5$$, '22023', NULL,
  'expired_ratio_warn is a fraction');

-- status rules, one fixture each
SELECT lives_ok($$SELECT whatsapp_auth.creds_set('tap_ok', '{}')$$, 'creds stored');
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tap_ok', '{"session":{"1.0":{}}}')$$, 'key stored');
SELECT is(whatsapp_auth.health('tap_ok') ->> 'status', 'ok', 'a fresh tenant is ok');
SELECT is(whatsapp_auth.health('tap_none') ->> 'status', 'critical', 'no creds row is critical');
UPDATE whatsapp_auth.keys SET updated_at = now() - interval '3 days' WHERE company_id = 'tap_ok';
SELECT is(whatsapp_auth.health('tap_ok') ->> 'status', 'high', 'no key written for stale_after is high');
SET LOCAL whatsapp_auth.stale_after = '7d';
SELECT is(whatsapp_auth.health('tap_ok') ->> 'status', 'ok', 'stale_after is read from the setting');
UPDATE whatsapp_auth.keys SET expires_at = now() - interval '1 second' WHERE company_id = 'tap_ok';
SELECT is(whatsapp_auth.health('tap_ok') ->> 'status', 'medium', 'mostly expired keys is medium');
SET LOCAL whatsapp_auth.expired_ratio_warn = 1;
SELECT is(whatsapp_auth.health('tap_ok') ->> 'status', 'ok', 'expired_ratio_warn is read from the setting');
SET LOCAL whatsapp_auth.expired_count_warn = 0;
SELECT is(whatsapp_auth.health() ->> 'status', 'medium', 'expired keys and no purge is medium store-wide');
SELECT is(whatsapp_auth.purge_expired(), 1::bigint, 'the purge deletes the expired key');
SELECT is(whatsapp_auth.health() ->> 'status', 'ok', 'a recent purge clears the store-wide rule');
SELECT is((SELECT count(*)::int FROM whatsapp_auth.purge_log WHERE deleted = 1 AND NOT dry_run), 1,
  'the run is logged');

-- errors carry a SQLSTATE, and a failed call writes nothing (not even a log row)
SELECT throws_ok($$SELECT whatsapp_auth.health('bad id')$$, '22023', NULL, 'health: bad company_id is 22023');
SELECT throws_ok($$SELECT whatsapp_auth.purge_expired(grace => '-1s')$$, '22023', NULL, 'negative grace is 22023');
SELECT throws_ok($$SELECT whatsapp_auth.purge_expired(batch_size => 0)$$, '22023', NULL, 'batch_size 0 is 22023');
SELECT throws_ok($$SELECT whatsapp_auth.purge_expired(max_rows => -5)$$, '22023', NULL, 'negative max_rows is 22023');
SELECT throws_ok($$SELECT whatsapp_auth.purge_expired(dry_run => NULL)$$, '22004', NULL, 'NULL dry_run is 22004');
SELECT is((SELECT count(*)::int FROM whatsapp_auth.purge_log), 1, 'failed purges wrote no log row');
SELECT throws_ok($$SELECT whatsapp_auth.schedule_purge()$$, '55000', NULL,
  'schedule_purge without pg_cron in this database is 55000');
SELECT throws_ok($$SELECT whatsapp_auth.unschedule_purge()$$, '55000', NULL,
  'unschedule_purge without pg_cron is 55000');

-- no privilege for PUBLIC
SELECT table_privs_are('whatsapp_auth', 'purge_log', 'public', ARRAY[]::text[], 'PUBLIC has no privilege on purge_log');

SELECT * FROM finish();
ROLLBACK;
