/* whatsapp_auth--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION whatsapp_auth UPDATE TO '1.2'" to load this file. \quit

--
-- Baileys' useMultiFileAuthState folders, and the paged listing behind the
-- adapter's keys.list / keys.listIds (Baileys' migrateAuthState needs them).
--

-- Not STRICT: NULL arguments raise 22004 like the other writers.
CREATE FUNCTION whatsapp_auth.session_import_files(company_id text, files jsonb,
												   replace boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wa_session_import_files'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.session_import_files(text, jsonb, boolean) IS
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

REVOKE ALL ON FUNCTION whatsapp_auth.session_import_files(text, jsonb, boolean) FROM PUBLIC;
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
