/*
 * stats.c
 *	  Call statistics of the extension's SQL functions, in shared memory.
 *
 * With the library in shared_preload_libraries, every call of one of the
 * extension's C functions is timed through PostgreSQL's function manager
 * hooks (the same wrapper SECURITY DEFINER functions go through), so no
 * entry point has to remember to count itself.  The functions report what
 * only they know (keys read, written, deleted; bytes) to the innermost
 * call's frame with the wa_stats_* calls, which do nothing outside a
 * counted call.
 *
 * Counters are pg_atomic_uint64 in one entry per (database, function):
 * callers never take a lock to count.  The entry's lock is taken once per
 * backend and function, to find or assign the entry, and by stats_reset().
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "stats.h"
#include "whatsapp_auth.h"

PG_FUNCTION_INFO_V1(wa_stats);
PG_FUNCTION_INFO_V1(wa_stats_reset);

/* (database, function) pairs counted; a pair beyond this is not counted. */
#define STATS_MAX_ENTRIES 256

/* Calls nested deeper than this (our functions through SQL) are not counted. */
#define STATS_MAX_DEPTH 32

/* The library whose functions are counted, as the install scripts name it. */
#define LIBRARY_NAME "whatsapp_auth"

/* Upper bounds of the latency buckets, in microseconds: 0.1 ms to 1 s. */
static const uint64 bucket_le_us[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000
};

#define STATS_BUCKETS ((int) lengthof(bucket_le_us))

/* SQLSTATE classes counted apart (PostgreSQL's errcodes.txt); others count as "other". */
static const char *const error_classes[] = {
	"00", "01", "02", "03", "08", "09", "0A", "0B", "0F", "0L", "0P", "0Z",
	"20", "21", "22", "23", "24", "25", "26", "27", "28", "2B", "2D", "2F",
	"34", "38", "39", "3B", "3D", "3F", "40", "42", "44", "53", "54", "55",
	"57", "58", "72", "F0", "HV", "P0", "XX", "other"
};

#define STATS_ERROR_CLASSES ((int) lengthof(error_classes))

typedef struct StatsEntry
{
	/* set once, under the lock, before the entry is published */
	Oid			dbid;
	NameData	function;

	pg_atomic_uint64 since;		/* TimestampTz of the first call or the reset */
	pg_atomic_uint64 calls;
	pg_atomic_uint64 errors;
	pg_atomic_uint64 keys_read;
	pg_atomic_uint64 keys_written;
	pg_atomic_uint64 keys_deleted;
	pg_atomic_uint64 bytes_in;
	pg_atomic_uint64 bytes_out;
	pg_atomic_uint64 total_ns;
	pg_atomic_uint64 max_ns;
	pg_atomic_uint64 buckets[STATS_BUCKETS + 1];	/* per bucket; the last is above 1 s */
	pg_atomic_uint64 errors_by_class[STATS_ERROR_CLASSES];
} StatsEntry;

typedef struct StatsShared
{
	LWLock	   *lock;			/* assigning entries, and stats_reset() */
	pg_atomic_uint32 used;		/* entries[0 .. used-1] are published */
	StatsEntry	entries[STATS_MAX_ENTRIES];
} StatsShared;

/* What the innermost counted call has reported so far. */
typedef struct CallFrame
{
	StatsEntry *entry;
	instr_time	start;
	uint64		keys_read;
	uint64		keys_written;
	uint64		keys_deleted;
	uint64		bytes_in;
	uint64		bytes_out;
} CallFrame;

/* A backend's answer for one function: its entry, or NULL if not counted. */
typedef struct FunctionEntry
{
	Oid			fn_oid;			/* hash key */
	StatsEntry *entry;
} FunctionEntry;

static StatsShared *stats = NULL;
static HTAB *function_entries = NULL;
static CallFrame frames[STATS_MAX_DEPTH];
static int	depth = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/*
 * Shared memory
 */

static void
stats_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(StatsShared)));
	RequestNamedLWLockTranche(LIBRARY_NAME, 1);
}

static void
stats_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	stats = ShmemInitStruct("whatsapp_auth statistics", sizeof(StatsShared), &found);
	if (!found)
	{
		memset(stats, 0, sizeof(StatsShared));
		stats->lock = &(GetNamedLWLockTranche(LIBRARY_NAME))->lock;
		pg_atomic_init_u32(&stats->used, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
entry_zero(StatsEntry *e)
{
	int			i;

	pg_atomic_write_u64(&e->calls, 0);
	pg_atomic_write_u64(&e->errors, 0);
	pg_atomic_write_u64(&e->keys_read, 0);
	pg_atomic_write_u64(&e->keys_written, 0);
	pg_atomic_write_u64(&e->keys_deleted, 0);
	pg_atomic_write_u64(&e->bytes_in, 0);
	pg_atomic_write_u64(&e->bytes_out, 0);
	pg_atomic_write_u64(&e->total_ns, 0);
	pg_atomic_write_u64(&e->max_ns, 0);
	for (i = 0; i < STATS_BUCKETS + 1; i++)
		pg_atomic_write_u64(&e->buckets[i], 0);
	for (i = 0; i < STATS_ERROR_CLASSES; i++)
		pg_atomic_write_u64(&e->errors_by_class[i], 0);
	pg_atomic_write_u64(&e->since, (uint64) GetCurrentTimestamp());
}

/* The published entry of (dbid, name), or NULL. */
static StatsEntry *
entry_find(Oid dbid, const char *name)
{
	uint32		used = pg_atomic_read_u32(&stats->used);
	uint32		i;

	pg_read_barrier();
	for (i = 0; i < used; i++)
	{
		StatsEntry *e = &stats->entries[i];

		if (e->dbid == dbid && strcmp(NameStr(e->function), name) == 0)
			return e;
	}
	return NULL;
}

/* The entry of (dbid, name), assigned if new; NULL when all are taken. */
static StatsEntry *
entry_assign(Oid dbid, const char *name)
{
	StatsEntry *e;
	uint32		used;

	LWLockAcquire(stats->lock, LW_EXCLUSIVE);
	e = entry_find(dbid, name);
	used = pg_atomic_read_u32(&stats->used);
	if (e == NULL && used < STATS_MAX_ENTRIES)
	{
		e = &stats->entries[used];
		e->dbid = dbid;
		namestrcpy(&e->function, name);
		entry_zero(e);
		/* readers see the name before the entry */
		pg_write_barrier();
		pg_atomic_write_u32(&stats->used, used + 1);
	}
	LWLockRelease(stats->lock);
	return e;
}

/*
 * Which functions are counted
 */

/* Whether a pg_proc text attribute is s, or (prefix) begins with s. */
static bool
proc_text_is(HeapTuple tuple, AttrNumber attnum, const char *s, bool prefix)
{
	bool		isnull;
	Datum		d = SysCacheGetAttr(PROCOID, tuple, attnum, &isnull);
	text	   *t;
	size_t		len = strlen(s);

	if (isnull)
		return false;
	t = DatumGetTextPP(d);
	if (prefix)
		return VARSIZE_ANY_EXHDR(t) >= len && memcmp(VARDATA_ANY(t), s, len) == 0;
	return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), s, len) == 0;
}

/*
 * The entry of a function of this library (the C functions the install
 * scripts bind to MODULE_PATHNAME), except the statistics functions
 * themselves, so that reading the statistics does not change them.
 */
static StatsEntry *
function_entry_lookup(Oid fn_oid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	StatsEntry *e = NULL;

	if (!HeapTupleIsValid(tuple))
		return NULL;
	if (((Form_pg_proc) GETSTRUCT(tuple))->prolang == ClanguageId &&
		proc_text_is(tuple, Anum_pg_proc_probin, "$libdir/" LIBRARY_NAME, false) &&
		!proc_text_is(tuple, Anum_pg_proc_prosrc, "wa_stats", true))
	{
		const char *name = NameStr(((Form_pg_proc) GETSTRUCT(tuple))->proname);

		e = entry_find(MyDatabaseId, name);
		if (e == NULL)
			e = entry_assign(MyDatabaseId, name);
	}
	ReleaseSysCache(tuple);
	return e;
}

/* Cached per backend: the function manager asks for every non-builtin function. */
static StatsEntry *
function_entry(Oid fn_oid)
{
	static Oid	last_oid = InvalidOid;
	static StatsEntry *last_entry = NULL;
	FunctionEntry *fe;
	bool		found;

	/* the same function again, as for every call of a loop or a pgbench run */
	if (fn_oid == last_oid)
		return last_entry;
	if (function_entries == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(FunctionEntry);
		function_entries = hash_create("whatsapp_auth counted functions", 64, &ctl,
									   HASH_ELEM | HASH_BLOBS);
	}
	fe = hash_search(function_entries, &fn_oid, HASH_FIND, NULL);
	if (fe == NULL)
	{
		StatsEntry *e = function_entry_lookup(fn_oid);

		fe = hash_search(function_entries, &fn_oid, HASH_ENTER, &found);
		fe->entry = e;
	}
	last_oid = fn_oid;
	last_entry = fe->entry;
	return fe->entry;
}

/*
 * Counting
 */

static int
error_class_index(int sqlerrcode)
{
	char		class[3] = {PGUNSIXBIT(sqlerrcode), PGUNSIXBIT(sqlerrcode >> 6), '\0'};
	int			i;

	for (i = 0; i < STATS_ERROR_CLASSES - 1; i++)
		if (strcmp(error_classes[i], class) == 0)
			return i;
	return STATS_ERROR_CLASSES - 1;
}

static void
frame_count(const CallFrame *f, bool failed, int sqlerrcode)
{
	StatsEntry *e = f->entry;
	instr_time	elapsed;
	uint64		ns,
				us,
				max;
	int			b;

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, f->start);
	ns = (uint64) (INSTR_TIME_GET_DOUBLE(elapsed) * 1e9);
	us = ns / 1000;
	for (b = 0; b < STATS_BUCKETS && us > bucket_le_us[b]; b++)
		;

	pg_atomic_fetch_add_u64(&e->calls, 1);
	pg_atomic_fetch_add_u64(&e->total_ns, ns);
	pg_atomic_fetch_add_u64(&e->buckets[b], 1);
	max = pg_atomic_read_u64(&e->max_ns);
	while (ns > max && !pg_atomic_compare_exchange_u64(&e->max_ns, &max, ns))
		;
	if (failed)
	{
		pg_atomic_fetch_add_u64(&e->errors, 1);
		pg_atomic_fetch_add_u64(&e->errors_by_class[error_class_index(sqlerrcode)], 1);
		return;					/* what a failed call wrote is rolled back */
	}
	if (f->keys_read)
		pg_atomic_fetch_add_u64(&e->keys_read, f->keys_read);
	if (f->keys_written)
		pg_atomic_fetch_add_u64(&e->keys_written, f->keys_written);
	if (f->keys_deleted)
		pg_atomic_fetch_add_u64(&e->keys_deleted, f->keys_deleted);
	if (f->bytes_in)
		pg_atomic_fetch_add_u64(&e->bytes_in, f->bytes_in);
	if (f->bytes_out)
		pg_atomic_fetch_add_u64(&e->bytes_out, f->bytes_out);
}

static bool
stats_needs_fmgr_hook(Oid fn_oid)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	return function_entry(fn_oid) != NULL;
}

/*
 * The previous hook sees its events outside ours: ours starts after its
 * start, and ends before its end, so an error in it cannot unbalance the
 * frames.  *private belongs to the previous hook when there is one;
 * otherwise it keeps the entry from one call of flinfo to the next.
 */
static void
stats_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	StatsEntry *e;

	if (prev_fmgr_hook == NULL)
	{
		e = (StatsEntry *) DatumGetPointer(*private);
		if (e == NULL)
		{
			e = function_entry(flinfo->fn_oid);
			*private = PointerGetDatum(e);
		}
	}
	else
	{
		if (event == FHET_START)
			prev_fmgr_hook(event, flinfo, private);
		e = function_entry(flinfo->fn_oid);
	}

	if (e != NULL)
	{
		if (event == FHET_START)
		{
			if (depth < STATS_MAX_DEPTH)
			{
				CallFrame  *f = &frames[depth];

				f->entry = e;
				f->keys_read = f->keys_written = f->keys_deleted = 0;
				f->bytes_in = f->bytes_out = 0;
				INSTR_TIME_SET_CURRENT(f->start);
			}
			depth++;
		}
		else if (depth > 0)
		{
			depth--;
			if (depth < STATS_MAX_DEPTH)
				frame_count(&frames[depth], event == FHET_ABORT,
							event == FHET_ABORT ? geterrcode() : 0);
		}
	}

	if (event != FHET_START && prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
}

/* The innermost counted call, or NULL. */
static inline CallFrame *
current_frame(void)
{
	if (depth == 0 || depth > STATS_MAX_DEPTH)
		return NULL;
	return &frames[depth - 1];
}

void
wa_stats_keys_read(uint64 keys, uint64 bytes_out)
{
	CallFrame  *f = current_frame();

	if (f)
	{
		f->keys_read += keys;
		f->bytes_out += bytes_out;
	}
}

void
wa_stats_keys_written(uint64 upserted, uint64 deleted)
{
	CallFrame  *f = current_frame();

	if (f)
	{
		f->keys_written += upserted;
		f->keys_deleted += deleted;
	}
}

void
wa_stats_bytes_in(uint64 bytes)
{
	CallFrame  *f = current_frame();

	if (f)
		f->bytes_in += bytes;
}

void
wa_stats_bytes_out(uint64 bytes)
{
	CallFrame  *f = current_frame();

	if (f)
		f->bytes_out += bytes;
}

/* Hooks are installed only while the library is preloaded. */
void
wa_stats_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = stats_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = stats_shmem_startup;
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = stats_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = stats_fmgr_hook;
}

/*
 * SQL functions
 */

static void
check_collecting(void)
{
	if (stats == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("whatsapp_auth statistics are not collected: the library is not in shared_preload_libraries"),
				 errhint("Add whatsapp_auth to shared_preload_libraries in postgresql.conf and restart the server; "
						 "every other function works without it.")));
}

static double
ns_to_ms(uint64 ns)
{
	return (double) ns / 1e6;
}

/* {"22": 3, ...}: the classes that have errors */
static Jsonb *
errors_by_class_document(StatsEntry *e)
{
	JsonbParseState *state = NULL;
	JsonbValue	k,
				v;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < STATS_ERROR_CLASSES; i++)
	{
		uint64		n = pg_atomic_read_u64(&e->errors_by_class[i]);

		if (n == 0)
			continue;
		k.type = jbvString;
		k.val.string.val = (char *) error_classes[i];
		k.val.string.len = strlen(error_classes[i]);
		pushJsonbValue(&state, WJB_KEY, &k);
		v.type = jbvNumeric;
		v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum((int64) n)));
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

#define STATS_COLUMNS 14

/*
 * SQL function: stats() returns setof record
 *
 * The counters of the current database's functions, one row each.
 */
Datum
wa_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		le_ms[STATS_BUCKETS];
	uint32		used;
	uint32		i;
	int			b;

	check_collecting();
	InitMaterializedSRF(fcinfo, 0);
	for (b = 0; b < STATS_BUCKETS; b++)
		le_ms[b] = Float8GetDatum((double) bucket_le_us[b] / 1000.0);

	used = pg_atomic_read_u32(&stats->used);
	pg_read_barrier();
	for (i = 0; i < used; i++)
	{
		StatsEntry *e = &stats->entries[i];
		Datum		values[STATS_COLUMNS];
		bool		nulls[STATS_COLUMNS] = {0};
		Datum		cumulative[STATS_BUCKETS];
		uint64		running = 0;
		int			c = 0;

		if (e->dbid != MyDatabaseId)
			continue;
		for (b = 0; b < STATS_BUCKETS; b++)
		{
			running += pg_atomic_read_u64(&e->buckets[b]);
			cumulative[b] = Int64GetDatum((int64) running);
		}

		values[c++] = CStringGetTextDatum(NameStr(e->function));
		values[c++] = Int64GetDatum((int64) pg_atomic_read_u64(&e->calls));
		values[c++] = Int64GetDatum((int64) pg_atomic_read_u64(&e->errors));
		values[c++] = Int64GetDatum((int64) pg_atomic_read_u64(&e->keys_read));
		values[c++] = Int64GetDatum((int64) pg_atomic_read_u64(&e->keys_written));
		values[c++] = Int64GetDatum((int64) pg_atomic_read_u64(&e->keys_deleted));
		values[c++] = Float8GetDatum(ns_to_ms(pg_atomic_read_u64(&e->total_ns)));
		values[c++] = Float8GetDatum(ns_to_ms(pg_atomic_read_u64(&e->max_ns)));
		values[c++] = Int64GetDatum((int64) pg_atomic_read_u64(&e->bytes_in));
		values[c++] = Int64GetDatum((int64) pg_atomic_read_u64(&e->bytes_out));
		values[c++] = JsonbPGetDatum(errors_by_class_document(e));
		values[c++] = PointerGetDatum(construct_array(le_ms, STATS_BUCKETS, FLOAT8OID,
													  sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[c++] = PointerGetDatum(construct_array(cumulative, STATS_BUCKETS, INT8OID,
													  sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[c++] = TimestampTzGetDatum((TimestampTz) pg_atomic_read_u64(&e->since));
		Assert(c == STATS_COLUMNS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* SQL function: stats_reset() returns void: zeroes the current database's counters */
Datum
wa_stats_reset(PG_FUNCTION_ARGS)
{
	uint32		used;
	uint32		i;

	check_collecting();
	LWLockAcquire(stats->lock, LW_EXCLUSIVE);
	used = pg_atomic_read_u32(&stats->used);
	for (i = 0; i < used; i++)
		if (stats->entries[i].dbid == MyDatabaseId)
			entry_zero(&stats->entries[i]);
	LWLockRelease(stats->lock);
	PG_RETURN_VOID();
}
