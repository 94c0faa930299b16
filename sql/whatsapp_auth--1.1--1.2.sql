/* whatsapp_auth--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION whatsapp_auth UPDATE TO '1.2'" to load this file. \quit

--
-- Baileys' useMultiFileAuthState folders, and the paged listing behind the
-- adapter's keys.list / keys.listIds (Baileys' migrateAuthState needs them).
--

-- Not STRICT: NULL arguments raise 22004 like the other writers.
CREATE FUNCTION whatsapp_auth.session_import_files(company_id text, files jsonb,
												   replace boolean DEFAULT false,
												   lease_token bigint DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_session_import_files'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.session_import_files(text, jsonb, boolean, bigint) IS
	'Load a useMultiFileAuthState folder {"<file name>": "<file text>"}, checked and normalised like keys_set, atomically; refuses an existing company unless replace; returns rows written';

CREATE FUNCTION whatsapp_auth.session_export_files(company_id text,
												   OUT file_name text, OUT content text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'wa_session_export_files'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION whatsapp_auth.session_export_files(text) IS
	'The folder useMultiFileAuthState would have written for a company''s live state: creds.json and <type>-<id>.json, names as fixFileName encodes them';

-- Not STRICT: a NULL after_id is the first page; other NULLs raise 22004.
CREATE FUNCTION whatsapp_auth.keys_page(company_id text, key_type text,
										after_id text DEFAULT NULL,
										page_size integer DEFAULT 1000,
										with_values boolean DEFAULT true,
										OUT key_id text, OUT value jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'wa_keys_page'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION whatsapp_auth.keys_page(text, text, text, integer, boolean) IS
	'Up to page_size live keys of one type with key_id after after_id, in key_id order (values NULL unless with_values): Baileys keys.list / keys.listIds, one page per call';

REVOKE ALL ON FUNCTION whatsapp_auth.session_import_files(text, jsonb, boolean, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION whatsapp_auth.session_export_files(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION whatsapp_auth.keys_page(text, text, text, integer, boolean) FROM PUBLIC;

--
-- Call statistics (src/stats.c), collected in shared memory while the
-- library is in shared_preload_libraries; without it, reading them fails
-- with 55000 and a hint, and every other function works as before.
--
CREATE FUNCTION whatsapp_auth.stats(
	OUT function text,
	OUT calls bigint,
	OUT errors bigint,
	OUT keys_read bigint,
	OUT keys_written bigint,
	OUT keys_deleted bigint,
	OUT total_time_ms double precision,
	OUT max_time_ms double precision,
	OUT bytes_in bigint,
	OUT bytes_out bigint,
	OUT errors_by_class jsonb,
	OUT latency_le_ms double precision[],
	OUT latency_calls bigint[],
	OUT since timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'wa_stats'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.stats() IS
	'Call statistics of this database''s whatsapp_auth functions since the server started or stats_reset(); needs the library in shared_preload_libraries';

CREATE VIEW whatsapp_auth.stats AS
	SELECT s.function, s.calls, s.errors, s.keys_read, s.keys_written, s.keys_deleted,
		   s.total_time_ms, s.max_time_ms, s.bytes_in, s.bytes_out, s.errors_by_class,
		   s.latency_le_ms, s.latency_calls, s.since
	  FROM whatsapp_auth.stats() s;
COMMENT ON VIEW whatsapp_auth.stats IS
	'One row per whatsapp_auth function called in this database: calls, errors, keys, bytes, time, latency histogram (cumulative calls within each bound of latency_le_ms)';

CREATE FUNCTION whatsapp_auth.stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'wa_stats_reset'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.stats_reset() IS
	'Zero the call statistics of this database''s whatsapp_auth functions';

-- Statistics are readable by those granted them (a monitoring role, see the
-- README); resetting them is privileged, as pg_stat_statements_reset() is.
REVOKE ALL ON FUNCTION whatsapp_auth.stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION whatsapp_auth.stats_reset() FROM PUBLIC;
REVOKE ALL ON whatsapp_auth.stats FROM PUBLIC;

--
-- Account leases: one live holder per company, and fencing tokens that
-- only ever grow.  A company's row is never deleted by the extension (a
-- release keeps it), so its lease_token is the high-water mark of every
-- token ever issued for it; pg_dump keeps the rows, so a restore cannot
-- issue an old token again.
--
CREATE TABLE whatsapp_auth.leases (
	company_id whatsapp_auth.company_id PRIMARY KEY,
	holder text NOT NULL
		CONSTRAINT lease_holder_length CHECK (pg_catalog.char_length(holder) OPERATOR(pg_catalog.<=) 200
											 AND holder OPERATOR(pg_catalog.<>) ''),
	lease_token bigint NOT NULL
		CONSTRAINT lease_token_positive CHECK (lease_token OPERATOR(pg_catalog.>) 0),
	acquired_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	released_at timestamptz
);
COMMENT ON TABLE whatsapp_auth.leases IS
	'Account lease of each company that ever had one: its holder, its current fencing token (the largest ever issued), expiry';
COMMENT ON COLUMN whatsapp_auth.leases.lease_token IS
	'Current fencing token; each new holder gets the previous one plus 1; never lowered, the row never deleted';
COMMENT ON COLUMN whatsapp_auth.leases.released_at IS
	'When lease_release() ended the lease; NULL while it is held (live or expired)';

SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.leases', '');

ALTER TABLE whatsapp_auth.leases ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY pinned_company ON whatsapp_auth.leases
	USING (COALESCE(pg_catalog.current_setting('whatsapp_auth.company_id', true), '') OPERATOR(pg_catalog.=) ''
		   OR company_id OPERATOR(pg_catalog.=) (pg_catalog.current_setting('whatsapp_auth.company_id', true) COLLATE "C"));
COMMENT ON POLICY pinned_company ON whatsapp_auth.leases IS
	'Only the company named by whatsapp_auth.company_id, when set';
REVOKE ALL ON whatsapp_auth.leases FROM PUBLIC;

-- Not STRICT: NULL arguments raise 22004 like the other writers.
CREATE FUNCTION whatsapp_auth.lease_acquire(company_id text, holder text,
											ttl interval DEFAULT '30 seconds')
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_lease_acquire'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.lease_acquire(text, text, interval) IS
	'Take the company''s lease for ttl (at most 1 day) and return its fencing token; 55P03 while another holder''s lease is live; the live holder again keeps its token';

CREATE FUNCTION whatsapp_auth.lease_renew(company_id text, lease_token bigint,
										  ttl interval DEFAULT '30 seconds')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'wa_lease_renew'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.lease_renew(text, bigint, interval) IS
	'Extend the lease of this token by ttl from now (even once expired, if nobody took over) and return the new expiry; 55006 for a superseded or released token';

CREATE FUNCTION whatsapp_auth.lease_release(company_id text, lease_token bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'wa_lease_release'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.lease_release(text, bigint) IS
	'End the lease of this token now (anyone may acquire at once; the token stays the high-water mark); false if the token is not the company''s current one or was released already';

CREATE FUNCTION whatsapp_auth.lease_status(company_id text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wa_lease_status'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.lease_status(text) IS
	'{holder, lease_token, acquired_at, expires_at, released_at, live} of the company''s lease, NULL if it never had one';

-- For moving a company between servers (the router's move_company): the
-- lease row travels as it is, so its holder keeps writing with its token
-- and no older token writes.  Not STRICT: released_at is NULL while the
-- lease is held; other NULLs raise 22004.
CREATE FUNCTION whatsapp_auth.lease_adopt(company_id text, holder text, lease_token bigint,
										  acquired_at timestamptz, expires_at timestamptz,
										  released_at timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_lease_adopt'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.lease_adopt(text, text, bigint, timestamptz, timestamptz, timestamptz) IS
	'Set the company''s lease to one another server issued (holder, token, times), unless this server''s token is larger; returns the company''s token; for moving a company';

REVOKE ALL ON FUNCTION whatsapp_auth.lease_acquire(text, text, interval),
	whatsapp_auth.lease_renew(text, bigint, interval),
	whatsapp_auth.lease_release(text, bigint),
	whatsapp_auth.lease_status(text),
	whatsapp_auth.lease_adopt(text, text, bigint, timestamptz, timestamptz, timestamptz) FROM PUBLIC;

--
-- Fenced writes: every write function of one company takes a trailing
-- lease_token (DEFAULT NULL, so calls without it keep working).  A new
-- argument is a new signature: each function is renamed aside, created
-- anew, given the EXECUTE grants users gave the old one, and the old one
-- dropped.
--
ALTER FUNCTION whatsapp_auth.creds_set(text, jsonb) RENAME TO creds_set_1_1;
ALTER FUNCTION whatsapp_auth.keys_set(text, jsonb) RENAME TO keys_set_1_1;
ALTER FUNCTION whatsapp_auth.keys_upsert(text, text, text[], jsonb[]) RENAME TO keys_upsert_1_1;
ALTER FUNCTION whatsapp_auth.keys_delete(text, text, text[]) RENAME TO keys_delete_1_1;
ALTER FUNCTION whatsapp_auth.keys_clear(text) RENAME TO keys_clear_1_1;
ALTER FUNCTION whatsapp_auth.session_remove(text) RENAME TO session_remove_1_1;
ALTER FUNCTION whatsapp_auth.session_import(jsonb, boolean) RENAME TO session_import_1_1;

CREATE FUNCTION whatsapp_auth.creds_set(company_id text, creds jsonb, lease_token bigint DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'wa_creds_set'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.creds_set(text, jsonb, bigint) IS
	'Store (insert or replace) the creds document of a company, Buffers normalised; fenced by its lease';

CREATE FUNCTION whatsapp_auth.keys_set(company_id text, data jsonb, lease_token bigint DEFAULT NULL,
									   OUT upserted integer, OUT deleted integer)
RETURNS record
AS 'MODULE_PATHNAME', 'wa_keys_set'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_set(text, jsonb, bigint) IS
	'Baileys keys.set: {type: {id: value or null}}, null deletes; atomic, one statement; fenced by its lease';

CREATE FUNCTION whatsapp_auth.keys_upsert(company_id text, key_type text, ids text[], vals jsonb[],
										  lease_token bigint DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'wa_keys_upsert'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_upsert(text, text, text[], jsonb[], bigint) IS
	'Write keys of one type (a NULL element of vals deletes that id); returns keys written plus deleted; fenced by its lease';

CREATE FUNCTION whatsapp_auth.keys_delete(company_id text, key_type text, ids text[],
										  lease_token bigint DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'wa_keys_delete'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_delete(text, text, text[], bigint) IS
	'Delete keys of one type by id; returns the number of keys deleted; fenced by its lease';

CREATE FUNCTION whatsapp_auth.keys_clear(company_id text, lease_token bigint DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_keys_clear'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_clear(text, bigint) IS
	'Baileys keys.clear: delete every key of a company, keeping its creds; returns the keys deleted; fenced by its lease';

CREATE FUNCTION whatsapp_auth.session_remove(company_id text, lease_token bigint DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_session_remove'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.session_remove(text, bigint) IS
	'Delete the creds and every key of a company (log out); returns the rows deleted; fenced by its lease, which it keeps';

-- Not STRICT: NULL arguments raise 22004 like the other writers.
CREATE FUNCTION whatsapp_auth.session_import(doc jsonb, replace boolean DEFAULT false,
											 lease_token bigint DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_session_import'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.session_import(jsonb, boolean, bigint) IS
	'Load a session_export() document, checked and normalised like keys_set, atomically; refuses an existing company unless replace; returns rows written; fenced by its lease';

REVOKE ALL ON FUNCTION whatsapp_auth.creds_set(text, jsonb, bigint),
	whatsapp_auth.keys_set(text, jsonb, bigint),
	whatsapp_auth.keys_upsert(text, text, text[], jsonb[], bigint),
	whatsapp_auth.keys_delete(text, text, text[], bigint),
	whatsapp_auth.keys_clear(text, bigint),
	whatsapp_auth.session_remove(text, bigint),
	whatsapp_auth.session_import(jsonb, boolean, bigint) FROM PUBLIC;

-- The grants users gave on the old functions, onto the new ones.  GRANT
-- inside an extension script also records them as the extension's initial
-- privileges, which pg_dump leaves out; resetting those to the owner's
-- alone (what a fresh install records) keeps the copied grants in dumps.
DO $$
DECLARE
	g record;
BEGIN
	FOR g IN
		SELECT n.new_fn, a.grantee, a.is_grantable
		  FROM (VALUES ('creds_set_1_1(text,jsonb)', 'creds_set(text,jsonb,bigint)'),
					   ('keys_set_1_1(text,jsonb)', 'keys_set(text,jsonb,bigint)'),
					   ('keys_upsert_1_1(text,text,text[],jsonb[])', 'keys_upsert(text,text,text[],jsonb[],bigint)'),
					   ('keys_delete_1_1(text,text,text[])', 'keys_delete(text,text,text[],bigint)'),
					   ('keys_clear_1_1(text)', 'keys_clear(text,bigint)'),
					   ('session_remove_1_1(text)', 'session_remove(text,bigint)'),
					   ('session_import_1_1(jsonb,boolean)', 'session_import(jsonb,boolean,bigint)'))
			   AS n(old_fn, new_fn),
			   pg_catalog.pg_proc p,
			   pg_catalog.aclexplode(p.proacl) a
		 WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure('whatsapp_auth.' OPERATOR(pg_catalog.||) n.old_fn)
		   AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
		   AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION whatsapp_auth.%s TO %s%s', g.new_fn,
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
				 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
			CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
	UPDATE pg_catalog.pg_init_privs i
	   SET initprivs = ARRAY[pg_catalog.makeaclitem(p.proowner, p.proowner, 'EXECUTE', false)]
	  FROM pg_catalog.pg_proc p
	 WHERE i.objoid OPERATOR(pg_catalog.=) p.oid
	   AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
	   AND p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
			'whatsapp_auth.creds_set(text,jsonb,bigint)'::pg_catalog.regprocedure,
			'whatsapp_auth.keys_set(text,jsonb,bigint)'::pg_catalog.regprocedure,
			'whatsapp_auth.keys_upsert(text,text,text[],jsonb[],bigint)'::pg_catalog.regprocedure,
			'whatsapp_auth.keys_delete(text,text,text[],bigint)'::pg_catalog.regprocedure,
			'whatsapp_auth.keys_clear(text,bigint)'::pg_catalog.regprocedure,
			'whatsapp_auth.session_remove(text,bigint)'::pg_catalog.regprocedure,
			'whatsapp_auth.session_import(jsonb,boolean,bigint)'::pg_catalog.regprocedure]);
END
$$;

DROP FUNCTION whatsapp_auth.creds_set_1_1(text, jsonb);
DROP FUNCTION whatsapp_auth.keys_set_1_1(text, jsonb);
DROP FUNCTION whatsapp_auth.keys_upsert_1_1(text, text, text[], jsonb[]);
DROP FUNCTION whatsapp_auth.keys_delete_1_1(text, text, text[]);
DROP FUNCTION whatsapp_auth.keys_clear_1_1(text);
DROP FUNCTION whatsapp_auth.session_remove_1_1(text);
DROP FUNCTION whatsapp_auth.session_import_1_1(jsonb, boolean);

--
-- Performance at fleet scale: keys_get's answer as JSON text in its final
-- form, for clients that parse JSON anyway (the Baileys adapter).
--

CREATE FUNCTION whatsapp_auth.keys_get_json(company_id text, key_type text, ids text[])
RETURNS json
AS 'MODULE_PATHNAME', 'wa_keys_get_json'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_get_json(text, text, text[]) IS
	'keys_get''s answer {id: value} as json text, each stored value printed straight into it: the same keys and values, in key_id order';

REVOKE ALL ON FUNCTION whatsapp_auth.keys_get_json(text, text, text[]) FROM PUBLIC;

-- keys_set with its document as text (how a client sends a parameter):
-- walked as it is parsed, never one jsonb tree of the whole document.
-- Not STRICT: NULL arguments raise 22004 like keys_set.
CREATE FUNCTION whatsapp_auth.keys_set_text(company_id text, data text,
											lease_token bigint DEFAULT NULL,
											OUT upserted integer, OUT deleted integer)
RETURNS record
AS 'MODULE_PATHNAME', 'wa_keys_set_text'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_set_text(text, text, bigint) IS
	'keys_set with the SignalDataSet as JSON text: the same checks, errors and writes, each value parsed on its own (memory follows the rows, not a tree of the document)';

REVOKE ALL ON FUNCTION whatsapp_auth.keys_set_text(text, text, bigint) FROM PUBLIC;

--
-- Key values stay in their row up to the size of a page (the library
-- stores them compressed): each rewrite of a value moved out to TOAST left
-- its old chunks behind until a vacuum reached the TOAST table, while a
-- row's old versions are pruned as soon as its page is visited again.
-- Larger values still go to TOAST.  Rows written before keep their place
-- until their key is written again.
--
ALTER TABLE whatsapp_auth.keys ALTER COLUMN value SET STORAGE MAIN;

--
-- health()'s store-wide sample: one block in every n, read with one hash
-- per block read (the built-in SYSTEM method hashes every block number of
-- the table, a cost that grows with the store).
--
CREATE FUNCTION whatsapp_auth.block_sample(internal)
RETURNS pg_catalog.tsm_handler
AS 'MODULE_PATHNAME', 'wa_block_sample_handler'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION whatsapp_auth.block_sample(internal) IS
	'TABLESAMPLE method: whatsapp_auth.block_sample(n) reads one block in every n (each with probability 1/n, chosen by REPEATABLE''s seed), at a cost that follows the sample, not the table';

REVOKE ALL ON FUNCTION whatsapp_auth.block_sample(internal) FROM PUBLIC;
