-- Tenant pinning: with whatsapp_auth.company_id set, tenant A can neither
-- read, write, delete nor probe tenant B's rows, by function or by table;
-- empty or unset means the role's normal access.
BEGIN;
SELECT plan(60);

SELECT is((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'whatsapp_auth.creds'::regclass),
  true, 'row level security enabled and forced on creds');
SELECT is((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'whatsapp_auth.keys'::regclass),
  true, 'row level security enabled and forced on keys');
SELECT policies_are('whatsapp_auth', 'keys', ARRAY['pinned_company'], 'keys has the pinning policy alone');
SELECT policies_are('whatsapp_auth', 'creds', ARRAY['pinned_company'], 'creds has the pinning policy alone');
SELECT is((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'whatsapp_auth.leases'::regclass),
  true, 'row level security enabled and forced on leases');
SELECT policies_are('whatsapp_auth', 'leases', ARRAY['pinned_company'], 'leases has the pinning policy alone');

SELECT whatsapp_auth.lease_acquire('tenant_b', 'b-pod'), whatsapp_auth.lease_release('tenant_b', 1);
SELECT whatsapp_auth.creds_set(c, '{"me":{"id":"1@s.whatsapp.net"}}'),
       whatsapp_auth.keys_set(c, '{"session":{"1.0":{"v":1},"2.0":{"v":2}},"pre-key":{"1":{"p":1}}}')
  FROM unnest(ARRAY['tenant_a', 'tenant_b']) c;
CREATE TEMP TABLE b_before AS
  SELECT md5(string_agg(format('%s|%s|%s|%s', key_type, key_id, value, expires_at), ',' ORDER BY key_type, key_id)) AS keys,
         (SELECT md5(creds::text) FROM whatsapp_auth.creds WHERE company_id = 'tenant_b') AS creds
    FROM whatsapp_auth.keys WHERE company_id = 'tenant_b';
GRANT SELECT ON b_before TO PUBLIC;

-- The application role of the README, plus the transfer functions.
CREATE ROLE wa_tap_tenant;
GRANT USAGE ON SCHEMA whatsapp_auth TO wa_tap_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON whatsapp_auth.creds, whatsapp_auth.keys TO wa_tap_tenant;
GRANT SELECT ON whatsapp_auth.key_ttl, whatsapp_auth.purge_log TO wa_tap_tenant;
GRANT SELECT, INSERT, UPDATE ON whatsapp_auth.leases TO wa_tap_tenant;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA whatsapp_auth TO wa_tap_tenant;
GRANT EXECUTE ON PROCEDURE whatsapp_auth.purge(interval, integer, bigint) TO wa_tap_tenant;
CREATE TABLE legacy_auth (company_id text, creds jsonb);
CREATE TABLE legacy_keys (company_id text, key_type text, key_id text, value jsonb, expires_at timestamptz);
GRANT SELECT ON legacy_auth, legacy_keys TO wa_tap_tenant;

SET LOCAL ROLE wa_tap_tenant;

-- Unpinned: the role's normal access.
SELECT is((SELECT count(*)::int FROM whatsapp_auth.keys WHERE company_id LIKE 'tenant%'), 6, 'unpinned, the table shows every company');
SELECT is(whatsapp_auth.keys_get('tenant_b', 'session', '{1.0}'), '{"1.0":{"v":1}}', 'unpinned, functions reach every company');
SET LOCAL whatsapp_auth.company_id = '';
SELECT is((SELECT count(*)::int FROM whatsapp_auth.creds WHERE company_id LIKE 'tenant%'), 2, 'an empty setting pins nothing');
SELECT throws_ok($$SET LOCAL whatsapp_auth.company_id = 'not a company'$$, '22023', NULL,
  'a malformed company id cannot be pinned');

SET LOCAL whatsapp_auth.company_id = 'tenant_a';

-- Own company: everything works.
SELECT is(whatsapp_auth.keys_get('tenant_a', 'session', '{1.0,2.0}'), '{"1.0":{"v":1},"2.0":{"v":2}}', 'A reads its keys');
SELECT is(whatsapp_auth.creds_get('tenant_a')->'me'->>'id', '1@s.whatsapp.net', 'A reads its creds');
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tenant_a', '{"session":{"3.0":{"v":3}}}')$$, 'A writes its keys');
SELECT is(whatsapp_auth.health('tenant_a')->>'total_keys', '4', 'A sees its health');
SELECT lives_ok($$SELECT whatsapp_auth.session_export('tenant_a')$$, 'A exports itself');

-- Other company through every function: 42501 before anything is read.
SELECT throws_ok(call, '42501', 'company "tenant_b" is not the company this session is pinned to',
  'pinned to A: ' || call) FROM unnest(ARRAY[
  $$SELECT whatsapp_auth.creds_get('tenant_b')$$,
  $$SELECT whatsapp_auth.creds_set('tenant_b', '{}')$$,
  $$SELECT whatsapp_auth.keys_get('tenant_b', 'session', '{1.0}')$$,
  $$SELECT whatsapp_auth.keys_set('tenant_b', '{"session":{"1.0":null}}')$$,
  $$SELECT whatsapp_auth.keys_upsert('tenant_b', 'session', '{1.0}', ARRAY['{}']::jsonb[])$$,
  $$SELECT whatsapp_auth.keys_delete('tenant_b', 'session', '{1.0}')$$,
  $$SELECT whatsapp_auth.keys_clear('tenant_b')$$,
  $$SELECT whatsapp_auth.session_remove('tenant_b')$$,
  $$SELECT whatsapp_auth.session_export('tenant_b')$$,
  $$SELECT whatsapp_auth.session_import('{"company_id":"tenant_b","creds":{},"keys":{}}', true)$$,
  $$SELECT whatsapp_auth.health('tenant_b')$$,
  $$SELECT whatsapp_auth.lease_acquire('tenant_b', 'a-pod')$$,
  $$SELECT whatsapp_auth.lease_renew('tenant_b', 1)$$,
  $$SELECT whatsapp_auth.lease_release('tenant_b', 1)$$,
  $$SELECT whatsapp_auth.lease_status('tenant_b')$$
]) call;
-- Probing: a company that does not exist gets the same answer.
SELECT throws_ok($$SELECT whatsapp_auth.keys_get('tenant_z', 'session', '{1.0}')$$, '42501',
  'company "tenant_z" is not the company this session is pinned to', 'an absent company looks the same');
-- Store-wide functions need an unpinned session.
SELECT throws_ok(call, '42501', NULL, 'pinned: ' || call) FROM unnest(ARRAY[
  $$SELECT whatsapp_auth.health()$$,
  $$SELECT whatsapp_auth.purge_expired()$$,
  $$CALL whatsapp_auth.purge()$$,
  $$SELECT whatsapp_auth.schedule_purge()$$,
  $$SELECT whatsapp_auth.unschedule_purge()$$,
  $$SELECT whatsapp_auth.import_legacy('legacy_auth', 'legacy_keys')$$
]) call;

-- Direct table access: B's rows are invisible and out of reach.
SELECT is((SELECT count(*)::int FROM whatsapp_auth.keys), 4, 'the keys table shows A''s rows alone');
SELECT is((SELECT count(*)::int FROM whatsapp_auth.keys WHERE company_id = 'tenant_b'), 0, 'B''s keys are invisible');
SELECT is((SELECT count(*)::int FROM whatsapp_auth.creds), 1, 'the creds table shows A''s row alone');
SELECT is((SELECT count(*)::int FROM whatsapp_auth.creds WHERE company_id = 'tenant_b'), 0, 'B''s creds are invisible');
SELECT is((SELECT count(*)::int FROM whatsapp_auth.leases WHERE company_id = 'tenant_b'), 0, 'B''s lease is invisible');
SELECT lives_ok($$UPDATE whatsapp_auth.leases SET lease_token = 1 WHERE company_id = 'tenant_b'$$,
  'an UPDATE of B''s lease runs...');
SELECT throws_ok($$INSERT INTO whatsapp_auth.leases VALUES ('tenant_b', 'a-pod', 9, now(), now() + interval '1 minute')$$,
  '42501', NULL, 'inserting a lease for B is refused');
SELECT is(whatsapp_auth.lease_acquire('tenant_a', 'a-pod'), 1::bigint, 'A takes its own lease');
SELECT lives_ok($$SELECT whatsapp_auth.keys_set('tenant_a', '{"session":{"3.0":{"v":3}}}', 1)$$, 'and writes with its token');
SELECT lives_ok($$UPDATE whatsapp_auth.keys SET value = '{"stolen":true}' WHERE company_id = 'tenant_b'$$,
  'an UPDATE of B''s keys runs...');
SELECT lives_ok($$DELETE FROM whatsapp_auth.keys WHERE company_id = 'tenant_b'$$, 'a DELETE of B''s keys runs...');
SELECT lives_ok($$UPDATE whatsapp_auth.creds SET creds = '{}' WHERE company_id = 'tenant_b'$$,
  'an UPDATE of B''s creds runs...');
SELECT lives_ok($$DELETE FROM whatsapp_auth.creds WHERE company_id = 'tenant_b'$$, 'a DELETE of B''s creds runs...');
SELECT throws_ok($$INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value) VALUES ('tenant_b', 'session', '9.0', '{}')$$,
  '42501', NULL, 'inserting a key for B is refused');
SELECT throws_ok($$INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value) VALUES ('tenant_b', 'session', '1.0', '{}')
                   ON CONFLICT DO NOTHING$$,
  '42501', NULL, 'an insert onto B''s existing key is refused the same way (no existence probe)');
SELECT throws_ok($$INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value) VALUES ('tenant_b', 'session', '1.0', '{}')
                   ON CONFLICT (company_id, key_type, key_id) DO UPDATE SET value = excluded.value$$,
  '42501', NULL, 'an upsert onto B''s key is refused');
SELECT throws_ok($$UPDATE whatsapp_auth.keys SET company_id = 'tenant_b' WHERE company_id = 'tenant_a' AND key_id = '1'$$,
  '42501', NULL, 'moving A''s key to B is refused');
SELECT throws_ok($$INSERT INTO whatsapp_auth.creds (company_id, creds) VALUES ('tenant_b', '{}')$$,
  '42501', NULL, 'inserting creds for B is refused');

SELECT is(whatsapp_auth.keys_get('tenant_a', 'session', '{1.0,2.0,3.0}') ? '3.0', true, 'A''s own write is there');

RESET ROLE;
SET LOCAL whatsapp_auth.company_id = '';
SELECT is((SELECT md5(string_agg(format('%s|%s|%s|%s', key_type, key_id, value, expires_at), ',' ORDER BY key_type, key_id))
             FROM whatsapp_auth.keys WHERE company_id = 'tenant_b'),
          (SELECT keys FROM b_before), 'every key of B is as it was');
SELECT is((SELECT md5(creds::text) FROM whatsapp_auth.creds WHERE company_id = 'tenant_b'),
          (SELECT creds FROM b_before), 'the creds of B are as they were');
SELECT is((SELECT format('%s/%s', holder, lease_token) FROM whatsapp_auth.leases WHERE company_id = 'tenant_b'), 'b-pod/1',
  'the lease of B is as it was');

-- Pinning binds the functions for every role, superusers included; the
-- policies bind every role without BYPASSRLS.
SET LOCAL whatsapp_auth.company_id = 'tenant_a';
SELECT throws_ok($$SELECT whatsapp_auth.keys_get('tenant_b', 'session', '{1.0}')$$, '42501', NULL,
  'a pinned superuser session is refused B through the functions too');
RESET whatsapp_auth.company_id;

SELECT * FROM finish();
ROLLBACK;
