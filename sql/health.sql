-- health(): figures, age buckets, and every status rule with its setting
SET search_path = whatsapp_auth, public;

-- the parts of the document that do not depend on the clock or the disk
CREATE FUNCTION pg_temp.h(company text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
  SELECT whatsapp_auth.health(company) - 'table_bytes' - 'index_bytes' - 'last_key_update'
         - 'last_creds_update' - 'last_purge' #- '{figures,as_of}'
$$;

-- empty store
SELECT pg_temp.h();

-- a tenant: 10 sessions, 4 pre-keys, creds
SELECT creds_set('acme', '{"registrationId":1}');
SELECT upserted FROM keys_set('acme', (SELECT jsonb_build_object(
  'session', jsonb_object_agg(i || '.0', jsonb_build_object('n', i)),
  'pre-key', (SELECT jsonb_object_agg(j, jsonb_build_object('private', '{"type":"Buffer","data":"AQID"}'::jsonb))
              FROM generate_series(1, 4) j))
  FROM generate_series(1, 10) i));
SELECT pg_temp.h('acme');
SELECT (health('acme') ->> 'table_bytes')::bigint > 0 AS has_table_bytes,
       (health('acme') ->> 'index_bytes')::bigint > 0 AS has_index_bytes,
       (health('acme') ->> 'last_key_update')::timestamptz > now() - interval '1 minute' AS last_key_update,
       (health('acme') ->> 'last_creds_update')::timestamptz > now() - interval '1 minute' AS last_creds_update;

-- age buckets follow updated_at
UPDATE keys SET updated_at = now() - CASE key_id
    WHEN '1.0' THEN interval '2 days' WHEN '2.0' THEN interval '8 days'
    WHEN '3.0' THEN interval '15 days' WHEN '4.0' THEN interval '31 days'
    ELSE interval '1 hour' END
  WHERE company_id = 'acme' AND key_type = 'session';
SELECT health('acme') -> 'age_buckets';

-- high: no key written for whatsapp_auth.stale_after (48 h by default)
UPDATE keys SET updated_at = now() - interval '3 days' WHERE company_id = 'acme';
SELECT health('acme') -> 'status' AS status, health('acme') -> 'reasons' AS reasons;
SET whatsapp_auth.stale_after = '4d';
SELECT health('acme') -> 'status' AS status_with_longer_stale_after;
RESET whatsapp_auth.stale_after;
UPDATE keys SET updated_at = now() WHERE company_id = 'acme';

-- medium: more than whatsapp_auth.expired_ratio_warn (0.5) of its keys expired
UPDATE keys SET expires_at = now() - interval '1 minute'
  WHERE company_id = 'acme' AND key_type = 'session' AND key_id <> '10.0';
SELECT health('acme') -> 'status' AS status, health('acme') -> 'reasons' AS reasons,
       health('acme') -> 'expired_keys' AS expired_keys;
SET whatsapp_auth.expired_ratio_warn = 0.7;
SELECT health('acme') -> 'status' AS status_with_higher_ratio;
RESET whatsapp_auth.expired_ratio_warn;

-- critical: no creds row (and it outranks the others)
DELETE FROM creds WHERE company_id = 'acme';
SELECT health('acme') -> 'status' AS status, health('acme') -> 'reasons' AS reasons;
SELECT creds_set('acme', '{"registrationId":1}');

-- an unknown company
SELECT pg_temp.h('nobody');

-- store-wide: many expired keys and no purge lately is medium
SELECT * FROM keys_set('other', '{"session":{"1.0":{}}}');
SELECT pg_temp.h();
SET whatsapp_auth.expired_count_warn = 5;
SELECT health() -> 'status' AS status, health() -> 'reasons' AS reasons;
-- a dry run is not a purge
SELECT purge_expired(dry_run => true);
SELECT health() -> 'status' AS after_dry_run;
-- a real one (even partial) is
SELECT purge_expired(max_rows => 1);
SELECT health() -> 'status' AS after_purge, health() -> 'expired_keys' AS still_expired;
SELECT health() -> 'last_purge' ->> 'deleted' AS last_purge_deleted;
SET whatsapp_auth.purge_overdue_after = '1min';
UPDATE purge_log SET finished_at = now() - interval '2 minutes', started_at = now() - interval '2 minutes';
SELECT health() -> 'status' AS purge_overdue;
RESET whatsapp_auth.purge_overdue_after;
RESET whatsapp_auth.expired_count_warn;

-- store-wide above whatsapp_auth.health_sample_rows keys (30,000 by
-- default): the planner's estimate of the rows, shared out as a sample of
-- about that many is (of 40,000 keys, 8,000: some 80 of 400 blocks, so the
-- bounds below are over 4 standard errors wide); health(company) stays exact
SELECT creds_set('big', '{"registrationId":2}');
INSERT INTO keys (company_id, key_type, key_id, value, updated_at, expires_at)
  SELECT 'big', CASE WHEN g % 4 = 0 THEN 'session' ELSE 'pre-key' END, g::text,
         jsonb_build_object('n', g), now(), CASE WHEN g % 2 = 0 THEN now() - interval '1 hour' END
  FROM generate_series(1, 40000) g;
ANALYZE keys;
SET whatsapp_auth.health_sample_rows = 50000;
SELECT health() -> 'figures' ->> 'method' AS below_the_setting;
SET whatsapp_auth.health_sample_rows = 8000;
SELECT (h -> 'figures') - 'as_of' - 'sample_percent' - 'sampled_keys' - 'total_from_statistics_of' AS figures,
       (h -> 'figures' ->> 'total_from_statistics_of')::timestamptz > now() - interval '1 hour' AS statistics_of_the_analyze,
       round((h -> 'figures' ->> 'sample_percent')::numeric) AS sample_percent,
       (h -> 'figures' ->> 'sampled_keys')::int BETWEEN 4000 AND 12000 AS sampled_about_8000,
       (h ->> 'total_keys')::int BETWEEN 20000 AND 60000 AS total_about_40000,
       (h ->> 'expired_keys')::int BETWEEN 10000 AND 30000 AS expired_about_20000,
       (h -> 'keys_by_type' -> 'session' ->> 'keys')::int BETWEEN 5000 AND 15000 AS sessions_about_10000,
       h ->> 'companies' AS companies_with_creds, h ->> 'status' AS status
  FROM health() h;
SELECT h ->> 'total_keys' AS exact_for_a_company, h ? 'figures' AS has_figures FROM health('big') h;
SET whatsapp_auth.health_sample_rows = 0;
SELECT h -> 'figures' ->> 'method' AS method, h ->> 'total_keys' AS total_keys FROM health() h;
RESET whatsapp_auth.health_sample_rows;
-- the sample's method: one block in every n, one of each stratum of n
-- blocks, all of its rows, the same blocks for the same seed (on a table of
-- its own, every block of it full)
CREATE TEMP TABLE rows_in_blocks AS SELECT g FROM generate_series(1, 50000) g;
CREATE TEMP TABLE sampled AS
  SELECT 0 AS seed, (ctid::text::point)[0]::int AS block, count(*) AS n
    FROM rows_in_blocks TABLESAMPLE block_sample(5) REPEATABLE (0) GROUP BY 1, 2
  UNION ALL
  SELECT 1, (ctid::text::point)[0]::int, count(*)
    FROM rows_in_blocks TABLESAMPLE block_sample(5) REPEATABLE (1) GROUP BY 1, 2;
SELECT s.seed, count(*) = count(DISTINCT s.block / 5) AS one_block_a_stratum,
       count(*) BETWEEN b.n / 5 AND b.n / 5 + 1 AS one_in_five,
       sum(s.n) = (SELECT count(*) FROM rows_in_blocks r WHERE (r.ctid::text::point)[0]::int IN
                     (SELECT t.block FROM sampled t WHERE t.seed = s.seed)) AS every_row_of_its_blocks
  FROM sampled s, (SELECT pg_relation_size('rows_in_blocks') / current_setting('block_size')::int AS n) b
  GROUP BY s.seed, b.n ORDER BY 1;
SELECT (SELECT array_agg(block ORDER BY block) FROM sampled WHERE seed = 0)
         = (SELECT array_agg(DISTINCT (ctid::text::point)[0]::int ORDER BY (ctid::text::point)[0]::int)
              FROM rows_in_blocks TABLESAMPLE block_sample(5) REPEATABLE (0)) AS same_seed_same_blocks,
       (SELECT array_agg(block ORDER BY block) FROM sampled WHERE seed = 0)
         <> (SELECT array_agg(block ORDER BY block) FROM sampled WHERE seed = 1) AS another_seed_others,
       (SELECT count(*) FROM rows_in_blocks TABLESAMPLE block_sample(1)) = 50000 AS one_in_one_is_all;
SELECT count(*) FROM rows_in_blocks TABLESAMPLE block_sample(0);
SELECT session_remove('big');

-- errors
SELECT health('not valid');
SET whatsapp_auth.health_sample_rows = -1;
SET whatsapp_auth.expired_ratio_warn = 2;
SET whatsapp_auth.stale_after = '1s';

SELECT session_remove('acme'), session_remove('other');
DELETE FROM purge_log;
