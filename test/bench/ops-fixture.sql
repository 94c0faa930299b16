-- 1,000,000 keys over 200 companies (5,000 each) with the real values of
-- the sample session, a realistic mix of key types, updated_at spread over
-- 40 days, and half of the keys that can expire already expired (30% of
-- all keys).  :session_file names the sample session.
\set ON_ERROR_STOP 1
\set session `cat :'session_file'`
CREATE UNLOGGED TABLE bench_sample AS
  SELECT t.key AS key_type, (row_number() OVER (PARTITION BY t.key ORDER BY i.key) - 1)::int AS n, i.value
  FROM jsonb_each((:'session'::jsonb) -> 'keys') t, jsonb_each(t.value) i;
INSERT INTO bench_sample SELECT 'lid-mapping', g, to_jsonb('1234567' || g::text) FROM generate_series(0, 99) g;

CREATE UNLOGGED TABLE bench_mix (key_type text, per_company int);
INSERT INTO bench_mix VALUES ('session', 2000), ('pre-key', 2000), ('sender-key', 400),
  ('sender-key-memory', 350), ('lid-mapping', 100), ('app-state-sync-version', 100), ('app-state-sync-key', 50);

INSERT INTO whatsapp_auth.creds (company_id, creds)
  SELECT 't' || c, (:'session'::jsonb) -> 'creds' FROM generate_series(1, 200) c;

INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value, updated_at, expires_at)
SELECT 't' || c, m.key_type,
       CASE m.key_type WHEN 'pre-key' THEN i::text
                       WHEN 'session' THEN '7900' || lpad(i::text, 7, '0') || '.0'
                       ELSE m.key_type || '-' || i END,
       s.value, u.updated_at,
       CASE WHEN whatsapp_auth.key_ttl(m.key_type) IS NULL THEN NULL
            WHEN random() < 0.5 THEN now() - random() * interval '5 days'
            ELSE u.updated_at + whatsapp_auth.key_ttl(m.key_type) + interval '30 days' END
FROM generate_series(1, 200) c
CROSS JOIN bench_mix m
CROSS JOIN LATERAL generate_series(0, m.per_company - 1) i
CROSS JOIN LATERAL (SELECT now() - random() * interval '40 days' AS updated_at) u
JOIN (SELECT key_type, count(*)::int AS cnt FROM bench_sample GROUP BY 1) sc ON sc.key_type = m.key_type
JOIN bench_sample s ON s.key_type = m.key_type AND s.n = i % sc.cnt;

CREATE UNLOGGED TABLE bench_writes (company_id text, key_id text);
