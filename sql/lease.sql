-- Account leases and fenced writes: the rules of each call, bad input,
-- every write function under a lease, import_legacy, pinning, health.
SET search_path = whatsapp_auth, public;

-- An error as "SQLSTATE: message / detail", its times masked (they come
-- from the clock); the statement's effects are rolled back as usual.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  msg text;
  detail text;
  state text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, state = RETURNED_SQLSTATE;
  RETURN regexp_replace(state || ': ' || msg || coalesce(' / ' || nullif(detail, ''), ''),
                        '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d|\d+\.\d s', '<time>', 'g');
END
$$;
-- The lease as stable text.
CREATE FUNCTION pg_temp.st(company text) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s token=%s live=%s released=%s', s->>'holder', s->>'lease_token', s->>'live',
                s->>'released_at' IS NOT NULL)
    FROM (SELECT lease_status(company) AS s) x
$$;
-- Make a company's lease expire without waiting for it.
CREATE FUNCTION pg_temp.expire(company text) RETURNS void LANGUAGE sql AS $$
  UPDATE whatsapp_auth.leases SET expires_at = now() - interval '1 second' WHERE company_id = company
$$;

-- a free lease: token 1; never leased is NULL
SELECT lease_status('acme') IS NULL AS never_leased;
SELECT lease_acquire('acme', 'pod-a', '30 seconds');
SELECT pg_temp.st('acme');
SELECT (lease_status('acme') ->> 'expires_at')::timestamptz - (lease_status('acme') ->> 'acquired_at')::timestamptz AS granted;
-- the live holder again: renewed, same token; another holder: 55P03 naming the holder and the end
SELECT lease_acquire('acme', 'pod-a');
SELECT pg_temp.try($$SELECT whatsapp_auth.lease_acquire('acme', 'pod-b')$$);
SELECT pg_temp.st('acme');

-- renew: the new expiry, ttl from now
SELECT r BETWEEN now() + interval '1 minute' AND clock_timestamp() + interval '1 minute' AS renewed
  FROM (SELECT lease_renew('acme', 1, '1 minute') AS r) x;
-- expired, nobody took over: renew still works, same token
SELECT pg_temp.expire('acme');
SELECT pg_temp.st('acme');
SELECT lease_renew('acme', 1) > now() AS renewed_after_expiry;
SELECT pg_temp.st('acme');

-- expired: anyone takes over with a larger token; the old one cannot renew
SELECT pg_temp.expire('acme');
SELECT lease_acquire('acme', 'pod-b');
SELECT pg_temp.st('acme');
SELECT pg_temp.try($$SELECT whatsapp_auth.lease_renew('acme', 1)$$);
SELECT pg_temp.try($$SELECT whatsapp_auth.lease_renew('acme', 7)$$);
SELECT pg_temp.try($$SELECT whatsapp_auth.lease_acquire('acme', 'pod-a')$$);
-- an expired lease's own holder gets a new token too
SELECT pg_temp.expire('acme');
SELECT lease_acquire('acme', 'pod-b');

-- release: only the current token, once; the token stays the high-water mark
SELECT lease_release('acme', 2) AS released_superseded;
SELECT lease_release('acme', 3) AS released;
SELECT lease_release('acme', 3) AS released_twice;
SELECT pg_temp.st('acme');
SELECT pg_temp.try($$SELECT whatsapp_auth.lease_renew('acme', 3)$$);
SELECT lease_acquire('acme', 'pod-c');
SELECT lease_release('acme', 4);

-- bad input: 22023 / 22004 naming the value, nothing changed
SELECT pg_temp.try(stmt) FROM unnest(ARRAY[
  $$SELECT whatsapp_auth.lease_acquire('acme', '')$$,
  $$SELECT whatsapp_auth.lease_acquire('acme', repeat('h', 201))$$,
  $$SELECT whatsapp_auth.lease_acquire('acme', 'pod-d', '0')$$,
  $$SELECT whatsapp_auth.lease_acquire('acme', 'pod-d', '-5 seconds')$$,
  $$SELECT whatsapp_auth.lease_acquire('acme', 'pod-d', '1 day 1 second')$$,
  $$SELECT whatsapp_auth.lease_acquire('acme', 'pod-d', '1 month')$$,
  $$SELECT whatsapp_auth.lease_acquire(NULL, 'pod-d')$$,
  $$SELECT whatsapp_auth.lease_acquire('acme', NULL)$$,
  $$SELECT whatsapp_auth.lease_acquire('acme', 'pod-d', NULL)$$,
  $$SELECT whatsapp_auth.lease_acquire('not valid', 'pod-d')$$,
  $$SELECT whatsapp_auth.lease_renew('acme', NULL)$$,
  $$SELECT whatsapp_auth.lease_renew('acme', 0)$$,
  $$SELECT whatsapp_auth.lease_renew('acme', 4, '0')$$,
  $$SELECT whatsapp_auth.lease_release('acme', NULL)$$,
  $$SELECT whatsapp_auth.lease_release('acme', -1)$$,
  $$SELECT whatsapp_auth.keys_set('acme', '{}', 0)$$
]) stmt;
SELECT pg_temp.st('acme');
-- the longest ttl and holder are accepted
SELECT lease_acquire('acme', repeat('h', 200), '1 day');
SELECT lease_release('acme', 5);

--
-- Fenced writes
--
SELECT creds_set('acme', '{"me":{"id":"1@s.whatsapp.net"}}');
SELECT * FROM keys_set('acme', '{"session":{"1.0":{"v":0}},"pre-key":{"1":{"k":1},"2":{"k":2}}}');
CREATE TEMP TABLE before AS SELECT
  (SELECT md5(string_agg(format('%s|%s|%s', key_type, key_id, value), ',' ORDER BY key_type, key_id))
     FROM whatsapp_auth.keys WHERE company_id = 'acme') AS keys,
  (SELECT md5(creds::text) FROM whatsapp_auth.creds WHERE company_id = 'acme') AS creds;
CREATE FUNCTION pg_temp.unchanged() RETURNS boolean LANGUAGE sql AS $$
  SELECT (SELECT md5(string_agg(format('%s|%s|%s', key_type, key_id, value), ',' ORDER BY key_type, key_id))
            FROM whatsapp_auth.keys WHERE company_id = 'acme') = b.keys
     AND (SELECT md5(creds::text) FROM whatsapp_auth.creds WHERE company_id = 'acme') = b.creds
    FROM before b
$$;

SELECT lease_acquire('acme', 'pod-e');
-- while the lease is live: no token, a superseded token, a token never
-- issued are refused by every write function, naming the holder and the end
SELECT w.f, pg_temp.try(format(w.stmt, t.token)) AS result
  FROM (VALUES
    ('creds_set', $$SELECT whatsapp_auth.creds_set('acme', '{}', %s)$$),
    ('keys_set', $$SELECT whatsapp_auth.keys_set('acme', '{"session":{"1.0":{"v":"stale"}}}', %s)$$),
    ('keys_upsert', $$SELECT whatsapp_auth.keys_upsert('acme', 'session', '{1.0}', ARRAY['{"v":"stale"}']::jsonb[], %s)$$),
    ('keys_delete', $$SELECT whatsapp_auth.keys_delete('acme', 'pre-key', '{1}', %s)$$),
    ('keys_clear', $$SELECT whatsapp_auth.keys_clear('acme', %s)$$),
    ('session_remove', $$SELECT whatsapp_auth.session_remove('acme', %s)$$),
    ('session_import', $$SELECT whatsapp_auth.session_import('{"company_id":"acme","creds":{},"keys":{}}', true, %s)$$)
  ) w(f, stmt),
  (VALUES ('NULL'), ('5'), ('99')) t(token)
 ORDER BY t.token, w.f;
SELECT pg_temp.unchanged() AS nothing_written;
-- calls without the argument are tokenless calls
SELECT pg_temp.try($$SELECT whatsapp_auth.keys_set('acme', '{"session":{"1.0":null}}')$$);
SELECT pg_temp.try($$SELECT whatsapp_auth.session_import('{"company_id":"acme"}', true)$$);
SELECT pg_temp.unchanged() AS nothing_written;
-- reads are never fenced
SELECT keys_get('acme', 'session', '{1.0}'), creds_get('acme') IS NOT NULL AS has_creds,
       session_export('acme') IS NOT NULL AS exports;

-- the current token writes, through every function
SELECT creds_set('acme', '{"me":{"id":"2@s.whatsapp.net"}}', 6);
SELECT * FROM keys_set('acme', '{"session":{"1.0":{"v":1}}}', 6);
SELECT keys_upsert('acme', 'session', '{2.0}', ARRAY['{"v":2}']::jsonb[], 6);
SELECT keys_delete('acme', 'pre-key', '{1}', 6);
SELECT keys_get('acme', 'session', '{1.0,2.0}'), keys_get('acme', 'pre-key', '{1,2}');
-- and after expiry, while nobody took over
SELECT pg_temp.expire('acme');
SELECT * FROM keys_set('acme', '{"session":{"3.0":{"v":3}}}', 6);
-- an expired lease: tokenless writes proceed again
SELECT * FROM keys_set('acme', '{"session":{"4.0":{"v":4}}}');

-- a takeover: the old token is refused even once the new lease has ended
SELECT lease_acquire('acme', 'pod-f');
SELECT pg_temp.try($$SELECT * FROM whatsapp_auth.keys_set('acme', '{"session":{"1.0":{"v":"stale"}}}', 6)$$);
SELECT lease_release('acme', 7);
SELECT pg_temp.try($$SELECT * FROM whatsapp_auth.keys_set('acme', '{"session":{"1.0":{"v":"stale"}}}', 6)$$);
SELECT pg_temp.try($$SELECT * FROM whatsapp_auth.keys_set('acme', '{"session":{"1.0":{"v":"stale"}}}', 7)$$);
SELECT pg_temp.try($$SELECT * FROM whatsapp_auth.keys_set('acme', '{"session":{"1.0":{"v":"stale"}}}', 8)$$);
SELECT keys_get('acme', 'session', '{1.0}');
-- no live lease, no token: as before
SELECT * FROM keys_set('acme', '{"session":{"5.0":{"v":5}}}');
SELECT keys_clear('acme'), session_remove('acme');
-- a company that never had a lease: a token was never issued for it
SELECT pg_temp.try($$SELECT whatsapp_auth.creds_set('fresh', '{}', 1)$$);
SELECT creds_set('fresh', '{}'), session_remove('fresh');
-- the lease outlives session_remove: the next token is still larger
SELECT lease_acquire('acme', 'pod-g');
SELECT session_remove('acme', 8);
SELECT lease_release('acme', 8);

-- import_legacy refuses a company with a live lease, and names it
CREATE TABLE legacy_auth (company_id text, creds jsonb);
CREATE TABLE legacy_keys (company_id text, key_type text, key_id text, value jsonb, expires_at timestamptz);
INSERT INTO legacy_keys VALUES ('legacy1', 'session', '1.0', '{"v":1}', NULL), ('legacy2', 'session', '1.0', '{"v":1}', NULL);
SELECT lease_acquire('legacy2', 'pod-h');
SELECT pg_temp.try($$SELECT whatsapp_auth.import_legacy('legacy_auth', 'legacy_keys')$$);
SELECT count(*) AS legacy_keys_imported FROM whatsapp_auth.keys WHERE company_id LIKE 'legacy%';
SELECT lease_release('legacy2', 1);
-- one lease lock for the whole import, not one per company
INSERT INTO legacy_keys SELECT 'legacy_' || i, 'session', '1.0', '{"v":1}', NULL FROM generate_series(3, 300) i;
BEGIN;
SELECT import_legacy('legacy_auth', 'legacy_keys');
SELECT count(*) AS lease_locks_held FROM pg_locks
 WHERE locktype = 'advisory' AND objsubid = 22337 AND pid = pg_backend_pid();
COMMIT;
SELECT count(*) AS removed FROM (SELECT session_remove(company_id) FROM (SELECT DISTINCT company_id FROM legacy_keys) c) r;
DROP TABLE legacy_auth, legacy_keys;

-- health: the company's lease (holder, seconds left) or null; live leases of the store
SELECT lease_acquire('acme', 'pod-i', '1 minute');
SELECT h ->> 'holder' AS holder, h ->> 'lease_token' AS token,
       (h ->> 'seconds_left')::numeric BETWEEN 1 AND 60 AS seconds_left,
       (h ->> 'expires_at')::timestamptz > now() AS expires_later
  FROM (SELECT health('acme') -> 'lease' AS h) x;
SELECT health() -> 'live_leases' AS live_leases;
SELECT lease_release('acme', 9);
SELECT health('acme') -> 'lease' AS lease, health() -> 'live_leases' AS live_leases;

-- pinning: another company's lease is out of reach, and its row hidden
SET whatsapp_auth.company_id = 'other';
SELECT pg_temp.try(stmt) FROM unnest(ARRAY[
  $$SELECT whatsapp_auth.lease_acquire('acme', 'pod-x')$$,
  $$SELECT whatsapp_auth.lease_renew('acme', 9)$$,
  $$SELECT whatsapp_auth.lease_release('acme', 9)$$,
  $$SELECT whatsapp_auth.lease_status('acme')$$
]) stmt;
RESET whatsapp_auth.company_id;
CREATE ROLE wa_lease_app;
GRANT USAGE ON SCHEMA whatsapp_auth TO wa_lease_app;
GRANT SELECT ON whatsapp_auth.leases TO wa_lease_app;
SET whatsapp_auth.company_id = 'other';
SET ROLE wa_lease_app;
SELECT count(*) AS leases_seen_pinned FROM whatsapp_auth.leases;
RESET ROLE;
RESET whatsapp_auth.company_id;
SET ROLE wa_lease_app;
SELECT count(*) AS leases_seen_unpinned FROM whatsapp_auth.leases;
RESET ROLE;
DROP OWNED BY wa_lease_app;
DROP ROLE wa_lease_app;

-- lease_adopt: a lease another server issued (a moved company) is taken as
-- it is: its token writes, an older one does not; a smaller token than
-- this server's changes nothing; a released one stays released
SELECT lease_adopt('moved', 'pod-m', 41, now() - interval '5 seconds', now() + interval '1 minute') AS token;
SELECT holder, lease_token, released_at IS NULL AS held, expires_at > now() AS live FROM leases WHERE company_id = 'moved';
SELECT pg_temp.try($$SELECT whatsapp_auth.keys_set('moved', '{"pre-key": {"1": {"n": 1}}}', 41)$$) AS current_token,
       pg_temp.try($$SELECT whatsapp_auth.keys_set('moved', '{"pre-key": {"1": {"n": 1}}}', 40)$$) AS older_token,
       pg_temp.try($$SELECT whatsapp_auth.keys_set('moved', '{"pre-key": {"1": {"n": 1}}}')$$) AS no_token;
SELECT lease_adopt('moved', 'pod-old', 3, now(), now() + interval '1 minute') AS token_kept;
SELECT holder, lease_token FROM leases WHERE company_id = 'moved';
SELECT lease_adopt('moved', 'pod-m', 41, now() - interval '5 seconds', now(), now()) AS token;
SELECT pg_temp.try($$SELECT whatsapp_auth.keys_set('moved', '{"pre-key": {"1": {"n": 1}}}', 41)$$) AS released_token,
       pg_temp.try($$SELECT whatsapp_auth.keys_set('moved', '{"pre-key": {"1": {"n": 1}}}')$$) AS no_token;
SELECT lease_acquire('moved', 'pod-n') AS next_token;
SELECT pg_temp.try(stmt) FROM unnest(ARRAY[
  $$SELECT whatsapp_auth.lease_adopt('moved', 'pod-m', NULL, now(), now())$$,
  $$SELECT whatsapp_auth.lease_adopt('moved', 'pod-m', 0, now(), now())$$,
  $$SELECT whatsapp_auth.lease_adopt('moved', 'pod-m', 50, NULL, now())$$,
  $$SELECT whatsapp_auth.lease_adopt('moved', 'pod-m', 50, now(), NULL)$$,
  $$SELECT whatsapp_auth.lease_adopt('moved', '', 50, now(), now())$$,
  $$SELECT whatsapp_auth.lease_adopt('bad id', 'pod-m', 50, now(), now())$$
]) stmt;
SET whatsapp_auth.company_id = 'other';
SELECT pg_temp.try($$SELECT whatsapp_auth.lease_adopt('moved', 'pod-m', 50, now(), now())$$) AS pinned_elsewhere;
RESET whatsapp_auth.company_id;
DELETE FROM keys WHERE company_id = 'moved';

-- the lease rows stay (the tokens' high-water marks)
SELECT company_id, lease_token, released_at IS NOT NULL AS released FROM leases ORDER BY company_id;
DELETE FROM leases;
