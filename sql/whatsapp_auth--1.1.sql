/* whatsapp_auth--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION whatsapp_auth" to load this file. \quit

--
-- Schema objects.  Identifiers use the "C" collation: they are compared
-- bytewise, which is faster and immune to libc collation changes that
-- would otherwise corrupt the primary key indexes.
--

CREATE DOMAIN whatsapp_auth.company_id AS pg_catalog.text COLLATE "C"
	CONSTRAINT company_id_format
	CHECK (VALUE OPERATOR(pg_catalog.~) '^[A-Za-z0-9_-]{1,50}$');
COMMENT ON DOMAIN whatsapp_auth.company_id IS
	'Tenant (one WhatsApp account) identifier: 1 to 50 of A-Z a-z 0-9 _ -';

CREATE TABLE whatsapp_auth.creds (
	company_id whatsapp_auth.company_id PRIMARY KEY,
	creds jsonb NOT NULL
		CONSTRAINT creds_is_object CHECK (pg_catalog.jsonb_typeof(creds) OPERATOR(pg_catalog.=) 'object'),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE whatsapp_auth.creds IS
	'Baileys AuthenticationCreds of each company, Buffers in canonical form';

CREATE TABLE whatsapp_auth.keys (
	company_id whatsapp_auth.company_id NOT NULL,
	key_type text COLLATE "C" NOT NULL
		CONSTRAINT key_type_format CHECK (key_type OPERATOR(pg_catalog.~) '^[a-z0-9-]{1,64}$'),
	key_id text COLLATE "C" NOT NULL
		CONSTRAINT key_id_length CHECK (pg_catalog.char_length(key_id) OPERATOR(pg_catalog.<=) 255
										AND key_id OPERATOR(pg_catalog.<>) ''),
	value jsonb NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	expires_at timestamptz,
	PRIMARY KEY (company_id, key_type, key_id)
);
COMMENT ON TABLE whatsapp_auth.keys IS
	'Signal keys of each company (Baileys SignalDataTypeMap), Buffers in canonical form';
COMMENT ON COLUMN whatsapp_auth.keys.expires_at IS
	'When the key stops being returned and may be purged; NULL = never (set on every write from key_ttl)';

-- The purge scans only keys that can expire.  The primary key serves every
-- lookup by company, so there is no separate company_id index.
CREATE INDEX keys_expires_at_idx ON whatsapp_auth.keys (expires_at)
	WHERE expires_at IS NOT NULL;

CREATE TABLE whatsapp_auth.key_ttl (
	key_type text COLLATE "C" PRIMARY KEY
		CONSTRAINT key_ttl_type_format CHECK (key_type OPERATOR(pg_catalog.=) '*'
											  OR key_type OPERATOR(pg_catalog.~) '^[a-z0-9-]{1,64}$'),
	ttl interval
		CONSTRAINT key_ttl_positive CHECK (ttl OPERATOR(pg_catalog.>) '0'::interval),
	shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE whatsapp_auth.key_ttl IS
	'Time to live per key type; the ''*'' row applies to types without a row; NULL ttl = never expires';
COMMENT ON COLUMN whatsapp_auth.key_ttl.shipped IS
	'True while the row is the default this extension installed; an edit makes it the user''s (kept by pg_dump)';

-- Defaults that never break a live account: pre-keys are deleted by Baileys
-- when consumed and stay valid on WhatsApp's servers for months;
-- app-state-sync keys decrypt app-state patches; identity keys are the trust
-- record.  Sessions, sender keys and LID mappings are re-established on use.
INSERT INTO whatsapp_auth.key_ttl (key_type, ttl, shipped) VALUES
	('*', '14 days', true),
	('pre-key', NULL, true),
	('app-state-sync-key', NULL, true),
	('identity-key', NULL, true),
	('session', '7 days', true),
	('sender-key', '7 days', true),
	('lid-mapping', '7 days', true);

-- Edits of a shipped row make it the user's; a user row for a type replaces
-- that type's shipped row.  Restoring a dump (which carries only user rows,
-- see below) goes through the same path, so shipped rows are never doubled.
CREATE FUNCTION whatsapp_auth.key_ttl_track_user_rows() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
		NEW.shipped := false;
	ELSIF NOT NEW.shipped THEN
		DELETE FROM whatsapp_auth.key_ttl t
		 WHERE t.key_type OPERATOR(pg_catalog.=) NEW.key_type AND t.shipped;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION whatsapp_auth.key_ttl_track_user_rows() IS
	'Trigger: keeps key_ttl.shipped true only for unedited default rows';

CREATE TRIGGER key_ttl_track_user_rows
	BEFORE INSERT OR UPDATE ON whatsapp_auth.key_ttl
	FOR EACH ROW EXECUTE FUNCTION whatsapp_auth.key_ttl_track_user_rows();

-- User data is dumped by pg_dump; key_ttl only where it is the user's.
SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.creds', '');
SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.keys', '');
SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.key_ttl', 'WHERE NOT shipped');

--
-- Functions.  Readers are STRICT (NULL in, NULL out).  Writers are not:
-- a NULL argument there is almost always a client bug, so they raise 22004
-- rather than silently doing nothing.
--

CREATE FUNCTION whatsapp_auth.creds_get(company_id text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wa_creds_get'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.creds_get(text) IS
	'The creds document of a company, NULL if it has none';

CREATE FUNCTION whatsapp_auth.creds_set(company_id text, creds jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'wa_creds_set'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.creds_set(text, jsonb) IS
	'Store (insert or replace) the creds document of a company, Buffers normalised';

CREATE FUNCTION whatsapp_auth.keys_get(company_id text, key_type text, ids text[])
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wa_keys_get'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_get(text, text, text[]) IS
	'Baileys keys.get: {id: value} for the ids present and not expired, {} for none';

CREATE FUNCTION whatsapp_auth.keys_set(company_id text, data jsonb,
									   OUT upserted integer, OUT deleted integer)
RETURNS record
AS 'MODULE_PATHNAME', 'wa_keys_set'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_set(text, jsonb) IS
	'Baileys keys.set: {type: {id: value or null}}, null deletes; atomic, one statement';

CREATE FUNCTION whatsapp_auth.keys_upsert(company_id text, key_type text, ids text[], vals jsonb[])
RETURNS integer
AS 'MODULE_PATHNAME', 'wa_keys_upsert'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_upsert(text, text, text[], jsonb[]) IS
	'Write keys of one type (a NULL element of vals deletes that id); returns keys written plus deleted';

CREATE FUNCTION whatsapp_auth.keys_delete(company_id text, key_type text, ids text[])
RETURNS integer
AS 'MODULE_PATHNAME', 'wa_keys_delete'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_delete(text, text, text[]) IS
	'Delete keys of one type by id; returns the number of keys deleted';

CREATE FUNCTION whatsapp_auth.keys_clear(company_id text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_keys_clear'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_clear(text) IS
	'Baileys keys.clear: delete every key of a company, keeping its creds; returns the keys deleted';

CREATE FUNCTION whatsapp_auth.session_remove(company_id text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_session_remove'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.session_remove(text) IS
	'Delete the creds and every key of a company (log out); returns the rows deleted';

CREATE FUNCTION whatsapp_auth.key_ttl(key_type text)
RETURNS interval
AS 'MODULE_PATHNAME', 'wa_key_ttl'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.key_ttl(text) IS
	'TTL applied to keys of this type: its key_ttl row, else the ''*'' row; NULL = never expires';

CREATE FUNCTION whatsapp_auth.buffer_decode(node jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'wa_buffer_decode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.buffer_decode(jsonb) IS
	'Bytes of one Baileys Buffer node (base64, byte array, legacy or Uint8Array-object form)';

CREATE FUNCTION whatsapp_auth.buffer_encode(bytes bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wa_buffer_encode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.buffer_encode(bytea) IS
	'Canonical Buffer node {"type":"Buffer","data":"<base64>"} of the bytes';

CREATE FUNCTION whatsapp_auth.buffers_normalize(doc jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wa_buffers_normalize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.buffers_normalize(jsonb) IS
	'The document with every Buffer node in canonical form; malformed nodes raise naming their path';

CREATE FUNCTION whatsapp_auth.jsonb_buffer(doc jsonb, VARIADIC path text[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'wa_jsonb_buffer'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.jsonb_buffer(jsonb, text[]) IS
	'Bytes of the Buffer node at a path (keys, array indexes), NULL if the path leads nowhere';

--
-- Moving auth state in and out.
--

CREATE FUNCTION whatsapp_auth.session_export(company_id text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wa_session_export'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.session_export(text) IS
	'A company''s whole auth state as one document {company_id, exported_at, creds, keys}; NULL if it has none';

-- Not STRICT: NULL arguments raise 22004 like the other writers.
CREATE FUNCTION whatsapp_auth.session_import(doc jsonb, replace boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_session_import'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.session_import(jsonb, boolean) IS
	'Load a session_export() document, checked and normalised like keys_set, atomically; refuses an existing company unless replace; returns rows written';

CREATE FUNCTION whatsapp_auth.import_legacy(auth_table regclass, keys_table regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_import_legacy'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.import_legacy(regclass, regclass) IS
	'Copy the client-side tables this replaces (company_id, creds) and (company_id, key_type, key_id, value, expires_at): buffers normalised, expiry from key_ttl, expired keys skipped; idempotent';

--
-- Operations: purge log, health, purge, pg_cron schedule.
--

CREATE TABLE whatsapp_auth.purge_log (
	id bigserial PRIMARY KEY,
	started_at timestamptz NOT NULL,
	finished_at timestamptz NOT NULL,
	role name NOT NULL,
	grace interval NOT NULL,
	batch_size integer NOT NULL,
	max_rows bigint,
	deleted bigint NOT NULL,
	dry_run boolean NOT NULL,
	duration interval GENERATED ALWAYS AS (finished_at OPERATOR(pg_catalog.-) started_at) STORED
);
COMMENT ON TABLE whatsapp_auth.purge_log IS
	'One row per purge run (dry or not); trimmed by each purge to whatsapp_auth.purge_log_retention';
-- each purge trims by started_at
CREATE INDEX purge_log_started_at_idx ON whatsapp_auth.purge_log (started_at);

SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.purge_log', '');
SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.purge_log_id_seq', '');

-- Not STRICT: NULL is the store-wide view.
CREATE FUNCTION whatsapp_auth.health(company_id text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wa_health'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.health(text) IS
	'Key store statistics and a status (ok, medium, high, critical) with reasons; one company, or the whole store when NULL';

-- Not STRICT: a NULL max_rows means no limit; other NULLs raise 22004.
CREATE FUNCTION whatsapp_auth.purge_expired(grace interval DEFAULT '0',
											batch_size integer DEFAULT 5000,
											max_rows bigint DEFAULT NULL,
											dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_purge_expired'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.purge_expired(interval, integer, bigint, boolean) IS
	'Delete keys expired for longer than grace, in batches, in one transaction; returns the number deleted (or, dry run, that would be)';

CREATE PROCEDURE whatsapp_auth.purge(grace interval DEFAULT '0',
									 batch_size integer DEFAULT 5000,
									 max_rows bigint DEFAULT NULL)
AS 'MODULE_PATHNAME', 'wa_purge'
LANGUAGE C;
COMMENT ON PROCEDURE whatsapp_auth.purge(interval, integer, bigint) IS
	'purge_expired() committing after every batch (what schedule_purge runs); CALL it outside a transaction block';

CREATE FUNCTION whatsapp_auth.schedule_purge(schedule text DEFAULT '17 3 * * *',
											 grace interval DEFAULT '0')
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_schedule_purge'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.schedule_purge(text, interval) IS
	'Create or update the pg_cron job that CALLs purge() in this database as the current role; returns its job id';

CREATE FUNCTION whatsapp_auth.unschedule_purge()
RETURNS boolean
AS 'MODULE_PATHNAME', 'wa_unschedule_purge'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.unschedule_purge() IS
	'Remove the pg_cron job of schedule_purge(); false when there was none';

--
-- Tenant pinning.  A session that sets whatsapp_auth.company_id (SET LOCAL
-- in each transaction of a pooled connection) sees and writes that company
-- alone: the functions refuse other companies with 42501, and these
-- policies hide their rows from direct table access.  FORCE applies them to
-- the tables' owner too; superusers and BYPASSRLS roles are exempt, as
-- always.  Empty or unset pins nothing.
--
ALTER TABLE whatsapp_auth.creds ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_auth.keys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

CREATE POLICY pinned_company ON whatsapp_auth.creds
	USING (COALESCE(pg_catalog.current_setting('whatsapp_auth.company_id', true), '') OPERATOR(pg_catalog.=) ''
		   OR company_id OPERATOR(pg_catalog.=) (pg_catalog.current_setting('whatsapp_auth.company_id', true) COLLATE "C"));
COMMENT ON POLICY pinned_company ON whatsapp_auth.creds IS
	'Only the company named by whatsapp_auth.company_id, when set';

CREATE POLICY pinned_company ON whatsapp_auth.keys
	USING (COALESCE(pg_catalog.current_setting('whatsapp_auth.company_id', true), '') OPERATOR(pg_catalog.=) ''
		   OR company_id OPERATOR(pg_catalog.=) (pg_catalog.current_setting('whatsapp_auth.company_id', true) COLLATE "C"));
COMMENT ON POLICY pinned_company ON whatsapp_auth.keys IS
	'Only the company named by whatsapp_auth.company_id, when set';

--
-- Privileges.  These tables hold the keys that let anyone impersonate a
-- WhatsApp account, so nothing is usable by PUBLIC: an administrator grants
-- access to the application's role (see the README).
--
REVOKE ALL ON ALL TABLES IN SCHEMA whatsapp_auth FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA whatsapp_auth FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA whatsapp_auth FROM PUBLIC;
