-- creds_get / creds_set / session_remove
SET search_path = whatsapp_auth, public;

SELECT creds_get('acme') IS NULL AS no_creds_yet;

-- stored in canonical form whatever form came in
SELECT creds_set('acme', '{"noiseKey":{"private":{"type":"Buffer","data":[1,2,3]}},
                           "registrationId":205, "me":{"id":"79001234567:12@s.whatsapp.net"}}');
SELECT creds_get('acme');
SELECT created_at = updated_at AS fresh FROM creds WHERE company_id = 'acme';

-- a second set replaces the document and moves updated_at only
BEGIN;
SELECT creds_set('acme', '{"registrationId":206}');
SELECT creds_get('acme');
COMMIT;

SELECT jsonb_buffer(creds_get('acme'), 'noiseKey', 'private') IS NULL AS gone_with_replace;

-- errors: nothing is written
SELECT creds_set('acme', '[1,2]');
SELECT creds_set('acme', '"text"');
SELECT creds_set('acme', NULL);
SELECT creds_set(NULL, '{}');
SELECT creds_set('bad id', '{}');
SELECT creds_set('', '{}');
SELECT creds_set(repeat('x', 51), '{}');
SELECT creds_set('acme', '{"noiseKey":{"private":{"type":"Buffer","data":"!!"}}}');
SELECT creds_get('acme');

-- readers are strict
SELECT creds_get(NULL) IS NULL AS null_in_null_out;
SELECT creds_get('no/such');

-- session_remove: creds and every key of one company, nobody else's
SELECT * FROM keys_set('acme', '{"session":{"1.0":{"a":1},"2.0":{"a":2}}}');
SELECT * FROM keys_set('other', '{"session":{"1.0":{"a":1}}}');
SELECT creds_set('other', '{"registrationId":1}');
-- keys_clear: every key, the creds stay
SELECT keys_clear('other');
SELECT keys_clear('other');
SELECT keys_clear('bad id');
SELECT * FROM keys_set('other', '{"session":{"1.0":{"a":1}}}');
SELECT session_remove('acme');
SELECT session_remove('acme');
SELECT company_id, count(*) FROM keys GROUP BY 1 ORDER BY 1;
SELECT company_id FROM creds ORDER BY 1;
SELECT session_remove('other');
