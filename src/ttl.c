/*
 * ttl.c
 *	  The TTL policy: key_ttl read through its primary key, the expiry a
 *	  write gets from it, and the key_ttl() SQL function.
 *
 * key_ttl is read by every write call.  A direct index lookup avoids an
 * SPI statement's executor start-up, a visible share of a single-key
 * keys_set.  It checks the privileges a SELECT would, and refuses to run
 * where a SELECT would have applied row level security.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ttl.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(wa_key_ttl);

/*
 * Expiry is rounded up to a whole hour (UTC): a key rewritten within the
 * hour keeps its expires_at, so the rewrite changes no indexed column and
 * can be a HOT update, with no new index entries and no index bloat.  A key
 * lives at least its TTL after its last write and less than an hour more.
 */
#define EXPIRY_STEP USECS_PER_HOUR

/* key_ttl's columns */
#define Anum_key_ttl_key_type 1
#define Anum_key_ttl_ttl 2

/* Refuse what a SELECT on key_ttl would refuse. */
static void
check_ttl_readable(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			user = GetUserId();

	if (pg_class_aclcheck(relid, user, ACL_SELECT) != ACLCHECK_OK &&
		(pg_attribute_aclcheck(relid, Anum_key_ttl_key_type, user, ACL_SELECT) != ACLCHECK_OK ||
		 pg_attribute_aclcheck(relid, Anum_key_ttl_ttl, user, ACL_SELECT) != ACLCHECK_OK))
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row level security on whatsapp_auth.key_ttl is not supported")));
}

/* The row of key_type: found or not, and its ttl (NULL = never). */
static bool
ttl_row(Relation rel, const char *key_type, Interval *ttl, bool *never)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	row;
	bool		found;

	ScanKeyEntryInitialize(&key, 0, Anum_key_ttl_key_type, BTEqualStrategyNumber, InvalidOid,
						   C_COLLATION_OID, F_TEXTEQ, CStringGetTextDatum(key_type));
	scan = systable_beginscan(rel, RelationGetPrimaryKeyIndex(rel), true,
							  GetActiveSnapshot(), 1, &key);
	row = systable_getnext(scan);
	found = HeapTupleIsValid(row);
	if (found)
	{
		Datum		d = heap_getattr(row, Anum_key_ttl_ttl, RelationGetDescr(rel), never);

		if (!*never)
			*ttl = *DatumGetIntervalP(d);
	}
	systable_endscan(scan);
	return found;
}

/*
 * Does key_type expire, and after how long?  Its own key_ttl row, else the
 * '*' row; no row at all means never.
 */
static bool
ttl_lookup(const char *key_type, Interval *ttl)
{
	Oid			relid = get_relname_relid("key_ttl", get_namespace_oid("whatsapp_auth", false));
	Relation	rel;
	bool		never = true;

	if (!OidIsValid(relid))
		elog(ERROR, "relation whatsapp_auth.key_ttl does not exist");
	rel = table_open(relid, AccessShareLock);
	check_ttl_readable(rel);
	if (!ttl_row(rel, key_type, ttl, &never))
		(void) ttl_row(rel, "*", ttl, &never);
	table_close(rel, AccessShareLock);
	return !never;
}

/* now() + ttl, rounded up to the next EXPIRY_STEP boundary */
static TimestampTz
expiry_after(Interval *ttl)
{
	TimestampTz exact = DatumGetTimestampTz(
		DirectFunctionCall2(timestamptz_pl_interval,
							TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
							IntervalPGetDatum(ttl)));
	TimestampTz past = exact % EXPIRY_STEP;

	if (past < 0)
		past += EXPIRY_STEP;
	if (past == 0 || exact > END_TIMESTAMP - EXPIRY_STEP)
		return exact;
	return exact + (EXPIRY_STEP - past);
}

/*
 * The expiry of key_type's writes, through a call's cache (a List the
 * caller starts as NIL; a call rarely writes more than two types).
 */
const WaTtlEntry *
wa_ttl_cached(List **cache, const char *key_type)
{
	ListCell   *lc;
	WaTtlEntry *e;
	Interval	ttl;

	foreach(lc, *cache)
	{
		e = lfirst(lc);
		if (strcmp(e->key_type, key_type) == 0)
			return e;
	}
	e = palloc(sizeof(WaTtlEntry));
	e->key_type = key_type;
	e->expires = ttl_lookup(key_type, &ttl);
	if (e->expires)
		e->expires_at = expiry_after(&ttl);
	*cache = lappend(*cache, e);
	return e;
}

/* SQL function: key_ttl(key_type text) returns interval */
Datum
wa_key_ttl(PG_FUNCTION_ARGS)
{
	char	   *key_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Interval   *ttl = palloc(sizeof(Interval));

	if (strcmp(key_type, "*") != 0)
		wa_check_key_type(key_type, strlen(key_type));
	if (!ttl_lookup(key_type, ttl))
		PG_RETURN_NULL();
	PG_RETURN_INTERVAL_P(ttl);
}
