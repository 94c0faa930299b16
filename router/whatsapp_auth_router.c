/*
 * whatsapp_auth_router.c
 *	  The router's routing functions, read_route and write_route: the
 *	  partition of a company, looked up under the shared lock that
 *	  move_company waits for.
 *
 * They run before every routed call (PL/Proxy's RUN ON), so they read the
 * directory's primary key straight, without a query: the pin is checked,
 * the lock taken and the row found in C.  What is off that path (a company
 * without a row) goes to the SQL functions that hold the assignment rule.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "company_id.h"

PG_MODULE_MAGIC;

#define ROUTER_SCHEMA "whatsapp_auth"

/*
 * The advisory lock class of a company's route: move_company takes
 * pg_advisory_xact_lock(ROUTE_LOCK_CLASS, hashtext(company)), the routes the
 * same lock shared.
 */
#define ROUTE_LOCK_CLASS 1463899474

PG_FUNCTION_INFO_V1(wa_router_read_route);
PG_FUNCTION_INFO_V1(wa_router_write_route);

/*
 * The store's pinning (tenant.c), on the router, where the setting is a
 * placeholder no library checks: a malformed pin is refused here, and so is
 * a well-formed company other than the pinned one.  A NULL or malformed
 * company passes: partition 0 answers it as the store does.
 */
static void
check_pin(text *company_id)
{
	const char *pin = GetConfigOption("whatsapp_auth.company_id", true, false);
	char	   *company;

	if (pin == NULL || pin[0] == '\0')
		return;
	if (!wa_company_id_is_valid(pin, strlen(pin)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"whatsapp_auth.company_id\": \"%s\"", pin),
				 errdetail("A company_id is 1 to 50 characters among A-Z, a-z, 0-9, \"_\" and \"-\"; empty pins no company.")));
	if (company_id == NULL)
		return;
	company = text_to_cstring(company_id);
	if (wa_company_id_is_valid(company, strlen(company)) && strcmp(company, pin) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("company \"%s\" is not the company this session is pinned to", company),
				 errdetail("whatsapp_auth.company_id is \"%s\".", pin)));
}

/* The company's route lock, shared, until the end of the transaction. */
static void
lock_route_shared(text *company_id)
{
	int32		hash = DatumGetInt32(DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID,
															 PointerGetDatum(company_id)));
	LOCKTAG		tag;

	/* pg_advisory_xact_lock_shared(int4, int4)'s tag */
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) ROUTE_LOCK_CLASS, (uint32) hash, 2);
	(void) LockAcquire(&tag, ShareLock, false, false);
}

/*
 * The company's partition from the directory, as the caller reads it (the
 * application has SELECT on it), in the latest committed state: a route
 * switched while this call waited for the lock is the one it takes.
 */
static bool
directory_partition(text *company_id, int32 *partition)
{
	Oid			schema = get_namespace_oid(ROUTER_SCHEMA, false);
	Oid			directory = get_relname_relid("directory", schema);
	Oid			primary_key = get_relname_relid("directory_pkey", schema);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tuple;
	bool		found = false;

	if (!OidIsValid(directory) || !OidIsValid(primary_key))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s.directory\" or its primary key does not exist", ROUTER_SCHEMA)));
	if (pg_class_aclcheck(directory, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, "directory");

	rel = table_open(directory, AccessShareLock);
	ScanKeyInit(&key, get_attnum(directory, "company_id"), BTEqualStrategyNumber,
				F_TEXTEQ, PointerGetDatum(company_id));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, primary_key, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, get_attnum(directory, "partition"),
										 RelationGetDescr(rel), &isnull);

		*partition = DatumGetInt32(value);
		found = !isnull;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * whatsapp_auth.<name>(text), the SQL function that holds a rule, called as
 * a query would call it: only by a caller allowed to execute it.
 */
static int32
call_rule(const char *name, text *company_id)
{
	Oid			argtype = TEXTOID;
	Oid			function = LookupFuncName(list_make2(makeString(ROUTER_SCHEMA),
													 makeString(pstrdup(name))),
										  1, &argtype, false);

	if (pg_proc_aclcheck(function, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, name);
	return DatumGetInt32(OidFunctionCall1Coll(function, DEFAULT_COLLATION_OID,
											  PointerGetDatum(company_id)));
}

/*
 * The partition of a call: the company's own, or, for a company without a
 * row, 0 when it is NULL or malformed (partition 0 answers with the store's
 * error, as a direct call would) and else what the rule gives it.
 */
static int32
route(FunctionCallInfo fcinfo, const char *unknown_company_rule)
{
	text	   *company_id = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	int32		partition;

	check_pin(company_id);
	if (company_id == NULL)
		return 0;
	lock_route_shared(company_id);
	if (directory_partition(company_id, &partition))
		return partition;
	if (!wa_company_id_is_valid(VARDATA_ANY(company_id), VARSIZE_ANY_EXHDR(company_id)))
		return 0;
	return call_rule(unknown_company_rule, company_id);
}

/* SQL function: read_route(company_id text) returns integer */
Datum
wa_router_read_route(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(route(fcinfo, "new_company_partition"));
}

/* SQL function: write_route(company_id text) returns integer */
Datum
wa_router_write_route(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(route(fcinfo, "assign_partition"));
}
