/* whatsapp_auth--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION whatsapp_auth UPDATE TO '1.1'" to load this file. \quit

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
