/*
 * purge.c
 *	  Deleting expired keys: purge_expired() in one transaction, and the
 *	  procedure purge() that commits between batches (what pg_cron runs).
 *
 * The expired keys' row addresses are read from the expires_at index
 * alone (up to maintenance_work_mem of them at a time, as VACUUM keeps its
 * dead rows) and sorted, so the batches walk the table in its physical
 * order, as a plain DELETE's bitmap scan does, instead of one random page
 * per key; the index never has to step over the rows earlier batches
 * deleted.  Before each batch its addresses are followed to the rows they
 * lead to now (page by page, in order), so a key rewritten in place since
 * it expired is still found.  Each batch locks its rows FOR UPDATE SKIP
 * LOCKED, so a purge never waits for a writer and a key a writer holds is
 * left for the next run; the delete re-checks expiry, so a key refreshed
 * since it was read survives.  A key written during the run that is already expired is left
 * for the next run too.  One purge at a time per database: an advisory
 * lock, taken without waiting.  Every run writes one purge_log row, and
 * trims the log to whatsapp_auth.purge_log_retention.
 */
#include "postgres.h"

#include <limits.h>

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/itemptr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "args.h"
#include "spi_plans.h"
#include "tenant.h"
#include "whatsapp_auth.h"

PG_FUNCTION_INFO_V1(wa_purge_expired);
PG_FUNCTION_INFO_V1(wa_purge);

/* The purge's advisory lock is pg_advisory_lock(1463899472, 1): "WAUP", 1. */
#define PURGE_LOCK_KEY1 1463899472
#define PURGE_LOCK_KEY2 1

#define PURGE_LOG_RETENTION_DEFAULT (30 * 24 * 60 * 60)

static int	purge_log_retention = PURGE_LOG_RETENTION_DEFAULT;

void
wa_purge_init(void)
{
	DefineCustomIntVariable("whatsapp_auth.purge_log_retention",
							"Each purge deletes purge_log rows older than this; 0 keeps them all.",
							NULL,
							&purge_log_retention,
							PURGE_LOG_RETENTION_DEFAULT, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* $2: the batch's row addresses; rows moved or refreshed since are skipped */
static WaStatement batch_stmt = {
	.sql = "WITH batch AS ("
	"  SELECT k.ctid FROM whatsapp_auth.keys k"
	"  WHERE k.ctid " WA_OP("=") " ANY ($2) AND k.expires_at " WA_OP("<") " $1"
	"  FOR UPDATE SKIP LOCKED)"
	" DELETE FROM whatsapp_auth.keys k"
	" WHERE k.ctid " WA_OP("=") " ANY (ARRAY(SELECT b.ctid FROM batch b))"
	" AND k.expires_at " WA_OP("<") " $1",
	.nargs = 2,
	.argtypes = {TIMESTAMPTZOID, TIDARRAYOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement count_stmt = {
	.sql = "SELECT pg_catalog.count(*) FROM ("
	"  SELECT FROM whatsapp_auth.keys k WHERE k.expires_at " WA_OP("<") " $1 LIMIT $2) s",
	.nargs = 2,
	.argtypes = {TIMESTAMPTZOID, INT8OID},
};

static WaStatement log_stmt = {
	.sql = "INSERT INTO whatsapp_auth.purge_log"
	" (started_at, finished_at, role, grace, batch_size, max_rows, deleted, dry_run)"
	" VALUES ($1, pg_catalog.clock_timestamp(), CURRENT_USER, $2, $3, $4, $5, $6)",
	.nargs = 6,
	.argtypes = {TIMESTAMPTZOID, INTERVALOID, INT4OID, INT8OID, INT8OID, BOOLOID},
};

static WaStatement trim_log_stmt = {
	.sql = "DELETE FROM whatsapp_auth.purge_log l"
	" WHERE l.started_at " WA_OP("<") " (pg_catalog.now() " WA_OP("-") " $1)",
	.nargs = 1,
	.argtypes = {INTERVALOID},
};

/* One purge call's arguments. */
typedef struct PurgeArgs
{
	Interval   *grace;
	int32		batch_size;
	bool		has_max_rows;
	int64		max_rows;
	bool		dry_run;
} PurgeArgs;

/* Arguments 0..3 (grace, batch_size, max_rows[, dry_run]), checked. */
static void
purge_args(FunctionCallInfo fcinfo, bool has_dry_run, PurgeArgs *a)
{
	const char *required = has_dry_run ? "grace, batch_size and dry_run" : "grace and batch_size";
	const char *hint = "A NULL max_rows means no limit.";

	wa_arg_not_null(fcinfo, 0, required, hint);
	wa_arg_not_null(fcinfo, 1, required, hint);
	if (has_dry_run)
		wa_arg_not_null(fcinfo, 3, required, hint);
	a->grace = PG_GETARG_INTERVAL_P(0);
	a->batch_size = PG_GETARG_INT32(1);
	a->has_max_rows = !PG_ARGISNULL(2);
	a->max_rows = a->has_max_rows ? PG_GETARG_INT64(2) : 0;
	a->dry_run = has_dry_run && PG_GETARG_BOOL(3);

	if (a->grace->month < 0 || a->grace->day < 0 || a->grace->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("grace must not be negative")));
	if (a->batch_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1, not %d", a->batch_size)));
	if (a->has_max_rows && a->max_rows < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must not be negative, not " INT64_FORMAT, a->max_rows)));
}

/* Take the purge lock without waiting; session-level across commits. */
static bool
purge_lock(bool session)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, PURGE_LOCK_KEY1, PURGE_LOCK_KEY2, 2);
	return LockAcquire(&tag, ExclusiveLock, session, true) != LOCKACQUIRE_NOT_AVAIL;
}

static void
purge_unlock(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, PURGE_LOCK_KEY1, PURGE_LOCK_KEY2, 2);
	LockRelease(&tag, ExclusiveLock, true);
}

static void
notice_purge_running(void)
{
	ereport(NOTICE,
			(errmsg("another purge of expired keys is running in this database; nothing done"),
			 errdetail("Only one purge runs at a time (advisory lock %d, %d).",
					   PURGE_LOCK_KEY1, PURGE_LOCK_KEY2)));
}

/* Keys expired before cutoff, at most the limit when there is one. */
static int64
count_expired(TimestampTz cutoff, const PurgeArgs *a)
{
	Datum		args[2] = {TimestampTzGetDatum(cutoff), Int64GetDatum(a->max_rows)};
	char		nulls[2] = {' ', a->has_max_rows ? ' ' : 'n'};
	bool		isnull;

	return DatumGetInt64(wa_execute_value(&count_stmt, args, nulls, false, &isnull));
}

/* Where the previous chunk's read of the index stopped. */
typedef struct IndexPosition
{
	bool		valid;
	TimestampTz expires_at;
	ItemPointerData tid;
} IndexPosition;

static int
tid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

static Oid
keys_relation(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("whatsapp_auth", false));

	if (!OidIsValid(relid))
		elog(ERROR, "relation whatsapp_auth.%s is missing", name);
	return relid;
}

/*
 * Up to max row addresses of keys expired before cutoff, from the
 * expires_at index without visiting the table, after *pos (in the index's
 * order: expiry, then address); *pos moves to the last one read.  Returns
 * how many; fewer than max when the index has no more.  The batches' own
 * statement checks the caller's privileges and row security on each row;
 * reading addresses needs SELECT on the table.
 */
static int64
collect_expired(TimestampTz cutoff, IndexPosition *pos, ItemPointer tids, int64 max)
{
	Oid			relid = keys_relation("keys");
	Relation	heap;
	Relation	index;
	Snapshot	snapshot;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	int			nkeys = 0;
	ItemPointer tid;
	int64		n = 0;
	AclResult	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "keys");

	heap = table_open(relid, AccessShareLock);
	index = index_open(keys_relation("keys_expires_at_idx"), AccessShareLock);
	snapshot = RegisterSnapshot(GetTransactionSnapshot());

	if (pos->valid)
		ScanKeyInit(&keys[nkeys++], 1, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
					TimestampTzGetDatum(pos->expires_at));
	ScanKeyInit(&keys[nkeys++], 1, BTLessStrategyNumber, F_TIMESTAMPTZ_LT,
				TimestampTzGetDatum(cutoff));

	scan = index_beginscan(heap, index, snapshot, nkeys, 0);
	scan->xs_want_itup = true;
	index_rescan(scan, keys, nkeys, NULL, 0);
	while (n < max && (tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		TimestampTz expires_at = DatumGetTimestampTz(index_getattr(scan->xs_itup, 1,
																   scan->xs_itupdesc, &isnull));

		/* the previous chunk's last expiry again: only addresses past it */
		if (pos->valid && expires_at == pos->expires_at &&
			ItemPointerCompare(tid, &pos->tid) <= 0)
			continue;
		tids[n++] = *tid;
		pos->valid = true;
		pos->expires_at = expires_at;
		pos->tid = *tid;
		CHECK_FOR_INTERRUPTS();
	}
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	return n;
}

/*
 * The addresses of the rows the index entries lead to now, visible ones
 * only: an entry gives the first row of a chain of updates that kept the
 * indexed expiry (a rewrite of the value), which a fetch by address would
 * not follow.  In the table's order, one page after the other.  Returns
 * how many are left in out.
 */
static int
resolve_rows(ItemPointer tids, int n, ItemPointer out)
{
	Relation	heap = table_open(keys_relation("keys"), AccessShareLock);
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	IndexFetchTableData *fetch = table_index_fetch_begin(heap);
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	int			m = 0;

	for (int i = 0; i < n; i++)
	{
		ItemPointerData tid = tids[i];
		bool		call_again = false;
		bool		all_dead;

		if (table_index_fetch_tuple(fetch, &tid, snapshot, slot, &call_again, &all_dead))
			out[m++] = slot->tts_tid;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_index_fetch_end(fetch);
	UnregisterSnapshot(snapshot);
	table_close(heap, AccessShareLock);
	return m;
}

/*
 * A batch's commit need not wait for its WAL to reach disk: a crash can
 * only bring back keys that had expired (invisible to every read), which
 * the next purge deletes again.  SET LOCAL: it ends with the batch's
 * transaction, so the run's last transaction (the log row) waits as usual.
 */
static void
batch_commit_async(void)
{
	(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * Delete expired keys batch by batch until none is left or max_rows is
 * reached; commit after each batch when commit_each is set.  Each chunk of
 * addresses read from the index is sorted, then deleted batch_size at a
 * time.
 */
static int64
delete_expired(TimestampTz cutoff, const PurgeArgs *a, bool commit_each)
{
	int64		deleted = 0;
	int64		chunk_max = Min((int64) maintenance_work_mem * 1024, (int64) MaxAllocSize) /
		(int64) sizeof(ItemPointerData);
	IndexPosition pos = {0};
	ItemPointer tids;
	ItemPointer rows;
	Datum	   *elems;
	MemoryContext batch_cxt;

	if (a->has_max_rows)
		chunk_max = Min(chunk_max, a->max_rows);
	chunk_max = Max(chunk_max, 1);
	/* SPI's procedure context: survives the commits */
	tids = palloc(chunk_max * sizeof(ItemPointerData));
	elems = palloc(Min(chunk_max, (int64) a->batch_size) * sizeof(Datum));
	rows = palloc(Min(chunk_max, (int64) a->batch_size) * sizeof(ItemPointerData));
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "whatsapp_auth purge batch",
									  ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		int64		limit = chunk_max;
		int64		n;

		if (a->has_max_rows)
			limit = Min(limit, a->max_rows - deleted);
		if (limit <= 0)
			break;
		n = collect_expired(cutoff, &pos, tids, limit);
		qsort(tids, n, sizeof(ItemPointerData), tid_cmp);

		for (int64 first = 0; first < n;)
		{
			int64		take = Min((int64) a->batch_size, n - first);
			int			nrows;
			MemoryContext old;
			Datum		args[2];

			if (a->has_max_rows)
				take = Min(take, a->max_rows - deleted);
			if (take <= 0)
				break;
			old = MemoryContextSwitchTo(batch_cxt);
			nrows = resolve_rows(&tids[first], (int) take, rows);
			for (int i = 0; i < nrows; i++)
				elems[i] = PointerGetDatum(&rows[i]);
			args[0] = TimestampTzGetDatum(cutoff);
			args[1] = PointerGetDatum(construct_array(elems, nrows, TIDOID,
													  sizeof(ItemPointerData), false,
													  TYPALIGN_SHORT));
			MemoryContextSwitchTo(old);
			if (commit_each)
				batch_commit_async();
			if (nrows > 0)
			{
				wa_execute(&batch_stmt, args, NULL, false, SPI_OK_DELETE);
				deleted += SPI_processed;
			}
			first += take;
			MemoryContextReset(batch_cxt);
			if (commit_each)
				SPI_commit();
			CHECK_FOR_INTERRUPTS();
		}
		if (n < limit)
			break;
	}
	MemoryContextDelete(batch_cxt);
	return deleted;
}

/* One purge_log row, and the log trimmed to its retention. */
static void
log_purge(TimestampTz started, const PurgeArgs *a, int64 deleted)
{
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', a->has_max_rows ? ' ' : 'n', ' ', ' '};

	args[0] = TimestampTzGetDatum(started);
	args[1] = IntervalPGetDatum(a->grace);
	args[2] = Int32GetDatum(a->batch_size);
	args[3] = Int64GetDatum(a->max_rows);
	args[4] = Int64GetDatum(deleted);
	args[5] = BoolGetDatum(a->dry_run);
	wa_execute(&log_stmt, args, nulls, false, SPI_OK_INSERT);

	if (purge_log_retention > 0)
	{
		Interval   *keep = palloc0(sizeof(Interval));

		keep->time = (int64) purge_log_retention * USECS_PER_SEC;
		args[0] = IntervalPGetDatum(keep);
		wa_execute(&trim_log_stmt, args, NULL, false, SPI_OK_DELETE);
	}
}

/* now() - grace */
static TimestampTz
purge_cutoff(const PurgeArgs *a)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
												   IntervalPGetDatum(a->grace)));
}

/*
 * SQL function: purge_expired(grace interval, batch_size int, max_rows bigint,
 *							   dry_run boolean) returns bigint
 */
Datum
wa_purge_expired(PG_FUNCTION_ARGS)
{
	PurgeArgs	a;
	TimestampTz started = GetCurrentTimestamp();
	TimestampTz cutoff;
	int64		result;

	wa_check_unpinned("purge_expired()");
	purge_args(fcinfo, true, &a);
	cutoff = purge_cutoff(&a);

	/* transaction-level: released at commit or abort */
	if (!purge_lock(false))
	{
		notice_purge_running();
		PG_RETURN_INT64(0);
	}

	wa_spi_connect(0);
	result = a.dry_run ? count_expired(cutoff, &a) : delete_expired(cutoff, &a, false);
	log_purge(started, &a, result);
	wa_spi_finish();
	PG_RETURN_INT64(result);
}

/*
 * SQL procedure: purge(grace interval, batch_size int, max_rows bigint)
 *
 * Commits after every batch when CALLed outside a transaction block, so a
 * purge of millions of keys holds no lock longer than one batch; inside a
 * transaction block it runs as one transaction, like purge_expired().
 */
Datum
wa_purge(PG_FUNCTION_ARGS)
{
	bool		nonatomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
	PurgeArgs	a;
	TimestampTz started = GetCurrentTimestamp();
	TimestampTz cutoff;
	int64		deleted = 0;

	wa_check_unpinned("purge()");
	purge_args(fcinfo, false, &a);
	a.grace = DatumGetIntervalP(datumCopy(IntervalPGetDatum(a.grace), false, sizeof(Interval)));
	cutoff = purge_cutoff(&a);

	/* session-level when committing, so it outlives each batch */
	if (!purge_lock(nonatomic))
	{
		notice_purge_running();
		PG_RETURN_VOID();
	}

	PG_TRY();
	{
		wa_spi_connect(nonatomic ? SPI_OPT_NONATOMIC : 0);
		deleted = delete_expired(cutoff, &a, nonatomic);
		log_purge(started, &a, deleted);
		wa_spi_finish();
	}
	PG_FINALLY();
	{
		if (nonatomic)
			purge_unlock();
	}
	PG_END_TRY();

	ereport(DEBUG1, (errmsg("purge deleted " INT64_FORMAT " expired keys", deleted)));
	PG_RETURN_VOID();
}
