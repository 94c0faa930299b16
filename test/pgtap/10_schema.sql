-- Schema of the key store: domain, tables, columns, keys, indexes, the
-- shipped TTL policy, pg_dump registration, the key_ttl trigger, and the
-- leases table.
BEGIN;
SELECT plan(51);

SELECT has_schema('whatsapp_auth', 'schema whatsapp_auth');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'whatsapp_auth'), false,
  'the extension is not relocatable');

SELECT has_domain('whatsapp_auth', 'company_id', 'domain company_id');
SELECT domain_type_is('whatsapp_auth', 'company_id', 'text', 'company_id is text');
SELECT throws_ok($$SELECT 'bad id'::whatsapp_auth.company_id$$, '23514', NULL,
  'the company_id domain refuses a space');

SELECT tables_are('whatsapp_auth', ARRAY['creds', 'keys', 'key_ttl', 'purge_log', 'leases'], 'the tables');

SELECT columns_are('whatsapp_auth', 'creds', ARRAY['company_id', 'creds', 'created_at', 'updated_at'], 'creds columns');
SELECT col_is_pk('whatsapp_auth', 'creds', 'company_id', 'creds keyed by company_id');
SELECT col_type_is('whatsapp_auth', 'creds', 'company_id', 'whatsapp_auth.company_id', 'creds.company_id uses the domain');
SELECT col_type_is('whatsapp_auth', 'creds', 'creds', 'jsonb', 'creds is jsonb');
SELECT col_not_null('whatsapp_auth', 'creds', 'creds', 'creds NOT NULL');
SELECT col_type_is('whatsapp_auth', 'creds', 'updated_at', 'timestamp with time zone', 'creds.updated_at timestamptz');

SELECT columns_are('whatsapp_auth', 'keys',
  ARRAY['company_id', 'key_type', 'key_id', 'value', 'updated_at', 'expires_at'], 'keys columns');
SELECT col_is_pk('whatsapp_auth', 'keys', ARRAY['company_id', 'key_type', 'key_id'], 'keys primary key');
SELECT col_type_is('whatsapp_auth', 'keys', 'company_id', 'whatsapp_auth.company_id', 'keys.company_id uses the domain');
SELECT col_type_is('whatsapp_auth', 'keys', 'value', 'jsonb', 'value is jsonb');
SELECT col_not_null('whatsapp_auth', 'keys', 'value', 'value NOT NULL');
SELECT col_not_null('whatsapp_auth', 'keys', 'updated_at', 'updated_at NOT NULL');
SELECT col_is_null('whatsapp_auth', 'keys', 'expires_at', 'expires_at NULL = never');
SELECT is((SELECT collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
           WHERE a.attrelid = 'whatsapp_auth.keys'::regclass AND a.attname = 'key_id'), 'C',
  'key ids compare bytewise (collation C)');

SELECT indexes_are('whatsapp_auth', 'keys', ARRAY['keys_pkey', 'keys_expires_at_idx'],
  'keys: the primary key and the purge index, nothing redundant');
SELECT has_index('whatsapp_auth', 'keys', 'keys_expires_at_idx', ARRAY['expires_at'], 'index on expires_at');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
           WHERE indexrelid = 'whatsapp_auth.keys_expires_at_idx'::regclass),
  '(expires_at IS NOT NULL)', 'the expires_at index is partial');

SELECT columns_are('whatsapp_auth', 'key_ttl', ARRAY['key_type', 'ttl', 'shipped'], 'key_ttl columns');
SELECT col_is_pk('whatsapp_auth', 'key_ttl', 'key_type', 'key_ttl keyed by key_type');
SELECT col_type_is('whatsapp_auth', 'key_ttl', 'ttl', 'interval', 'ttl is an interval');
SELECT results_eq(
  $$SELECT key_type::text COLLATE "default", ttl, shipped FROM whatsapp_auth.key_ttl ORDER BY key_type$$,
  $$VALUES ('*'::text, interval '14 days', true), ('app-state-sync-key', NULL, true),
           ('identity-key', NULL, true), ('lid-mapping', interval '7 days', true),
           ('pre-key', NULL, true), ('sender-key', interval '7 days', true),
           ('session', interval '7 days', true)$$,
  'shipped TTL defaults');

SELECT is((SELECT array_agg(c::regclass::text ORDER BY c::regclass::text) FROM pg_extension e, unnest(e.extconfig) c
           WHERE e.extname = 'whatsapp_auth'),
  ARRAY['whatsapp_auth.creds', 'whatsapp_auth.key_ttl', 'whatsapp_auth.keys',
        'whatsapp_auth.leases', 'whatsapp_auth.purge_log', 'whatsapp_auth.purge_log_id_seq'],
  'user data registered with pg_extension_config_dump');
SELECT is((SELECT extcondition[array_position(extconfig, 'whatsapp_auth.key_ttl'::regclass::oid)]
           FROM pg_extension WHERE extname = 'whatsapp_auth'),
  'WHERE NOT shipped', 'pg_dump keeps only user rows of key_ttl');
SELECT is((SELECT extcondition[array_position(extconfig, 'whatsapp_auth.keys'::regclass::oid)]
           FROM pg_extension WHERE extname = 'whatsapp_auth'),
  '', 'pg_dump keeps every key');
SELECT is((SELECT extcondition[array_position(extconfig, 'whatsapp_auth.leases'::regclass::oid)]
           FROM pg_extension WHERE extname = 'whatsapp_auth'),
  '', 'pg_dump keeps every lease row (the tokens'' high-water marks)');

-- leases: one row per company that ever had a lease
SELECT columns_are('whatsapp_auth', 'leases',
  ARRAY['company_id', 'holder', 'lease_token', 'acquired_at', 'expires_at', 'released_at'], 'leases columns');
SELECT col_is_pk('whatsapp_auth', 'leases', 'company_id', 'leases keyed by company_id');
SELECT col_type_is('whatsapp_auth', 'leases', 'company_id', 'whatsapp_auth.company_id', 'leases.company_id uses the domain');
SELECT col_type_is('whatsapp_auth', 'leases', 'lease_token', 'bigint', 'lease_token is bigint');
SELECT col_not_null('whatsapp_auth', 'leases', 'lease_token', 'lease_token NOT NULL');
SELECT col_not_null('whatsapp_auth', 'leases', 'expires_at', 'expires_at NOT NULL');
SELECT col_is_null('whatsapp_auth', 'leases', 'released_at', 'released_at NULL while held');
SELECT throws_ok($$INSERT INTO whatsapp_auth.leases VALUES ('tap', '', 1, now(), now())$$, '23514', NULL,
  'the table refuses an empty holder');
SELECT throws_ok($$INSERT INTO whatsapp_auth.leases VALUES ('tap', 'h', 0, now(), now())$$, '23514', NULL,
  'the table refuses a token below 1');

-- key_ttl: an edit makes a row the user's; a user row replaces the shipped one
UPDATE whatsapp_auth.key_ttl SET ttl = '30 days' WHERE key_type = 'session';
SELECT is((SELECT shipped FROM whatsapp_auth.key_ttl WHERE key_type = 'session'), false,
  'an edited row is no longer shipped');
INSERT INTO whatsapp_auth.key_ttl (key_type, ttl) VALUES ('sender-key', '1 day');
SELECT is((SELECT count(*)::int FROM whatsapp_auth.key_ttl WHERE key_type = 'sender-key'), 1,
  'a user row replaces the shipped row, no duplicate');
SELECT is((SELECT ttl FROM whatsapp_auth.key_ttl WHERE key_type = 'sender-key'), interval '1 day',
  'the user row wins');
-- what a restore does: shipped rows exist, the dumped user rows come in
INSERT INTO whatsapp_auth.key_ttl (key_type, ttl, shipped) VALUES ('device-list', '2 days', false);
SELECT is((SELECT count(*)::int FROM whatsapp_auth.key_ttl), 8, 'new user rows are added');
SELECT throws_ok($$INSERT INTO whatsapp_auth.key_ttl (key_type, ttl) VALUES ('session', '1 day')$$,
  '23505', NULL, 'two user rows for one type still conflict');
SELECT throws_ok($$INSERT INTO whatsapp_auth.key_ttl (key_type, ttl) VALUES ('Bad', '1 day')$$,
  '23514', NULL, 'key_ttl refuses a bad key type');
SELECT throws_ok($$INSERT INTO whatsapp_auth.key_ttl (key_type, ttl) VALUES ('neg', '-1 day')$$,
  '23514', NULL, 'key_ttl refuses a negative ttl');

-- the tables refuse what the functions refuse, for direct writers
SELECT throws_ok($$INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value) VALUES ('a b', 't', 'i', '{}')$$,
  '23514', NULL, 'keys refuses a bad company_id');
SELECT throws_ok($$INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value) VALUES ('a', 'T', 'i', '{}')$$,
  '23514', NULL, 'keys refuses a bad key_type');
SELECT throws_ok($$INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value) VALUES ('a', 't', '', '{}')$$,
  '23514', NULL, 'keys refuses an empty key_id');
SELECT throws_ok($$INSERT INTO whatsapp_auth.creds (company_id, creds) VALUES ('a', '[]')$$,
  '23514', NULL, 'creds must be an object');

SELECT * FROM finish();
ROLLBACK;
