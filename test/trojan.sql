-- Plants, in schema :"plant", look-alikes of everything the extension's
-- statements name: the functions, aggregates, operators and types they use,
-- relations named like its tables, and a cast to a type named like its
-- domain.  Each look-alike records its call in public.canary (and warns), so
-- a single unqualified reference inside the extension would show up there.
CREATE SCHEMA IF NOT EXISTS :"plant";
SET search_path = :"plant", pg_catalog;

CREATE OR REPLACE FUNCTION trap(what text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog AS $$
BEGIN
	INSERT INTO public.canary (what) VALUES (what);
	RAISE WARNING 'trojan called: %', what;
END $$;

-- Functions: every pg_catalog overload of the names the extension calls.
DO $$
DECLARE
	f record;
	call_args text;
BEGIN
	FOR f IN
		SELECT p.oid, p.proname, p.pronargs, p.proretset, p.provariadic,
			   pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result
		  FROM pg_proc p
		 WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f'
		   AND p.proname IN ('now', 'clock_timestamp', 'current_setting', 'char_length', 'jsonb_typeof',
							 'jsonb_build_object', 'to_jsonb', 'pg_column_size', 'pg_table_size',
							 'pg_indexes_size', 'unnest', 'pg_extension_config_dump', 'jsonb_each',
							 'pg_try_advisory_lock', 'pg_advisory_unlock', 'format', 'md5')
		   AND NOT EXISTS (SELECT FROM unnest(p.proargtypes::oid[] || p.prorettype) t
						   WHERE t IN ('"any"'::regtype, 'internal'::regtype, 'cstring'::regtype, 'anyenum'::regtype))
	LOOP
		SELECT string_agg(CASE WHEN f.provariadic <> 0 AND i = f.pronargs THEN 'VARIADIC ' ELSE '' END || '$' || i, ', ')
		  INTO call_args FROM generate_series(1, f.pronargs) i;
		EXECUTE pg_catalog.format('CREATE FUNCTION %I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
			f.proname, f.args, f.result,
			pg_catalog.format('BEGIN PERFORM %s(%L); %s END',
				   pg_catalog.quote_ident(current_schema()) || '.trap', f.oid::regprocedure::text,
				   CASE WHEN f.proretset
						THEN pg_catalog.format('RETURN QUERY SELECT * FROM pg_catalog.%I(%s);', f.proname, COALESCE(call_args, ''))
						WHEN f.result = 'void'
						THEN pg_catalog.format('PERFORM pg_catalog.%I(%s); RETURN;', f.proname, COALESCE(call_args, ''))
						ELSE pg_catalog.format('RETURN pg_catalog.%I(%s);', f.proname, COALESCE(call_args, '')) END));
	END LOOP;
END $$;

-- Operators: every pg_catalog operator of the names the extension uses,
-- with non-pseudo operand types.
DO $$
DECLARE
	op record;
	fn text;
BEGIN
	FOR op IN
		SELECT o.oid, o.oprname, o.oprleft::regtype::text AS l, o.oprright::regtype::text AS r,
			   o.oprresult::regtype::text AS res, o.oprcode::regproc::text AS code
		  FROM pg_operator o JOIN pg_type lt ON lt.oid = o.oprleft JOIN pg_type rt ON rt.oid = o.oprright
		 WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprkind = 'b'
		   AND o.oprname IN ('=', '<>', '<', '<=', '>', '>=', '+', '-', '~', '->', '->>', '?', '@>', '||')
		   AND lt.typtype <> 'p' AND rt.typtype <> 'p'
	LOOP
		fn := 'op_' || op.oid;
		EXECUTE pg_catalog.format('CREATE FUNCTION %I(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L',
			fn, op.l, op.r, op.res,
			pg_catalog.format('BEGIN PERFORM %s(%L); RETURN pg_catalog.%s($1, $2); END',
				   pg_catalog.quote_ident(current_schema()) || '.trap', 'operator ' || op.oid::regoperator::text,
				   op.code));
		EXECUTE pg_catalog.format('CREATE OPERATOR %s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %I)', op.oprname, op.l, op.r, fn);
	END LOOP;
END $$;

-- Aggregates the extension uses.
CREATE FUNCTION count_step(int8) RETURNS int8 LANGUAGE plpgsql AS
	$$ BEGIN PERFORM trap('aggregate count'); RETURN $1 + 1; END $$;
CREATE AGGREGATE count(*) (SFUNC = count_step, STYPE = int8, INITCOND = '0');
CREATE FUNCTION sum_step(numeric, int8) RETURNS numeric LANGUAGE plpgsql AS
	$$ BEGIN PERFORM trap('aggregate sum'); RETURN coalesce($1, 0) + $2; END $$;
CREATE AGGREGATE sum(int8) (SFUNC = sum_step, STYPE = numeric);
CREATE FUNCTION max_step(timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS
	$$ BEGIN PERFORM trap('aggregate max'); RETURN greatest($1, $2); END $$;
CREATE AGGREGATE max(timestamptz) (SFUNC = max_step, STYPE = timestamptz);

-- Types: domains whose check calls the trap, named like the types used.
CREATE FUNCTION type_check(pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS
	$$ BEGIN PERFORM trap('type ' OPERATOR(pg_catalog.||) $1); RETURN true; END $$;
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['text', 'jsonb', 'bytea', 'int4', 'int8', 'timestamptz', 'regclass', 'name', 'numeric', 'bool', 'oid']
	LOOP
		EXECUTE format('CREATE DOMAIN %I AS pg_catalog.%I CHECK (%I.type_check(%L))', t, t, current_schema(), t);
	END LOOP;
END $$;

-- A type named like the extension's domain, reached by a planted cast.
CREATE TYPE company_id AS (trapped text);
CREATE FUNCTION to_company_id(pg_catalog.text) RETURNS company_id LANGUAGE plpgsql AS
	$$ BEGIN PERFORM trap('cast to company_id'); RETURN ROW($1); END $$;
CREATE CAST (pg_catalog.text AS company_id) WITH FUNCTION to_company_id(pg_catalog.text) AS IMPLICIT;

-- Relations named like the extension's tables and pg_cron's: reading them calls the trap.
CREATE FUNCTION rows_trap(what pg_catalog.text) RETURNS SETOF record LANGUAGE plpgsql AS
	$$ BEGIN PERFORM trap('relation ' OPERATOR(pg_catalog.||) what); END $$;
CREATE VIEW keys AS SELECT * FROM rows_trap('keys') AS r(company_id pg_catalog.text, key_type pg_catalog.text, key_id pg_catalog.text, value pg_catalog.jsonb, updated_at timestamptz, expires_at timestamptz);
CREATE VIEW creds AS SELECT * FROM rows_trap('creds') AS r(company_id pg_catalog.text, creds pg_catalog.jsonb, created_at timestamptz, updated_at timestamptz);
CREATE VIEW key_ttl AS SELECT * FROM rows_trap('key_ttl') AS r(key_type pg_catalog.text, ttl interval, shipped boolean);
CREATE VIEW purge_log AS SELECT * FROM rows_trap('purge_log') AS r(id bigint);
CREATE VIEW job AS SELECT * FROM rows_trap('job') AS r(jobid bigint, jobname pg_catalog.text, username pg_catalog.text);
CREATE VIEW pg_extension AS SELECT * FROM rows_trap('pg_extension') AS r(extname pg_catalog.name);

GRANT USAGE ON SCHEMA :"plant" TO PUBLIC;
RESET search_path;
