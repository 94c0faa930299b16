/*
 * lease.c
 *	  Account leases: one live holder per company, with a fencing token
 *	  that only ever grows; and the fence every write of a company passes.
 *
 * A company's lease row is never deleted here, so its lease_token is the
 * largest token ever issued for it (a takeover adds 1; a release keeps
 * it), and pg_dump keeps the rows: no token is issued twice, across
 * restarts and dump/restore.  Times are the server's clock, read once per
 * call after its lock is granted (the readers, lease_status and health, use
 * the statement's start, as STABLE functions must).
 *
 * Ordering.  Every change of a company's lease (acquire, renew, release)
 * holds the company's lease lock in ExclusiveLock, every fenced write holds
 * it in ShareLock, both until their transaction ends; the lock is a
 * heavyweight lock on a tag of our own (an advisory-lock tag with a fourth
 * field no advisory-lock function uses).  So a write and a takeover of the
 * same company never overlap: the one that comes second waits for the
 * first to commit or abort.  The fence reads the lease row only once it
 * holds the lock, with the latest snapshot (as PostgreSQL's foreign-key
 * checks do), so a takeover committed before the write's check is always
 * seen, whatever the isolation level; and a takeover that comes later
 * waits until the write is committed.  A lock of our own rather than a
 * FOR SHARE row lock: it orders writes against the first acquire of a
 * company (no row yet to lock) too, and costs no WAL.  import_legacy, which
 * writes any number of companies, holds instead the database's lease lock
 * in ShareLock, which every lease change takes in RowExclusiveLock: one
 * lock, not one per company in the lock table.
 *
 * The fence reads the lease row past privileges and row level security,
 * again like a foreign-key check: a writer needs no privilege on leases (an
 * application role granted before leases existed keeps working), while
 * taking, renewing and releasing a lease run with the caller's privileges.
 *
 * A transaction whose only write is a renew commits asynchronously: losing
 * it in a crash only shortens the lease, which is safe (writes are guarded
 * by the token, never by the clock).  A token, once issued, is durable:
 * lease_acquire commits as the session says.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "args.h"
#include "lease.h"
#include "spi_plans.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(wa_lease_acquire);
PG_FUNCTION_INFO_V1(wa_lease_renew);
PG_FUNCTION_INFO_V1(wa_lease_release);
PG_FUNCTION_INFO_V1(wa_lease_status);
PG_FUNCTION_INFO_V1(wa_lease_adopt);

/* Longest holder name, in characters (also a CHECK on the table). */
#define WA_LEASE_HOLDER_MAX 200

/* Longest ttl a lease is granted for: a holder renews well within it. */
#define WA_LEASE_TTL_MAX_TEXT "1 day"
#define WA_LEASE_TTL_MAX_USECS USECS_PER_DAY

/* The lease lock's fourth tag field: "WA"; advisory locks use 1 and 2. */
#define WA_LEASE_LOCK_TAG 0x5741

/* A company's lease row as the statements below read it. */
typedef struct LeaseRow
{
	bool		found;
	char	   *holder;
	int64		token;
	TimestampTz expires_at;
	bool		released;
	TimestampTz released_at;
} LeaseRow;

#define LEASE_COLUMNS "l.holder, l.lease_token, l.expires_at, l.released_at"
#define LEASE_OF_COMPANY " FROM whatsapp_auth.leases l WHERE l.company_id " WA_OP("=") " $1"

/* The row for a lease change, locked against direct UPDATEs by hand. */
static WaStatement row_for_update_stmt = {
	.sql = "SELECT " LEASE_COLUMNS LEASE_OF_COMPANY " FOR UPDATE",
	.nargs = 1,
	.argtypes = {TEXTOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement insert_stmt = {
	.sql = "INSERT INTO whatsapp_auth.leases (company_id, holder, lease_token, acquired_at, expires_at)"
	" VALUES ($1, $2, 1, $3, $4)",
	.nargs = 4,
	.argtypes = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement takeover_stmt = {
	.sql = "UPDATE whatsapp_auth.leases l"
	" SET holder = $2, lease_token = l.lease_token " WA_OP("+") " 1,"
	"     acquired_at = $3, expires_at = $4, released_at = NULL"
	" WHERE l.company_id " WA_OP("=") " $1"
	" RETURNING l.lease_token",
	.nargs = 4,
	.argtypes = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID},
	.cursor_options = WA_GENERIC_PLAN,
};

/* Renew and release act on the company's current, unreleased token only. */
#define CURRENT_TOKEN \
	" WHERE l.company_id " WA_OP("=") " $1" \
	" AND l.lease_token " WA_OP("=") " $2 AND l.released_at IS NULL"

/* Renew: expired or not. */
static WaStatement extend_stmt = {
	.sql = "UPDATE whatsapp_auth.leases l SET expires_at = $3" CURRENT_TOKEN,
	.nargs = 3,
	.argtypes = {TEXTOID, INT8OID, TIMESTAMPTZOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement release_stmt = {
	.sql = "UPDATE whatsapp_auth.leases l"
	" SET released_at = $3, expires_at = LEAST(l.expires_at, $3)" CURRENT_TOKEN,
	.nargs = 3,
	.argtypes = {TEXTOID, INT8OID, TIMESTAMPTZOID},
	.cursor_options = WA_GENERIC_PLAN,
};

/*
 * Adopt a lease another server issued (a company moved here): the row as
 * given, unless this server's token is larger already.
 */
static WaStatement adopt_stmt = {
	.sql = "INSERT INTO whatsapp_auth.leases AS l"
	" (company_id, holder, lease_token, acquired_at, expires_at, released_at)"
	" VALUES ($1, $2, $3, $4, $5, $6)"
	" ON CONFLICT (company_id) DO UPDATE"
	" SET holder = EXCLUDED.holder, lease_token = EXCLUDED.lease_token,"
	"     acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at,"
	"     released_at = EXCLUDED.released_at"
	" WHERE l.lease_token " WA_OP("<=") " EXCLUDED.lease_token",
	.nargs = 6,
	.argtypes = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement token_stmt = {
	.sql = "SELECT l.lease_token" LEASE_OF_COMPANY,
	.nargs = 1,
	.argtypes = {TEXTOID},
	.cursor_options = WA_GENERIC_PLAN,
};

#define LIVE_AT(t) "(l.released_at IS NULL AND l.expires_at " WA_OP(">") " " t ")"

static WaStatement status_stmt = {
	.sql = "SELECT pg_catalog.jsonb_build_object('holder', l.holder, 'lease_token', l.lease_token,"
	" 'acquired_at', l.acquired_at, 'expires_at', l.expires_at,"
	" 'released_at', l.released_at, 'live', " LIVE_AT("$2") ")"
	LEASE_OF_COMPANY,
	.nargs = 2,
	.argtypes = {TEXTOID, TIMESTAMPTZOID},
};

static WaStatement health_company_stmt = {
	.sql = "SELECT pg_catalog.jsonb_build_object('lease', ("
	"  SELECT pg_catalog.jsonb_build_object('holder', l.holder, 'lease_token', l.lease_token,"
	"    'expires_at', l.expires_at, 'seconds_left',"
	"    pg_catalog.round(pg_catalog.extract('epoch', l.expires_at " WA_OP("-") " $2), 1))"
	LEASE_OF_COMPANY " AND " LIVE_AT("$2") "))",
	.nargs = 2,
	.argtypes = {TEXTOID, TIMESTAMPTZOID},
};

static WaStatement health_store_stmt = {
	.sql = "SELECT pg_catalog.jsonb_build_object('live_leases', pg_catalog.count(*))"
	" FROM whatsapp_auth.leases l WHERE " LIVE_AT("$1"),
	.nargs = 1,
	.argtypes = {TIMESTAMPTZOID},
};

/*
 * Arguments
 */

static char *
holder_arg(FunctionCallInfo fcinfo, int n)
{
	char	   *holder;
	int			chars;

	wa_arg_not_null(fcinfo, n, "holder", NULL);
	holder = text_to_cstring(PG_GETARG_TEXT_PP(n));
	chars = pg_mbstrlen(holder);
	if (chars < 1 || chars > WA_LEASE_HOLDER_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lease holder \"%s\"", wa_quote_for_message(holder, strlen(holder))),
				 errdetail("A holder names the process that holds the lease in 1 to %d characters; this one has %d.",
						   WA_LEASE_HOLDER_MAX, chars)));
	return holder;
}

static void
check_token(int64 token)
{
	if (token <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lease_token " INT64_FORMAT, token),
				 errdetail("A lease token is a positive number that lease_acquire() returned.")));
}

static int64
token_arg(FunctionCallInfo fcinfo, int n)
{
	int64		token;

	wa_arg_not_null(fcinfo, n, "lease_token", NULL);
	token = PG_GETARG_INT64(n);
	check_token(token);
	return token;
}

/* The ttl argument: more than zero, at most WA_LEASE_TTL_MAX_TEXT. */
static Interval *
ttl_arg(FunctionCallInfo fcinfo, int n)
{
	Interval   *ttl;
	Interval	zero = {0, 0, 0};
	Interval	max = {WA_LEASE_TTL_MAX_USECS, 0, 0};

	wa_arg_not_null(fcinfo, n, "ttl", NULL);
	ttl = PG_GETARG_INTERVAL_P(n);
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(ttl),
										  IntervalPGetDatum(&zero))) <= 0 ||
		DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(ttl),
										  IntervalPGetDatum(&max))) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lease ttl \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(ttl)))),
				 errdetail("A lease lasts more than 0 and at most " WA_LEASE_TTL_MAX_TEXT "; its holder renews it well within its ttl.")));
	return ttl;
}

/*
 * Lock, clock, rows
 */

/*
 * Take the company's lease lock until the transaction ends.  Companies whose
 * names hash alike share a lock: they wait for each other more, nothing else.
 */
static void
lock_company_lease(const char *company_id, LOCKMODE mode)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 hash_bytes((const unsigned char *) company_id, strlen(company_id)),
						 0, WA_LEASE_LOCK_TAG);
	(void) LockAcquire(&tag, mode, false, false);
}

/* The database's lease lock: (0, 1) where a company's is (hash, 0). */
static void
database_lease_locktag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, 0, 1, WA_LEASE_LOCK_TAG);
}

/* Before a lease change: waits while an import_legacy runs. */
static void
lock_lease_change(const char *company_id)
{
	LOCKTAG		tag;

	database_lease_locktag(&tag);
	(void) LockAcquire(&tag, RowExclusiveLock, false, false);
	lock_company_lease(company_id, ExclusiveLock);
}

void
wa_lease_lock_all(void)
{
	LOCKTAG		tag;

	database_lease_locktag(&tag);
	(void) LockAcquire(&tag, ShareLock, false, false);
}

static bool
holds_all_leases(void)
{
	LOCKTAG		tag;

	database_lease_locktag(&tag);
	return LockHeldByMe(&tag, ShareLock);
}

static TimestampTz
expiry_after(TimestampTz now, Interval *ttl)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(now),
												   IntervalPGetDatum(ttl)));
}

static const char *
time_text(TimestampTz t)
{
	return timestamptz_to_str(t);
}

/* The first row of the last SPI result as a LeaseRow. */
static void
lease_row_from_spi(LeaseRow *row)
{
	TupleDesc	desc;
	HeapTuple	tuple;
	bool		isnull;

	memset(row, 0, sizeof(*row));
	if (SPI_processed == 0)
		return;
	desc = SPI_tuptable->tupdesc;
	tuple = SPI_tuptable->vals[0];
	row->found = true;
	row->holder = TextDatumGetCString(SPI_getbinval(tuple, desc, 1, &isnull));
	row->token = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
	row->expires_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 3, &isnull));
	row->released_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
	row->released = !isnull;
}

static bool
lease_is_live(const LeaseRow *row, TimestampTz now)
{
	return row->found && !row->released && row->expires_at > now;
}

/* whatsapp_auth.leases, InvalidOid before the 1.2 catalog. */
static Oid
leases_relid(void)
{
	Oid			nsp = get_namespace_oid("whatsapp_auth", true);

	return OidIsValid(nsp) ? get_relname_relid("leases", nsp) : InvalidOid;
}

/* The owner of whatsapp_auth.leases, InvalidOid before the 1.2 catalog. */
static Oid
leases_owner(void)
{
	Oid			relid = leases_relid();
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(relid))
		return InvalidOid;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * Run a read of leases as the table's owner, row level security not forced
 * on it (the caller's company was checked against the session's pinning).
 * latest: with the latest snapshot rather than the statement's.
 */
static void
read_as_owner(WaStatement *stmt, Oid owner, Datum *values, bool latest)
{
	Oid			save_user;
	int			save_sec;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	wa_execute_snapshot(stmt, values, NULL, latest ? GetLatestSnapshot() : InvalidSnapshot,
						SPI_OK_SELECT);
	SetUserIdAndSecContext(save_user, save_sec);
}

/*
 * Refusals
 */

typedef enum TokenStanding
{
	TOKEN_NONE,					/* the call carries no token */
	TOKEN_CURRENT,
	TOKEN_SUPERSEDED,
	TOKEN_NEVER_ISSUED
} TokenStanding;

static TokenStanding
token_standing(const LeaseRow *row, bool has_token, int64 token)
{
	if (!has_token)
		return TOKEN_NONE;
	if (!row->found || token > row->token)
		return TOKEN_NEVER_ISSUED;
	return token == row->token ? TOKEN_CURRENT : TOKEN_SUPERSEDED;
}

/*
 * 55006: this call (a write, or a renew) may not act on the company's lease.
 * Names the lease's holder and when it ends or ended.
 */
static void
raise_refused(const char *company_id, const LeaseRow *row, bool has_token, int64 token,
			  TimestampTz now)
{
	TokenStanding standing = token_standing(row, has_token, token);

	if (lease_is_live(row, now))
	{
		const char *why;

		if (standing == TOKEN_NONE)
			why = psprintf("The call carries no lease token; while a lease is live only its holder's token writes.");
		else if (standing == TOKEN_SUPERSEDED)
			why = psprintf("Lease token " INT64_FORMAT " was superseded by a later lease.", token);
		else
			why = psprintf("Lease token " INT64_FORMAT " was never issued for this company.", token);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("company \"%s\" is leased by \"%s\" until %s",
						company_id, row->holder, time_text(row->expires_at)),
				 errdetail_internal("%s", why)));
	}
	if (standing == TOKEN_NEVER_ISSUED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("lease token " INT64_FORMAT " was never issued for company \"%s\"",
						token, company_id),
				 row->found ?
				 errdetail("Its latest lease was held by \"%s\" and %s at %s.", row->holder,
						   row->released ? "was released" : "ended", time_text(row->expires_at)) :
				 errdetail("The company never had a lease.")));
	if (standing == TOKEN_SUPERSEDED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("lease token " INT64_FORMAT " of company \"%s\" was superseded",
						token, company_id),
				 errdetail("A later lease was held by \"%s\" and %s at %s.", row->holder,
						   row->released ? "was released" : "ended", time_text(row->expires_at))));
	/* the current token, released */
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_IN_USE),
			 errmsg("lease token " INT64_FORMAT " of company \"%s\" was released", token, company_id),
			 errdetail("Its holder \"%s\" released it at %s.", row->holder, time_text(row->released_at)),
			 errhint("lease_acquire() grants a new token.")));
}

/*
 * The fence
 */

/*
 * The company's lease row, read through the primary key in the latest
 * committed state, as a foreign-key check reads the row it points to:
 * without the caller's privileges or row level security (the caller's
 * company was checked against the session's pinning), and without a
 * statement of its own, which cost every write more than this read.
 */
static void
fence_row(Oid relid, const char *company_id, LeaseRow *row)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			primary_key = RelationGetPrimaryKeyIndex(rel);
	ScanKeyData key;
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	tuple;

	memset(row, 0, sizeof(*row));
	if (!OidIsValid(primary_key))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"whatsapp_auth.leases\" has no primary key"),
				 errhint("ALTER EXTENSION whatsapp_auth UPDATE, or restore the table's primary key.")));
	ScanKeyInit(&key, get_attnum(relid, "company_id"), BTEqualStrategyNumber,
				F_TEXTEQ, CStringGetTextDatum(company_id));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, primary_key, true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;

		row->found = true;
		row->holder = TextDatumGetCString(heap_getattr(tuple, get_attnum(relid, "holder"),
													   desc, &isnull));
		row->token = DatumGetInt64(heap_getattr(tuple, get_attnum(relid, "lease_token"),
												desc, &isnull));
		row->expires_at = DatumGetTimestampTz(heap_getattr(tuple, get_attnum(relid, "expires_at"),
														   desc, &isnull));
		row->released_at = DatumGetTimestampTz(heap_getattr(tuple, get_attnum(relid, "released_at"),
															desc, &isnull));
		row->released = !isnull;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

void
wa_lease_fence(const char *company_id, bool has_token, int64 token)
{
	Oid			relid = leases_relid();
	LeaseRow	row;
	TimestampTz now;

	if (has_token)
		check_token(token);
	/*
	 * A library newer than the catalog has no leases table, nothing to
	 * fence; a standby cannot write (nor take the lock), and says so.
	 */
	if (!OidIsValid(relid) || RecoveryInProgress())
		return;

	if (!holds_all_leases())
		lock_company_lease(company_id, ShareLock);
	now = GetCurrentTimestamp();
	fence_row(relid, company_id, &row);

	/* its current token writes, the lease live or expired but not taken over */
	if (has_token && row.found && token == row.token && !row.released)
		return;
	/* no token writes while no lease is live */
	if (!has_token && !lease_is_live(&row, now))
		return;
	raise_refused(company_id, &row, has_token, token, now);
}

void
wa_lease_fence_arg(FunctionCallInfo fcinfo, int n, const char *company_id)
{
	/* PG_NARGS() is smaller under the 1.1 catalog's declarations */
	bool		has_token = PG_NARGS() > n && !PG_ARGISNULL(n);

	wa_lease_fence(company_id, has_token, has_token ? PG_GETARG_INT64(n) : 0);
}

/*
 * health()
 */

Jsonb *
wa_lease_health(Jsonb *doc, const char *company_id)
{
	Oid			owner = leases_owner();
	Datum		args[2];
	bool		isnull;
	Datum		merged;

	if (!OidIsValid(owner))
		return doc;
	if (company_id)
	{
		args[0] = CStringGetTextDatum(company_id);
		args[1] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
		read_as_owner(&health_company_stmt, owner, args, false);
	}
	else
	{
		args[0] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
		read_as_owner(&health_store_stmt, owner, args, false);
	}
	merged = DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(doc),
								 SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return DatumGetJsonbP(SPI_datumTransfer(merged, false, -1));
}

/*
 * Asynchronous commit of a renew
 */

/* End of the renew's WAL, while it is its transaction's only write. */
static XLogRecPtr renew_wal_end = InvalidXLogRecPtr;
static int	saved_synchronous_commit = -1;
static bool renew_callback_registered = false;

static void
renew_commit_callback(XactEvent event, void *arg)
{
	(void) arg;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			/* nothing written since the renew: commit it without waiting */
			if (renew_wal_end != InvalidXLogRecPtr && XactLastRecEnd == renew_wal_end &&
				synchronous_commit > SYNCHRONOUS_COMMIT_OFF)
			{
				saved_synchronous_commit = synchronous_commit;
				synchronous_commit = SYNCHRONOUS_COMMIT_OFF;
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (saved_synchronous_commit >= 0)
				synchronous_commit = saved_synchronous_commit;
			saved_synchronous_commit = -1;
			renew_wal_end = InvalidXLogRecPtr;
			break;
		default:
			break;
	}
}

/* After a renew that was its transaction's first write. */
static void
commit_renew_asynchronously(void)
{
	if (!renew_callback_registered)
	{
		RegisterXactCallback(renew_commit_callback, NULL);
		renew_callback_registered = true;
	}
	renew_wal_end = XactLastRecEnd;
}

/*
 * SQL functions
 */

/* SQL function: lease_acquire(company_id text, holder text, ttl interval) returns bigint */
Datum
wa_lease_acquire(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	char	   *holder = holder_arg(fcinfo, 1);
	Interval   *ttl = ttl_arg(fcinfo, 2);
	TimestampTz now;
	Datum		args[4];
	LeaseRow	row;
	int64		token;
	bool		isnull;

	lock_lease_change(company_id);
	now = GetCurrentTimestamp();
	args[0] = CStringGetTextDatum(company_id);
	args[1] = CStringGetTextDatum(holder);
	args[2] = TimestampTzGetDatum(now);
	args[3] = TimestampTzGetDatum(expiry_after(now, ttl));

	wa_spi_connect(0);
	wa_execute(&row_for_update_stmt, args, NULL, false, SPI_OK_SELECT);
	lease_row_from_spi(&row);
	if (!row.found)
	{
		wa_execute(&insert_stmt, args, NULL, false, SPI_OK_INSERT);
		token = 1;
	}
	else if (lease_is_live(&row, now))
	{
		Datum		extend[3];

		if (strcmp(row.holder, holder) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("company \"%s\" is leased by \"%s\" until %s",
							company_id, row.holder, time_text(row.expires_at)),
					 errdetail("Its lease ends in %.1f s unless its holder renews it.",
							   (double) (row.expires_at - now) / USECS_PER_SEC),
					 errhint("Retry once it ends, or once its holder calls lease_release().")));
		/* the live holder again: renewed, same token */
		extend[0] = args[0];
		extend[1] = Int64GetDatum(row.token);
		extend[2] = args[3];
		wa_execute(&extend_stmt, extend, NULL, false, SPI_OK_UPDATE);
		token = row.token;
	}
	else
	{
		token = DatumGetInt64(wa_execute_value(&takeover_stmt, args, NULL, false, &isnull));
	}
	wa_spi_finish();
	PG_RETURN_INT64(token);
}

/* SQL function: lease_renew(company_id text, lease_token bigint, ttl interval) returns timestamptz */
Datum
wa_lease_renew(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	int64		token = token_arg(fcinfo, 1);
	Interval   *ttl = ttl_arg(fcinfo, 2);
	TimestampTz now;
	TimestampTz expires_at;
	Datum		args[3];
	bool		first_write = !TransactionIdIsValid(GetTopTransactionIdIfAny());

	lock_lease_change(company_id);
	now = GetCurrentTimestamp();
	expires_at = expiry_after(now, ttl);
	args[0] = CStringGetTextDatum(company_id);
	args[1] = Int64GetDatum(token);
	args[2] = TimestampTzGetDatum(expires_at);

	wa_spi_connect(0);
	wa_execute(&extend_stmt, args, NULL, false, SPI_OK_UPDATE);
	if (SPI_processed == 0)
	{
		LeaseRow	row;

		wa_execute(&row_for_update_stmt, args, NULL, false, SPI_OK_SELECT);
		lease_row_from_spi(&row);
		raise_refused(company_id, &row, true, token, now);
	}
	wa_spi_finish();
	if (first_write)
		commit_renew_asynchronously();
	PG_RETURN_TIMESTAMPTZ(expires_at);
}

/* SQL function: lease_release(company_id text, lease_token bigint) returns boolean */
Datum
wa_lease_release(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	int64		token = token_arg(fcinfo, 1);
	Datum		args[3];
	uint64		released;

	lock_lease_change(company_id);
	args[0] = CStringGetTextDatum(company_id);
	args[1] = Int64GetDatum(token);
	args[2] = TimestampTzGetDatum(GetCurrentTimestamp());

	wa_spi_connect(0);
	wa_execute(&release_stmt, args, NULL, false, SPI_OK_UPDATE);
	released = SPI_processed;
	wa_spi_finish();
	PG_RETURN_BOOL(released > 0);
}

/* SQL function: lease_status(company_id text) returns jsonb */
Datum
wa_lease_status(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	Datum		args[2];
	Datum		status;
	bool		isnull;

	args[0] = CStringGetTextDatum(company_id);
	/* the statement's time: the same answer throughout a statement (STABLE) */
	args[1] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	wa_spi_connect(0);
	status = wa_execute_value(&status_stmt, args, NULL, true, &isnull);
	wa_spi_finish();
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(status);
}

/*
 * SQL function: lease_adopt(company_id text, holder text, lease_token bigint,
 *   acquired_at timestamptz, expires_at timestamptz, released_at timestamptz) returns bigint
 */
Datum
wa_lease_adopt(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	char	   *holder = holder_arg(fcinfo, 1);
	int64		token = token_arg(fcinfo, 2);
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', PG_ARGISNULL(5) ? 'n' : ' '};
	Datum		current;
	bool		isnull;

	wa_arg_not_null(fcinfo, 3, "acquired_at", NULL);
	wa_arg_not_null(fcinfo, 4, "expires_at", NULL);
	lock_lease_change(company_id);
	args[0] = CStringGetTextDatum(company_id);
	args[1] = CStringGetTextDatum(holder);
	args[2] = Int64GetDatum(token);
	args[3] = PG_GETARG_DATUM(3);
	args[4] = PG_GETARG_DATUM(4);
	args[5] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);

	wa_spi_connect(0);
	wa_execute(&adopt_stmt, args, nulls, false, SPI_OK_INSERT);
	current = wa_execute_value(&token_stmt, args, NULL, false, &isnull);
	wa_spi_finish();
	PG_RETURN_INT64(DatumGetInt64(current));
}
