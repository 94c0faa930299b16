/* whatsapp_auth_router--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION whatsapp_auth_router" to load this file. \quit

--
-- The router of a fleet: installed in a database of its own, in front of
-- partition databases that each run whatsapp_auth.  The partitions are
-- PL/Proxy's SQL/MED cluster "whatsapp_auth" (CREATE SERVER whatsapp_auth
-- FOREIGN DATA WRAPPER plproxy OPTIONS (p0 '...', p1 '...')), which the
-- administrator defines (see the README, "Scaling out").  This schema holds,
-- under the store's names and signatures, functions that run each call on
-- the partition that holds its company.
--
-- Every call of a company goes through one of three routing functions
-- (read_route, write_route, import_route): they take a shared advisory lock
-- on the company for the rest of the router's transaction, which covers the
-- remote call, so move_company's exclusive lock on it waits for the calls in
-- flight and holds new ones back while it switches the route.
--

-- Where new companies may be assigned.  A partition of the cluster without
-- a row here (or with accepts_new_companies false) keeps its companies and
-- gets no new ones.
CREATE TABLE whatsapp_auth.partitions (
	partition integer PRIMARY KEY
		CONSTRAINT partition_number CHECK (partition OPERATOR(pg_catalog.>=) 0),
	accepts_new_companies boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE whatsapp_auth.partitions IS
	'Partitions (pN of the cluster whatsapp_auth) that new companies may be assigned to';

-- The directory: which partition holds each company.
CREATE TABLE whatsapp_auth.directory (
	company_id text COLLATE "C" PRIMARY KEY
		CONSTRAINT directory_company_id_format
		CHECK (company_id OPERATOR(pg_catalog.~) '^[A-Za-z0-9_-]{1,50}$'),
	partition integer NOT NULL
		CONSTRAINT directory_partition_number CHECK (partition OPERATOR(pg_catalog.>=) 0),
	previous_partition integer,
	assigned_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	moved_at timestamptz
);
COMMENT ON TABLE whatsapp_auth.directory IS
	'The partition that holds each company: set on its first write, changed only by move_company';
COMMENT ON COLUMN whatsapp_auth.directory.previous_partition IS
	'Set while a move has switched the route but not yet removed the company from this old partition';
CREATE INDEX directory_partition_idx ON whatsapp_auth.directory (partition);

SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.partitions', '');
SELECT pg_catalog.pg_extension_config_dump('whatsapp_auth.directory', '');

--
-- Routing.
--

CREATE FUNCTION whatsapp_auth.company_partition(company_id text)
RETURNS integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$SELECT d.partition FROM whatsapp_auth.directory d
	 WHERE d.company_id OPERATOR(pg_catalog.=) ($1 COLLATE "C")$$;
COMMENT ON FUNCTION whatsapp_auth.company_partition(text) IS
	'The partition that holds a company; NULL until its first write';

-- The partitions of the cluster, from its SQL/MED definition.
CREATE FUNCTION whatsapp_auth.cluster_partitions()
RETURNS integer[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$SELECT pg_catalog.array_agg(pg_catalog.substr(o.option_name, 2)::integer
								 ORDER BY pg_catalog.substr(o.option_name, 2)::integer)
	  FROM pg_catalog.pg_foreign_server s,
		   pg_catalog.pg_options_to_table(s.srvoptions) o
	 WHERE s.srvname OPERATOR(pg_catalog.=) 'whatsapp_auth'
	   AND o.option_name OPERATOR(pg_catalog.~) '^p[0-9]+$'$$;
COMMENT ON FUNCTION whatsapp_auth.cluster_partitions() IS
	'Partition numbers (the pN options) of the SQL/MED server whatsapp_auth';

-- The assignment rule: a hash of the company over the partitions that
-- accept new companies.  Deterministic, so the same company gets the same
-- answer until the table changes.  SECURITY DEFINER: the application asks
-- it (through read_route, for an unknown company) without reading the table.
CREATE FUNCTION whatsapp_auth.new_company_partition(company_id text)
RETURNS integer
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	accepting integer[];
BEGIN
	SELECT pg_catalog.array_agg(p.partition ORDER BY p.partition) INTO accepting
	  FROM whatsapp_auth.partitions p WHERE p.accepts_new_companies;
	IF accepting IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = pg_catalog.format('no partition accepts new companies (company "%s")', company_id),
			HINT = 'Insert a row into whatsapp_auth.partitions, or set accepts_new_companies for one.';
	END IF;
	-- OPERATOR() gives every operator the same precedence: parenthesised.
	RETURN accepting[1 OPERATOR(pg_catalog.+)
					 ((pg_catalog.hashtext(company_id) OPERATOR(pg_catalog.&) 2147483647)
					  OPERATOR(pg_catalog.%) pg_catalog.cardinality(accepting))];
END
$$;
COMMENT ON FUNCTION whatsapp_auth.new_company_partition(text) IS
	'The partition a new company is assigned to: hashtext(company_id) over the partitions that accept new companies, in order';

-- A malformed or NULL company goes to partition 0, which answers with the
-- store's own error (22023, 22004) or NULL, as a direct call would.  The
-- routing functions run as the caller, who reads the directory (SELECT is
-- granted to the application): a SECURITY DEFINER function with its pinned
-- search_path would set and restore a setting on every call, the largest
-- part of the routing's cost.  Writing the directory is assign_partition's
-- alone, SECURITY DEFINER, on a company's first write: the application
-- assigns companies by the rule without any privilege on the directory
-- beyond reading it, which would let it point a company anywhere.
CREATE FUNCTION whatsapp_auth.assign_partition(company_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found_partition integer;
BEGIN
	-- A concurrent first write may win; take its answer.
	found_partition := whatsapp_auth.new_company_partition(assign_partition.company_id);
	INSERT INTO whatsapp_auth.directory (company_id, partition)
	VALUES (assign_partition.company_id, found_partition)
	ON CONFLICT ON CONSTRAINT directory_pkey DO NOTHING;
	IF NOT FOUND THEN
		SELECT d.partition INTO found_partition FROM whatsapp_auth.directory d
		 WHERE d.company_id OPERATOR(pg_catalog.=) (assign_partition.company_id COLLATE "C");
	END IF;
	RETURN found_partition;
END
$$;
COMMENT ON FUNCTION whatsapp_auth.assign_partition(text) IS
	'The partition of a company, assigned by the rule if it has none (write_route, on a first write)';

-- The routing functions, in C (router/whatsapp_auth_router.c): they run
-- before every call, so they check the pin (the store's pinning, on the
-- router: 22023 for a malformed pin, 42501 for another well-formed
-- company), take the company's route lock shared and read the directory's
-- primary key without a query of their own.  A company without a row goes
-- to new_company_partition (reads) or assign_partition (writes); a NULL or
-- malformed one to partition 0.  CALLED ON NULL INPUT: the pin of a call
-- with a NULL company is checked too.
CREATE FUNCTION whatsapp_auth.read_route(company_id text)
RETURNS integer
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'wa_router_read_route';
COMMENT ON FUNCTION whatsapp_auth.read_route(text) IS
	'RUN ON of reads and deletes: the company''s partition (without assigning one); waits while a move switches it';

CREATE FUNCTION whatsapp_auth.write_route(company_id text)
RETURNS integer
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'wa_router_write_route';
COMMENT ON FUNCTION whatsapp_auth.write_route(text) IS
	'RUN ON of writes: the company''s partition, assigned on its first write; waits while a move switches it';

CREATE FUNCTION whatsapp_auth.import_route(doc jsonb)
RETURNS integer
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $$SELECT whatsapp_auth.write_route($1 OPERATOR(pg_catalog.->>) 'company_id')$$;
COMMENT ON FUNCTION whatsapp_auth.import_route(jsonb) IS
	'RUN ON of session_import: write_route of the document''s company_id';

--
-- The store's per-company functions, each a PL/Proxy function under the
-- store's name and signature whose remote statement is the store's call
-- alone: no SQL wrapper in front (a function returning a record is never
-- inlined, so it would be planned again on every call) and nothing but the
-- arguments sent.  The routing function checks the pin on the router, so a
-- call reaches a partition only for the pinned company, if any, and the
-- partition need not know the pin.  They are VOLATILE, as PL/Proxy
-- requires, and CALLED ON NULL INPUT: NULLs travel to the partition, whose
-- STRICT readers answer NULL and whose writers raise 22004, as directly.
-- The routes: read_route for what creates nothing (reads, deletes, lease
-- renew, release and status), write_route for what may be a company's
-- first write (it assigns the partition), import_route for session_import.
-- A lease_token travels like any argument; the partition's fence decides.
--

CREATE FUNCTION whatsapp_auth.creds_get(company_id text)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.creds_get(company_id);
$$;
COMMENT ON FUNCTION whatsapp_auth.creds_get(text) IS
	'creds_get on the company''s partition';

CREATE FUNCTION whatsapp_auth.creds_set(company_id text, creds jsonb, lease_token bigint DEFAULT NULL)
RETURNS void
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.write_route(company_id);
	SELECT whatsapp_auth.creds_set(company_id, creds, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.creds_set(text, jsonb, bigint) IS
	'creds_set on the company''s partition (assigned on its first write)';

CREATE FUNCTION whatsapp_auth.keys_get(company_id text, key_type text, ids text[])
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.keys_get(company_id, key_type, ids);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_get(text, text, text[]) IS
	'keys_get on the company''s partition';

CREATE FUNCTION whatsapp_auth.keys_set(company_id text, data jsonb, lease_token bigint DEFAULT NULL,
									   OUT upserted integer, OUT deleted integer)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.write_route(company_id);
	SELECT * FROM whatsapp_auth.keys_set(company_id, data, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_set(text, jsonb, bigint) IS
	'keys_set on the company''s partition (assigned on its first write)';

CREATE FUNCTION whatsapp_auth.keys_get_json(company_id text, key_type text, ids text[])
RETURNS json
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.keys_get_json(company_id, key_type, ids);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_get_json(text, text, text[]) IS
	'keys_get_json on the company''s partition';

CREATE FUNCTION whatsapp_auth.keys_set_text(company_id text, data text, lease_token bigint DEFAULT NULL,
											OUT upserted integer, OUT deleted integer)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.write_route(company_id);
	SELECT * FROM whatsapp_auth.keys_set_text(company_id, data, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_set_text(text, text, bigint) IS
	'keys_set_text on the company''s partition (assigned on its first write)';

CREATE FUNCTION whatsapp_auth.keys_upsert(company_id text, key_type text, ids text[], vals jsonb[], lease_token bigint DEFAULT NULL)
RETURNS integer
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.write_route(company_id);
	SELECT whatsapp_auth.keys_upsert(company_id, key_type, ids, vals, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_upsert(text, text, text[], jsonb[], bigint) IS
	'keys_upsert on the company''s partition (assigned on its first write)';

-- Deletes route like reads: deleting from an unknown company assigns none.
CREATE FUNCTION whatsapp_auth.keys_delete(company_id text, key_type text, ids text[], lease_token bigint DEFAULT NULL)
RETURNS integer
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.keys_delete(company_id, key_type, ids, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_delete(text, text, text[], bigint) IS
	'keys_delete on the company''s partition';

CREATE FUNCTION whatsapp_auth.keys_clear(company_id text, lease_token bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.keys_clear(company_id, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_clear(text, bigint) IS
	'keys_clear on the company''s partition';

CREATE FUNCTION whatsapp_auth.keys_page(company_id text, key_type text, after_id text DEFAULT NULL,
										page_size integer DEFAULT 1000, with_values boolean DEFAULT true,
										OUT key_id text, OUT value jsonb)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE ROWS 1000
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT * FROM whatsapp_auth.keys_page(company_id, key_type, after_id, page_size, with_values);
$$;
COMMENT ON FUNCTION whatsapp_auth.keys_page(text, text, text, integer, boolean) IS
	'keys_page on the company''s partition';

CREATE FUNCTION whatsapp_auth.session_remove(company_id text, lease_token bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.session_remove(company_id, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.session_remove(text, bigint) IS
	'session_remove on the company''s partition (the directory keeps its entry)';

CREATE FUNCTION whatsapp_auth.session_export(company_id text)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.session_export(company_id);
$$;
COMMENT ON FUNCTION whatsapp_auth.session_export(text) IS
	'session_export on the company''s partition';

CREATE FUNCTION whatsapp_auth.session_import(doc jsonb, replace boolean DEFAULT false, lease_token bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.import_route(doc);
	SELECT whatsapp_auth.session_import(doc, replace, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.session_import(jsonb, boolean, bigint) IS
	'session_import on the partition of the document''s company (assigned on its first write)';

CREATE FUNCTION whatsapp_auth.session_export_files(company_id text, OUT file_name text, OUT content text)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE ROWS 1000
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT * FROM whatsapp_auth.session_export_files(company_id);
$$;
COMMENT ON FUNCTION whatsapp_auth.session_export_files(text) IS
	'session_export_files on the company''s partition';

CREATE FUNCTION whatsapp_auth.session_import_files(company_id text, files jsonb, replace boolean DEFAULT false, lease_token bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.write_route(company_id);
	SELECT whatsapp_auth.session_import_files(company_id, files, replace, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.session_import_files(text, jsonb, boolean, bigint) IS
	'session_import_files on the company''s partition (assigned on its first write)';

CREATE FUNCTION whatsapp_auth.lease_acquire(company_id text, holder text, ttl interval DEFAULT '30 seconds')
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.write_route(company_id);
	SELECT whatsapp_auth.lease_acquire(company_id, holder, ttl);
$$;
COMMENT ON FUNCTION whatsapp_auth.lease_acquire(text, text, interval) IS
	'lease_acquire on the company''s partition (assigned on its first call, so that its lease lives where its writes go)';

-- Renew and release create nothing (an unknown company has no lease to
-- renew or release): they route like reads and assign no partition.
CREATE FUNCTION whatsapp_auth.lease_renew(company_id text, lease_token bigint, ttl interval DEFAULT '30 seconds')
RETURNS timestamptz
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.lease_renew(company_id, lease_token, ttl);
$$;
COMMENT ON FUNCTION whatsapp_auth.lease_renew(text, bigint, interval) IS
	'lease_renew on the company''s partition';

CREATE FUNCTION whatsapp_auth.lease_release(company_id text, lease_token bigint)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.lease_release(company_id, lease_token);
$$;
COMMENT ON FUNCTION whatsapp_auth.lease_release(text, bigint) IS
	'lease_release on the company''s partition';

CREATE FUNCTION whatsapp_auth.lease_status(company_id text)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.lease_status(company_id);
$$;
COMMENT ON FUNCTION whatsapp_auth.lease_status(text) IS
	'lease_status on the company''s partition';

CREATE FUNCTION whatsapp_auth.lease_adopt(company_id text, holder text, lease_token bigint, acquired_at timestamptz, expires_at timestamptz, released_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.write_route(company_id);
	SELECT whatsapp_auth.lease_adopt(company_id, holder, lease_token, acquired_at, expires_at, released_at);
$$;
COMMENT ON FUNCTION whatsapp_auth.lease_adopt(text, text, bigint, timestamptz, timestamptz, timestamptz) IS
	'lease_adopt on the company''s partition (assigned on its first call)';

--
-- health: of one company on its partition; without one, every partition
-- (in parallel) and one document for the fleet.
--

CREATE FUNCTION whatsapp_auth.partition_health(pin text, company_id text)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON whatsapp_auth.read_route(company_id);
	SELECT whatsapp_auth.health(company_id)
	  FROM (SELECT pg_catalog.set_config('whatsapp_auth.company_id', COALESCE(pin, ''), true)) AS pinned;
$$;

-- SPLIT hands each partition the one-element array of its own number, which
-- comes back beside its answer.
CREATE FUNCTION whatsapp_auth.partition_store_health(partitions integer[],
													 OUT partition integer, OUT health jsonb)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	SPLIT partitions;
	RUN ON partitions;
	SELECT (partitions)[1] AS partition, whatsapp_auth.health(NULL) AS health;
$$;

-- Adds the numbers of two documents, member by member, at any depth.
CREATE FUNCTION whatsapp_auth.jsonb_sum(a jsonb, b jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
	v jsonb;
	result jsonb := a;
BEGIN
	IF a IS NULL THEN
		RETURN b;
	ELSIF b IS NULL THEN
		RETURN a;
	ELSIF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'number'
		  AND pg_catalog.jsonb_typeof(b) OPERATOR(pg_catalog.=) 'number' THEN
		RETURN pg_catalog.to_jsonb(a::numeric OPERATOR(pg_catalog.+) b::numeric);
	ELSIF pg_catalog.jsonb_typeof(a) OPERATOR(pg_catalog.=) 'object'
		  AND pg_catalog.jsonb_typeof(b) OPERATOR(pg_catalog.=) 'object' THEN
		FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(b) e LOOP
			result := result OPERATOR(pg_catalog.||)
				pg_catalog.jsonb_build_object(k, whatsapp_auth.jsonb_sum(a OPERATOR(pg_catalog.->) k, v));
		END LOOP;
		RETURN result;
	END IF;
	RETURN a;
END
$$;
COMMENT ON FUNCTION whatsapp_auth.jsonb_sum(jsonb, jsonb) IS
	'Member-wise sum of the numbers of two documents (objects merged at any depth); other values of the first kept';

CREATE FUNCTION whatsapp_auth.fleet_health()
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts integer[] := whatsapp_auth.cluster_partitions();
	entries jsonb[] := '{}';
	p integer;
	doc jsonb;
	figures jsonb;
	entry jsonb;
	rank integer;
	worst integer := 0;
	reasons jsonb := '[]';
	down integer := 0;
	ranks CONSTANT jsonb := '{"ok": 0, "medium": 1, "high": 2, "critical": 3}';
	names CONSTANT text[] := '{ok,medium,high,critical}';
BEGIN
	IF parts IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = 'the router has no cluster: server whatsapp_auth has no partition',
			HINT = 'CREATE SERVER whatsapp_auth FOREIGN DATA WRAPPER plproxy OPTIONS (p0 ''...'', ...) (see the README).';
	END IF;
	-- All at once; if any partition fails, each on its own, so that one
	-- down partition is reported instead of failing the whole call.
	BEGIN
		SELECT pg_catalog.array_agg(h.health OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('partition', h.partition)
									ORDER BY h.partition)
		  INTO entries FROM whatsapp_auth.partition_store_health(parts) h;
	EXCEPTION WHEN OTHERS THEN
		entries := '{}';
		FOREACH p IN ARRAY parts LOOP
			BEGIN
				SELECT h.health OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('partition', h.partition)
				  INTO entry FROM whatsapp_auth.partition_store_health(ARRAY[p]) h;
			EXCEPTION WHEN OTHERS THEN
				entry := pg_catalog.jsonb_build_object('partition', p, 'status', 'down',
					'reasons', pg_catalog.jsonb_build_array(SQLERRM), 'sqlstate', SQLSTATE);
			END;
			entries := entries OPERATOR(pg_catalog.||) entry;
		END LOOP;
	END;

	FOREACH entry IN ARRAY entries LOOP
		p := (entry OPERATOR(pg_catalog.->>) 'partition')::integer;
		IF entry OPERATOR(pg_catalog.->>) 'status' OPERATOR(pg_catalog.=) 'down' THEN
			down := down OPERATOR(pg_catalog.+) 1;
			rank := 3;
		ELSE
			rank := (ranks OPERATOR(pg_catalog.->>) (entry OPERATOR(pg_catalog.->>) 'status'))::integer;
			figures := whatsapp_auth.jsonb_sum(figures,
				entry OPERATOR(pg_catalog.-) '{status,reasons,partition,last_purge,last_key_update,last_creds_update}'::text[]);
		END IF;
		worst := GREATEST(worst, rank);
		SELECT reasons OPERATOR(pg_catalog.||) COALESCE(pg_catalog.jsonb_agg(pg_catalog.format('partition %s: %s', p, r.reason)), '[]')
		  INTO reasons FROM pg_catalog.jsonb_array_elements_text(entry OPERATOR(pg_catalog.->) 'reasons') AS r(reason);
	END LOOP;

	RETURN pg_catalog.jsonb_build_object('status', names[worst OPERATOR(pg_catalog.+) 1], 'reasons', reasons,
										 'partitions', pg_catalog.cardinality(parts), 'partitions_down', down)
		OPERATOR(pg_catalog.||) COALESCE(figures, '{}')
		OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('by_partition', pg_catalog.to_jsonb(entries));
END
$$;
COMMENT ON FUNCTION whatsapp_auth.fleet_health() IS
	'health() of every partition in one document: figures summed, the worst status, reasons and one entry per partition (status down for one that cannot be reached)';

-- Not STRICT: NULL is the fleet-wide view.
CREATE FUNCTION whatsapp_auth.health(company_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pin text := COALESCE(pg_catalog.current_setting('whatsapp_auth.company_id', true), '');
BEGIN
	IF health.company_id IS NOT NULL THEN
		RETURN whatsapp_auth.partition_health(pin, health.company_id);
	END IF;
	IF pin OPERATOR(pg_catalog.<>) '' THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('health() of the whole fleet works on every company, and this session is pinned to company "%s"', pin),
			HINT = 'Run it in a session where whatsapp_auth.company_id is empty.';
	END IF;
	RETURN whatsapp_auth.fleet_health();
END
$$;

--
-- Purge: each partition purges itself (CALL purge() cannot go through
-- PL/Proxy, which runs SELECTs); these schedule, unschedule or run it on
-- every partition and say what each answered.
--

CREATE FUNCTION whatsapp_auth.partition_schedule_purge(partitions integer[], schedule text, grace interval,
													   OUT partition integer, OUT jobid bigint)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	SPLIT partitions;
	RUN ON partitions;
	SELECT (partitions)[1] AS partition, whatsapp_auth.schedule_purge(schedule, grace) AS jobid;
$$;

CREATE FUNCTION whatsapp_auth.partition_unschedule_purge(partitions integer[],
														 OUT partition integer, OUT unscheduled boolean)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	SPLIT partitions;
	RUN ON partitions;
	SELECT (partitions)[1] AS partition, whatsapp_auth.unschedule_purge() AS unscheduled;
$$;

CREATE FUNCTION whatsapp_auth.partition_purge_expired(partitions integer[], grace interval, batch_size integer,
													  max_rows bigint, dry_run boolean,
													  OUT partition integer, OUT deleted bigint)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	SPLIT partitions;
	RUN ON partitions;
	SELECT (partitions)[1] AS partition, whatsapp_auth.purge_expired(grace, batch_size, max_rows, dry_run) AS deleted;
$$;

-- The unpinned check is the router's own: the pin does not reach these.
CREATE FUNCTION whatsapp_auth.check_unpinned(what text)
RETURNS void
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pin text := COALESCE(pg_catalog.current_setting('whatsapp_auth.company_id', true), '');
BEGIN
	IF pin OPERATOR(pg_catalog.<>) '' THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('%s works on every company, and this session is pinned to company "%s"', what, pin),
			HINT = 'Run it in a session where whatsapp_auth.company_id is empty.';
	END IF;
END
$$;
COMMENT ON FUNCTION whatsapp_auth.check_unpinned(text) IS
	'Raise 42501 when the session is pinned to a company (what works on every company needs an unpinned session)';

CREATE FUNCTION whatsapp_auth.schedule_purge(schedule text DEFAULT '17 3 * * *', grace interval DEFAULT '0',
											 OUT partition integer, OUT jobid bigint)
RETURNS SETOF record
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $$SELECT whatsapp_auth.check_unpinned('schedule_purge()');
	SELECT p.partition, p.jobid FROM whatsapp_auth.partition_schedule_purge(whatsapp_auth.cluster_partitions(), $1, $2) p
	 ORDER BY p.partition$$;

CREATE FUNCTION whatsapp_auth.unschedule_purge(OUT partition integer, OUT unscheduled boolean)
RETURNS SETOF record
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$SELECT whatsapp_auth.check_unpinned('unschedule_purge()');
	SELECT p.partition, p.unscheduled FROM whatsapp_auth.partition_unschedule_purge(whatsapp_auth.cluster_partitions()) p
	 ORDER BY p.partition$$;

CREATE FUNCTION whatsapp_auth.purge_expired(grace interval DEFAULT '0', batch_size integer DEFAULT 5000,
											max_rows bigint DEFAULT NULL, dry_run boolean DEFAULT false,
											OUT partition integer, OUT deleted bigint)
RETURNS SETOF record
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $$SELECT whatsapp_auth.check_unpinned('purge_expired()');
	SELECT p.partition, p.deleted FROM whatsapp_auth.partition_purge_expired(whatsapp_auth.cluster_partitions(), $1, $2, $3, $4) p
	 ORDER BY p.partition$$;

--
-- Moving a company.
--

CREATE FUNCTION whatsapp_auth.partition_export(on_partition integer, company_id text)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON on_partition;
	SELECT whatsapp_auth.session_export(company_id);
$$;

-- The writes of a move carry the token that passes the company's fence on
-- that partition (write_token): NULL when it has no lease there.

-- The company's state on that partition becomes exactly doc (nothing when
-- doc is NULL), in one remote statement: what an earlier, interrupted move
-- left there is replaced.
CREATE FUNCTION whatsapp_auth.partition_replace(on_partition integer, company_id text, doc jsonb, token bigint)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON on_partition;
	SELECT CASE WHEN doc IS NULL THEN 0 ELSE whatsapp_auth.session_import(doc, true, token) END
	  FROM (SELECT whatsapp_auth.session_remove(company_id, token)) AS cleared;
$$;

CREATE FUNCTION whatsapp_auth.partition_remove(on_partition integer, company_id text, token bigint)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON on_partition;
	SELECT whatsapp_auth.session_remove(company_id, token);
$$;

CREATE FUNCTION whatsapp_auth.partition_lease_status(on_partition integer, company_id text)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON on_partition;
	SELECT whatsapp_auth.lease_status(company_id);
$$;
COMMENT ON FUNCTION whatsapp_auth.partition_lease_status(integer, text) IS
	'PL/Proxy: lease_status on the given partition (internal, move_company)';

-- The lease as lease_status gave it on another partition.
CREATE FUNCTION whatsapp_auth.partition_lease_adopt(on_partition integer, company_id text, status jsonb)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON on_partition;
	SELECT whatsapp_auth.lease_adopt(company_id, status OPERATOR(pg_catalog.->>) 'holder',
									 (status OPERATOR(pg_catalog.->>) 'lease_token')::pg_catalog.int8,
									 (status OPERATOR(pg_catalog.->>) 'acquired_at')::pg_catalog.timestamptz,
									 (status OPERATOR(pg_catalog.->>) 'expires_at')::pg_catalog.timestamptz,
									 (status OPERATOR(pg_catalog.->>) 'released_at')::pg_catalog.timestamptz);
$$;
COMMENT ON FUNCTION whatsapp_auth.partition_lease_adopt(integer, text, jsonb) IS
	'PL/Proxy: lease_adopt of a lease_status document on the given partition; returns the token there (internal, move_company)';

-- The fence lets a write through with the lease's token while it is not
-- released (live or expired), and without one when no lease is live.
CREATE FUNCTION whatsapp_auth.write_token(status jsonb)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT CASE WHEN $1 OPERATOR(pg_catalog.->>) 'released_at' IS NULL
				 THEN ($1 OPERATOR(pg_catalog.->>) 'lease_token')::pg_catalog.int8 END$$;
COMMENT ON FUNCTION whatsapp_auth.write_token(jsonb) IS
	'The lease token a write of the company needs under this lease_status document: its token unless released, else NULL (internal, move_company)';

-- Brings the target from the copy to the company's current state: creds
-- when they changed, and one keys_set of the keys that changed (null for
-- those gone), in one remote statement.  The creds are written in a
-- subquery kept apart (OFFSET 0, volatile), and counted, so they cannot be
-- optimised away.
CREATE FUNCTION whatsapp_auth.partition_catch_up(on_partition integer, company_id text, creds jsonb, changed_keys jsonb,
												  token bigint)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	RUN ON on_partition;
	SELECT ((s.r).upserted OPERATOR(pg_catalog.+) (s.r).deleted OPERATOR(pg_catalog.+) s.c)::bigint
	  FROM (SELECT whatsapp_auth.keys_set(company_id, changed_keys, token) AS r,
				   CASE WHEN creds IS NULL THEN 0
						ELSE pg_catalog.length(whatsapp_auth.creds_set(company_id, creds, token)::text) OPERATOR(pg_catalog.+) 1 END AS c
			OFFSET 0) AS s;
$$;
COMMENT ON FUNCTION whatsapp_auth.partition_catch_up(integer, text, jsonb, jsonb, bigint) IS
	'PL/Proxy: creds (unless NULL) and changed keys written on the given partition in one statement (internal, move_company)';

-- {type: {id: value, or null when gone}} of the keys that differ between
-- two session_export documents.
CREATE FUNCTION whatsapp_auth.keys_changed(before jsonb, after jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$SELECT COALESCE(pg_catalog.jsonb_object_agg(d.key_type, d.ids), '{}')
	  FROM (SELECT c.key_type, pg_catalog.jsonb_object_agg(c.key_id, c.value) AS ids
			  FROM (SELECT COALESCE(a.key_type, b.key_type) AS key_type, COALESCE(a.key_id, b.key_id) AS key_id, a.value
					  FROM (SELECT t.key AS key_type, i.key AS key_id, i.value
							  FROM pg_catalog.jsonb_each($2 OPERATOR(pg_catalog.->) 'keys') t,
								   pg_catalog.jsonb_each(t.value) i) a
					  FULL JOIN
						   (SELECT t.key AS key_type, i.key AS key_id, i.value
							  FROM pg_catalog.jsonb_each($1 OPERATOR(pg_catalog.->) 'keys') t,
								   pg_catalog.jsonb_each(t.value) i) b
						ON a.key_type OPERATOR(pg_catalog.=) b.key_type AND a.key_id OPERATOR(pg_catalog.=) b.key_id
					 WHERE a.value IS DISTINCT FROM b.value) c
			 GROUP BY c.key_type) d$$;
COMMENT ON FUNCTION whatsapp_auth.keys_changed(jsonb, jsonb) IS
	'The keys_set argument that turns the keys of one session_export document into those of another (null for keys gone)';

-- Three transactions, so a procedure: copy while clients keep working; the
-- switch (calls of the company wait on its lock while the copy is brought up
-- to date and the route changes); then the removal from the source.  An
-- interruption before the switch commits leaves the route, so the source,
-- as it was; after, the directory keeps previous_partition and the next
-- call finishes the removal.  No SET search_path: a procedure with one
-- cannot commit; every reference is qualified instead.
-- The company's lease (holder, token, times: lease_status, which
-- session_export does not carry) moves in the switch, under the same lock,
-- before the catch-up: the target's token is then never lower than the
-- source's, so the holder keeps writing with its token and an older one is
-- refused there too.  Each write of the move carries the token that passes
-- the fence where it writes, or a live lease would refuse it.
CREATE PROCEDURE whatsapp_auth.move_company(company_id text, to_partition integer,
											INOUT rows_moved bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	company text := move_company.company_id;
	source integer;
	leftover integer;
	copied jsonb;
	doc jsonb;
	lease jsonb;
	token bigint;
	locked_at timestamptz;
BEGIN
	PERFORM whatsapp_auth.check_unpinned('move_company()');
	IF company IS NULL OR to_partition IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'company_id and to_partition must not be null';
	END IF;
	IF company OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_-]{1,50}$' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('invalid company_id "%s"', company);
	END IF;
	IF NOT to_partition OPERATOR(pg_catalog.=) ANY (COALESCE(whatsapp_auth.cluster_partitions(), '{}')) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('partition %s is not in the cluster whatsapp_auth', to_partition);
	END IF;
	rows_moved := 0;

	SELECT d.partition, d.previous_partition INTO source, leftover FROM whatsapp_auth.directory d
	 WHERE d.company_id OPERATOR(pg_catalog.=) (company COLLATE "C");
	IF NOT FOUND THEN
		-- Nothing written yet, so nothing to copy: its first write goes there.
		INSERT INTO whatsapp_auth.directory (company_id, partition) VALUES (company, to_partition)
		ON CONFLICT DO NOTHING;
		COMMIT;
		RETURN;
	END IF;

	-- A move that switched but did not finish: remove what it left behind.
	IF leftover IS NOT NULL THEN
		PERFORM whatsapp_auth.partition_remove(leftover, company,
			whatsapp_auth.write_token(whatsapp_auth.partition_lease_status(leftover, company)));
		UPDATE whatsapp_auth.directory d SET previous_partition = NULL
		 WHERE d.company_id OPERATOR(pg_catalog.=) (company COLLATE "C");
		COMMIT;
	END IF;
	IF source OPERATOR(pg_catalog.=) to_partition THEN
		RETURN;
	END IF;

	-- 1. Copy while the company keeps working on the source.
	-- (The target has the company's lease only if an interrupted move
	-- brought it there, or the company lived there before.)
	copied := whatsapp_auth.partition_export(source, company);
	PERFORM whatsapp_auth.partition_replace(to_partition, company, copied,
		whatsapp_auth.write_token(whatsapp_auth.partition_lease_status(to_partition, company)));
	COMMIT;

	-- 2. Switch: no call of the company runs until this commits.
	PERFORM pg_catalog.pg_advisory_xact_lock(1463899474, pg_catalog.hashtext(company));
	locked_at := pg_catalog.clock_timestamp();
	PERFORM FROM whatsapp_auth.directory d
	 WHERE d.company_id OPERATOR(pg_catalog.=) (company COLLATE "C")
	   AND d.partition OPERATOR(pg_catalog.=) source AND d.previous_partition IS NULL
	   FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = pg_catalog.format('company "%s" left partition %s during the move (another move_company?)', company, source);
	END IF;
	-- The lease first (no call of the company changes it meanwhile), then
	-- what changed since the copy; only when the copy cannot be caught up
	-- (nothing copied, or creds gone) the whole state again.
	lease := whatsapp_auth.partition_lease_status(source, company);
	IF lease IS NOT NULL
	   AND whatsapp_auth.partition_lease_adopt(to_partition, company, lease)
		   OPERATOR(pg_catalog.=) (lease OPERATOR(pg_catalog.->>) 'lease_token')::bigint THEN
		token := whatsapp_auth.write_token(lease);
	ELSE
		-- no lease on the source, or a larger token on the target (the company lived there)
		token := whatsapp_auth.write_token(whatsapp_auth.partition_lease_status(to_partition, company));
	END IF;
	doc := whatsapp_auth.partition_export(source, company);
	IF copied IS NULL OR doc IS NULL
	   OR pg_catalog.jsonb_typeof(doc OPERATOR(pg_catalog.->) 'creds') IS DISTINCT FROM
		  pg_catalog.jsonb_typeof(copied OPERATOR(pg_catalog.->) 'creds') THEN
		PERFORM whatsapp_auth.partition_replace(to_partition, company, doc, token);
	ELSE
		PERFORM whatsapp_auth.partition_catch_up(to_partition, company,
			CASE WHEN doc OPERATOR(pg_catalog.->) 'creds' IS DISTINCT FROM copied OPERATOR(pg_catalog.->) 'creds'
				 THEN doc OPERATOR(pg_catalog.->) 'creds' END,
			whatsapp_auth.keys_changed(copied, doc), token);
	END IF;
	-- rows moved: the creds row and the keys
	SELECT COALESCE((pg_catalog.jsonb_typeof(doc OPERATOR(pg_catalog.->) 'creds') OPERATOR(pg_catalog.=) 'object')::integer, 0)
		   OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_each(doc OPERATOR(pg_catalog.->) 'keys') t,
									  pg_catalog.jsonb_each(t.value) i)
	  INTO rows_moved;
	UPDATE whatsapp_auth.directory d
	   SET partition = to_partition, previous_partition = source, moved_at = pg_catalog.now()
	 WHERE d.company_id OPERATOR(pg_catalog.=) (company COLLATE "C");
	RAISE NOTICE 'company "%" switched from partition % to %: % rows, its calls held for % ms',
		company, source, to_partition, rows_moved,
		pg_catalog.round((EXTRACT(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) locked_at)
						  OPERATOR(pg_catalog.*) 1000)::numeric, 1);
	COMMIT;

	-- 3. Remove from the source, which no call reaches any more (its lease
	-- row stays there, as session_remove keeps it: a high-water mark only).
	PERFORM whatsapp_auth.partition_remove(source, company, whatsapp_auth.write_token(lease));
	UPDATE whatsapp_auth.directory d SET previous_partition = NULL
	 WHERE d.company_id OPERATOR(pg_catalog.=) (company COLLATE "C");
	COMMIT;
END
$$;
COMMENT ON PROCEDURE whatsapp_auth.move_company(text, integer, bigint) IS
	'Move a company to another partition online (copy, switch, remove); CALL it outside a transaction block; run it again to finish an interrupted move';

--
-- Inspection: every partition's rows, read whole from each partition on
-- every query (nothing is pushed down): for checks and tests, not for the
-- application's reads.
--

CREATE FUNCTION whatsapp_auth.partition_creds_rows(pin text, partitions integer[],
	OUT partition integer, OUT company_id text, OUT creds jsonb, OUT created_at timestamptz, OUT updated_at timestamptz)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	SPLIT partitions;
	RUN ON partitions;
	SELECT (partitions)[1] AS partition, c.company_id::text AS company_id, c.creds AS creds,
		   c.created_at AS created_at, c.updated_at AS updated_at
	  FROM (SELECT pg_catalog.set_config('whatsapp_auth.company_id', COALESCE(pin, ''), true) OFFSET 0) AS pinned,
		   whatsapp_auth.creds c;
$$;

CREATE FUNCTION whatsapp_auth.partition_keys_rows(pin text, partitions integer[],
	OUT partition integer, OUT company_id text, OUT key_type text, OUT key_id text, OUT value jsonb,
	OUT updated_at timestamptz, OUT expires_at timestamptz)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
	CLUSTER 'whatsapp_auth';
	SPLIT partitions;
	RUN ON partitions;
	SELECT (partitions)[1] AS partition, k.company_id::text AS company_id, k.key_type AS key_type,
		   k.key_id AS key_id, k.value AS value, k.updated_at AS updated_at, k.expires_at AS expires_at
	  FROM (SELECT pg_catalog.set_config('whatsapp_auth.company_id', COALESCE(pin, ''), true) OFFSET 0) AS pinned,
		   whatsapp_auth.keys k;
$$;

CREATE VIEW whatsapp_auth.creds AS
	SELECT r.company_id, r.creds, r.created_at, r.updated_at, r.partition
	  FROM whatsapp_auth.partition_creds_rows(pg_catalog.current_setting('whatsapp_auth.company_id', true),
											  whatsapp_auth.cluster_partitions()) r;
COMMENT ON VIEW whatsapp_auth.creds IS
	'Every partition''s creds rows, with the partition; reads each partition whole on every query (inspection only)';

CREATE VIEW whatsapp_auth.keys AS
	SELECT r.company_id, r.key_type, r.key_id, r.value, r.updated_at, r.expires_at, r.partition
	  FROM whatsapp_auth.partition_keys_rows(pg_catalog.current_setting('whatsapp_auth.company_id', true),
											 whatsapp_auth.cluster_partitions()) r;
COMMENT ON VIEW whatsapp_auth.keys IS
	'Every partition''s keys rows, with the partition; reads each partition whole on every query (inspection only)';

--
-- Comments on the functions.
--
COMMENT ON FUNCTION whatsapp_auth.health(text) IS
	'health(company) on the company''s partition; without a company, fleet_health()';
COMMENT ON FUNCTION whatsapp_auth.schedule_purge(text, interval) IS
	'schedule_purge on every partition (each purges itself with its own pg_cron); one row per partition with its job id';
COMMENT ON FUNCTION whatsapp_auth.unschedule_purge() IS
	'unschedule_purge on every partition; one row per partition';
COMMENT ON FUNCTION whatsapp_auth.purge_expired(interval, integer, bigint, boolean) IS
	'purge_expired on every partition, in parallel; one row per partition with the keys it deleted';
COMMENT ON FUNCTION whatsapp_auth.partition_health(text, text) IS 'PL/Proxy call of health(company) with the pin (internal)';
COMMENT ON FUNCTION whatsapp_auth.partition_store_health(integer[]) IS 'PL/Proxy: store-wide health() of the given partitions, in parallel (internal)';
COMMENT ON FUNCTION whatsapp_auth.partition_schedule_purge(integer[], text, interval) IS 'PL/Proxy: schedule_purge on the given partitions (internal)';
COMMENT ON FUNCTION whatsapp_auth.partition_unschedule_purge(integer[]) IS 'PL/Proxy: unschedule_purge on the given partitions (internal)';
COMMENT ON FUNCTION whatsapp_auth.partition_purge_expired(integer[], interval, integer, bigint, boolean) IS 'PL/Proxy: purge_expired on the given partitions (internal)';
COMMENT ON FUNCTION whatsapp_auth.partition_export(integer, text) IS 'PL/Proxy: session_export on the given partition (internal, move_company)';
COMMENT ON FUNCTION whatsapp_auth.partition_replace(integer, text, jsonb, bigint) IS 'PL/Proxy: the company''s state on the given partition becomes the document (internal, move_company)';
COMMENT ON FUNCTION whatsapp_auth.partition_remove(integer, text, bigint) IS 'PL/Proxy: session_remove on the given partition (internal, move_company)';
COMMENT ON FUNCTION whatsapp_auth.partition_creds_rows(text, integer[]) IS 'PL/Proxy: every creds row of the given partitions (internal, view creds)';
COMMENT ON FUNCTION whatsapp_auth.partition_keys_rows(text, integer[]) IS 'PL/Proxy: every keys row of the given partitions (internal, view keys)';

--
-- Privileges: nothing for PUBLIC (see the README for the application's and
-- the operators' grants).
--
REVOKE ALL ON ALL TABLES IN SCHEMA whatsapp_auth FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA whatsapp_auth FROM PUBLIC;
