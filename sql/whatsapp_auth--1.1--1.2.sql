/* whatsapp_auth--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION whatsapp_auth UPDATE TO '1.2'" to load this file. \quit

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
