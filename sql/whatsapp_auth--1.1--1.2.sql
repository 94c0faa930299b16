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
											OUT upserted integer, OUT deleted integer)
RETURNS record
AS 'MODULE_PATHNAME', 'wa_keys_set_text'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION whatsapp_auth.keys_set_text(text, text) IS
	'keys_set with the SignalDataSet as JSON text: the same checks, errors and writes, each value parsed on its own (memory follows the rows, not a tree of the document)';

REVOKE ALL ON FUNCTION whatsapp_auth.keys_set_text(text, text) FROM PUBLIC;
