--
-- Call statistics without the library in shared_preload_libraries (the
-- cluster of pg_regress): every function works, nothing is counted, and
-- the statistics say why.  test/stats_test covers the preloaded server.
--
\set VERBOSITY terse
SELECT * FROM whatsapp_auth.keys_set('stats', '{"session":{"1.0":{"v":1}}}');
SELECT whatsapp_auth.keys_get('stats', 'session', '{1.0}');
SELECT whatsapp_auth.keys_delete('stats', 'session', '{1.0}');

-- the message and hint, in full
\set VERBOSITY default
SELECT * FROM whatsapp_auth.stats;
\set VERBOSITY sqlstate
SELECT function, calls FROM whatsapp_auth.stats();
SELECT whatsapp_auth.stats_reset();
\set VERBOSITY terse

-- the view's columns, DESIGN.md's first
SELECT attnum, attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'whatsapp_auth.stats'::regclass AND attnum > 0 ORDER BY attnum;

-- privileged: nothing for PUBLIC
SELECT has_function_privilege('public', 'whatsapp_auth.stats_reset()', 'EXECUTE') AS reset,
       has_function_privilege('public', 'whatsapp_auth.stats()', 'EXECUTE') AS read,
       has_table_privilege('public', 'whatsapp_auth.stats', 'SELECT') AS view;
