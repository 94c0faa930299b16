-- purge_expired(), purge(), the purge log, the advisory lock, and the
-- pg_cron functions without pg_cron (the live pg_cron run is test/cron_test)
SET search_path = whatsapp_auth, public;

-- 30 keys: 20 expired an hour ago, 5 expired 3 days ago, 5 never expire
SELECT upserted FROM keys_set('acme', (SELECT jsonb_build_object(
  'session', jsonb_object_agg(i || '.0', '{}'::jsonb),
  'pre-key', (SELECT jsonb_object_agg(j, '{}'::jsonb) FROM generate_series(1, 5) j))
  FROM generate_series(1, 25) i));
UPDATE keys SET expires_at = now() - CASE WHEN key_id IN ('1.0','2.0','3.0','4.0','5.0')
                                          THEN interval '3 days' ELSE interval '1 hour' END
  WHERE company_id = 'acme' AND key_type = 'session';

-- dry run counts, deletes nothing
SELECT purge_expired(dry_run => true) AS would_delete;
SELECT purge_expired(dry_run => true, max_rows => 7) AS would_delete_capped;
SELECT count(*) FROM keys WHERE company_id = 'acme';

-- grace: only keys expired for longer than it
SELECT purge_expired(grace => '1 day') AS deleted_with_grace;
-- max_rows stops early, across batches
SELECT purge_expired(batch_size => 3, max_rows => 8) AS deleted_capped;
SELECT purge_expired(max_rows => 0) AS deleted_none;
SELECT count(*) FILTER (WHERE expires_at < now()) AS expired_left, count(*) AS keys_left
FROM keys WHERE company_id = 'acme';

-- a key refreshed before the purge survives: its expiry moved
SELECT * FROM keys_set('acme', '{"session":{"25.0":{"refreshed":true}}}');
SELECT purge_expired(batch_size => 2) AS deleted_rest;
SELECT keys_get('acme', 'session', '{25.0}') AS refreshed_key;
SELECT key_type, count(*) FROM keys WHERE company_id = 'acme' GROUP BY 1 ORDER BY 1;

-- the procedure (outside a transaction block it commits between batches)
UPDATE keys SET expires_at = now() - interval '1 minute' WHERE company_id = 'acme' AND key_type = 'session';
CALL purge(batch_size => 1);
SELECT count(*) AS sessions_left FROM keys WHERE company_id = 'acme' AND key_type = 'session';

-- every run is logged, dry or not
SELECT role = current_user AS by_me, grace, batch_size, max_rows, deleted, dry_run,
       finished_at >= started_at AS ordered, duration = finished_at - started_at AS duration_ok
FROM purge_log ORDER BY id;

-- the log is trimmed to whatsapp_auth.purge_log_retention by each purge
UPDATE purge_log SET started_at = started_at - interval '40 days' WHERE id = (SELECT min(id) FROM purge_log);
SELECT purge_expired() AS nothing_left;
SELECT count(*) AS log_rows FROM purge_log;
SET whatsapp_auth.purge_log_retention = 0;

-- one purge at a time: another session holds the purge lock
CREATE EXTENSION dblink;
SELECT dblink_connect('holder', format('host=%s port=%s dbname=%s',
    split_part(current_setting('unix_socket_directories'), ',', 1),
    current_setting('port'), current_database()));
SELECT locked FROM dblink('holder', 'SELECT pg_try_advisory_lock(1463899472, 1)') AS t(locked boolean);
UPDATE keys SET expires_at = now() - interval '1 minute' WHERE company_id = 'acme';
SELECT count(*) AS log_rows_before FROM purge_log;
SELECT purge_expired() AS skipped;
CALL purge();
SELECT count(*) AS untouched FROM keys WHERE company_id = 'acme';
SELECT count(*) AS log_rows_after_skipped_runs FROM purge_log;
SELECT unlocked FROM dblink('holder', 'SELECT pg_advisory_unlock(1463899472, 1)') AS t(unlocked boolean);

-- a key a writer holds is skipped, never waited for; the writer's refresh wins
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', $$SELECT upserted FROM whatsapp_auth.keys_set('acme', '{"pre-key":{"1":{"kept":true}}}')$$) AS t(upserted int);
SELECT purge_expired() AS deleted_all_but_the_locked_one;
SELECT dblink_exec('holder', 'COMMIT');
SELECT key_type, key_id, value, expires_at IS NULL AS never_expires FROM keys WHERE company_id = 'acme';

-- max_rows counts the keys deleted, not the ones read: a locked key among
-- the first read is made up for by the next (keys of one expiry: the index
-- is read on from the last address it gave, not from the start again)
SELECT upserted FROM keys_set('acme', (SELECT jsonb_build_object('session', jsonb_object_agg(i || '.0', '{}'::jsonb))
  FROM generate_series(1, 6) i));
UPDATE keys SET expires_at = now() - interval '1 minute' WHERE company_id = 'acme' AND key_type = 'session';
SELECT dblink_exec('holder', 'BEGIN');
SELECT key_id AS locked_key FROM dblink('holder', $$SELECT key_id FROM whatsapp_auth.keys
  WHERE company_id = 'acme' AND key_type = 'session' ORDER BY ctid LIMIT 1 FOR UPDATE$$) AS t(key_id text) \gset
SELECT purge_expired(max_rows => 3) AS deleted_three_past_the_locked_one;
SELECT dblink_exec('holder', 'COMMIT');
SELECT count(*) AS sessions_left, count(*) FILTER (WHERE key_id = :'locked_key') AS locked_one_kept
FROM keys WHERE company_id = 'acme' AND key_type = 'session';

-- expired keys rewritten since (an update that keeps the indexed expiry, so
-- the index still leads to the first row of the chain) are deleted too
UPDATE keys SET value = '{"rewritten": true}' WHERE company_id = 'acme' AND key_type = 'session';
SELECT n_tup_hot_upd > 0 AS rewritten_in_place FROM pg_stat_xact_user_tables WHERE relid = 'keys'::regclass;
SELECT purge_expired() AS deleted_rewritten;
SELECT dblink_disconnect('holder');

-- errors
SELECT purge_expired(grace => '-1 hour');
SELECT purge_expired(batch_size => 0);
SELECT purge_expired(max_rows => -1);
SELECT purge_expired(grace => NULL);
CALL purge(batch_size => NULL);
-- purge() has no dry_run: its message names only its own arguments
CALL purge(grace => NULL);

-- without pg_cron in this database, scheduling says what to do
SELECT schedule_purge();
SELECT unschedule_purge();

SELECT session_remove('acme');
DELETE FROM purge_log;
DROP EXTENSION dblink;
