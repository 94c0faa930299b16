/*
 * writeset.c
 *	  Applying a call's key writes: validated and canonical on the way in,
 *	  then written in one order, (key_type, key_id) bytewise, whatever
 *	  order the input had.  Two calls touching overlapping keys then take
 *	  their row locks in the same order and cannot deadlock.  Consecutive
 *	  upserts go to the server as one statement over arrays, a bounded
 *	  batch at a time; a delete breaks the run so the order holds across
 *	  both kinds of write.
 */
#include "postgres.h"

#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "jsonb_buffers.h"
#include "spi_plans.h"
#include "stats.h"
#include "ttl.h"
#include "validate.h"
#include "value_size.h"
#include "writeset.h"

/*
 * Most keys and value bytes one upsert statement takes.  Its arrays are a
 * copy of what it writes: built for the whole call, they would be as large
 * as the call's values; a batch bounds them, and the batches go in lock
 * order, one after the other, in the caller's transaction.
 */
#define UPSERT_BATCH_KEYS 1000
#define UPSERT_BATCH_BYTES (1024 * 1024)

/* Both upserts: a key written again takes the new value and expiry. */
#define UPSERT_SQL(rows) \
	"INSERT INTO whatsapp_auth.keys AS k" \
	" (company_id, key_type, key_id, value, updated_at, expires_at) " \
	rows \
	" ON CONFLICT (company_id, key_type, key_id) DO UPDATE" \
	" SET value = excluded.value, updated_at = excluded.updated_at," \
	"     expires_at = excluded.expires_at"

/*
 * The arrays are in lock order already and INSERT consumes its input as it
 * comes: no ORDER BY, whose sort of a large call would spill to disk.  The
 * unnests are in the select list, where they advance in step and stream
 * their elements; in FROM, each would first be copied into a tuplestore.
 * $1 becomes a company_id once, in the fenced one-row subquery: a text $1
 * in the select list would be checked against the domain's regular
 * expression again for every row.
 */
static WaStatement upsert_stmt = {
	.sql = UPSERT_SQL("SELECT c.id, pg_catalog.unnest($2), pg_catalog.unnest($3),"
					  "       pg_catalog.unnest($4), pg_catalog.now(), pg_catalog.unnest($5)"
					  " FROM (SELECT $1::whatsapp_auth.company_id AS id OFFSET 0) c"),
	.nargs = 5,
	.argtypes = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, JSONBARRAYOID, TIMESTAMPTZARRAYOID},
	.cursor_options = WA_GENERIC_PLAN,
};

/* The same upsert for a call that writes one key: no arrays to build or unnest. */
static WaStatement upsert_one_stmt = {
	.sql = UPSERT_SQL("VALUES ($1, $2, $3, $4, pg_catalog.now(), $5)"),
	.nargs = 5,
	.argtypes = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement delete_stmt = {
	.sql = "DELETE FROM whatsapp_auth.keys k"
	" WHERE k.company_id " WA_OP("=") " $1"
	" AND k.key_type " WA_OP("=") " $2"
	" AND k.key_id " WA_OP("=") " $3",
	.nargs = 3,
	.argtypes = {TEXTOID, TEXTOID, TEXTOID},
	.cursor_options = WA_GENERIC_PLAN,
};

/*
 * Collecting
 */

/*
 * Scratch memory.  Checking a value walks it with iterators and decodes its
 * Buffers, allocating as it goes.  Code that walks many values in one call
 * gives them one scratch context, a child of the call's own context made
 * once, reset after each value: the call's memory then grows with what it
 * keeps (its writes), not with every node it looked at; an error frees it
 * with the call, and nothing outlives the call.
 */

/*
 * The canonical form of value, checked in the set's scratch context: value's
 * own container when it is canonical already, else a rebuild in scratch,
 * valid until the scratch context is reset.
 */
static JsonbContainer *
checked_value(WaWriteSet *set, JsonbValue *value, const WaPath *path, uint32 *len)
{
	MemoryContext caller;
	JsonbContainer *canonical;

	if (set->scratch == NULL)
		set->scratch = AllocSetContextCreate(CurrentMemoryContext, "whatsapp_auth value check",
											 ALLOCSET_DEFAULT_SIZES);
	caller = MemoryContextSwitchTo(set->scratch);
	canonical = wa_canonical_container(value, path, len);
	MemoryContextSwitchTo(caller);
	return canonical;
}

/* A checked value, kept in the set's context if it lives in scratch. */
static JsonbContainer *
kept_value(JsonbValue *value, JsonbContainer *canonical, uint32 len)
{
	JsonbContainer *kept;

	if (value->type == jbvBinary && canonical == value->val.binary.data)
		return canonical;
	kept = palloc(len);
	memcpy(kept, canonical, len);
	return kept;
}

/*
 * Spilled writes.  An import's writes are as large as its input: a set
 * that spills sorts them with tuplesort, in work_mem and then in temporary
 * files, instead of keeping them, so the call holds one batch whatever its
 * size.  Each write is one bytea whose bytes sort in lock order:
 *
 *	 key_type NUL key_id NUL ord (4 bytes, big-endian) kind [pad] value
 *
 * NUL sorts before every other byte, as strcmp() has it; ord, unique, then
 * decides between two writes of a key (the later last); kind is 'v' for a
 * value, 'd' for a delete; the value, a canonical container, starts on a
 * 4-byte boundary.
 */
#define SPILL_VALUE 'v'
#define SPILL_DELETE 'd'

/* From now on the set's writes are sorted as they come, not kept. */
void
wa_writeset_spill(WaWriteSet *set)
{
	Assert(set->count == 0 && set->spilled == NULL);
	set->spilled = tuplesort_begin_datum(BYTEAOID, ByteaLessOperator, InvalidOid, false,
										 work_mem, NULL, TUPLESORT_NONE);
}

static void
spill_write(WaWriteSet *set, const char *key_type, const char *key_id,
			const JsonbContainer *value, uint32 len)
{
	Size		type_len = strlen(key_type);
	Size		id_len = strlen(key_id);
	Size		head = INTALIGN(VARHDRSZ + type_len + 1 + id_len + 1 + 4 + 1);
	bytea	   *rec = palloc0(head + len);
	char	   *p = VARDATA(rec);
	uint32		ord = pg_hton32((uint32) set->count);

	SET_VARSIZE(rec, head + len);
	memcpy(p, key_type, type_len + 1);
	p += type_len + 1;
	memcpy(p, key_id, id_len + 1);
	p += id_len + 1;
	memcpy(p, &ord, 4);
	p[4] = value ? SPILL_VALUE : SPILL_DELETE;
	if (value)
		memcpy((char *) rec + head, value, len);
	tuplesort_putdatum(set->spilled, PointerGetDatum(rec), false);
	pfree(rec);
	set->count++;
}

/* The one copy of a key type's name that outlives a batch (key_ttl's cache keeps it). */
static char *
type_name(List **names, const char *key_type)
{
	ListCell   *lc;

	foreach(lc, *names)
		if (strcmp(lfirst(lc), key_type) == 0)
			return lfirst(lc);
	*names = lappend(*names, pstrdup(key_type));
	return llast(*names);
}

/* A spilled write read back: pointers into rec, the type's name into names. */
static void
unspill_write(bytea *rec, WaKeyWrite *w, List **names)
{
	char	   *p = VARDATA(rec);
	Size		head;

	w->key_type = type_name(names, p);
	p += strlen(p) + 1;
	w->key_id = p;
	p += strlen(p) + 1;
	head = INTALIGN(p + 5 - (char *) rec);
	w->value = p[4] == SPILL_VALUE ? (JsonbContainer *) ((char *) rec + head) : NULL;
	w->value_len = w->value ? VARSIZE(rec) - head : 0;
	w->ord = 0;
}

/*
 * Add one key write.  value is NULL or a JSON null (delete), or any JSON
 * value, which is checked and kept in canonical form (spilled: sorted).
 */
void
wa_writeset_add(WaWriteSet *set, char *key_type, char *key_id,
				JsonbValue *value, const WaPath *path)
{
	WaKeyWrite *w;
	JsonbContainer *canonical = NULL;
	uint32		len = 0;

	wa_check_key_id(key_id, strlen(key_id));
	if (value != NULL && value->type != jbvNull)
	{
		canonical = checked_value(set, value, path, &len);
		wa_check_value_size(VARHDRSZ + len, path);
	}
	wa_stats_bytes_in(len);
	if (set->spilled)
	{
		/* sorted from scratch, nothing kept */
		spill_write(set, key_type, key_id, canonical, len);
		if (set->scratch)
			MemoryContextReset(set->scratch);
		return;
	}
	if (canonical != NULL)
		canonical = kept_value(value, canonical, len);
	if (set->scratch)
		MemoryContextReset(set->scratch);

	if (set->count == set->capacity)
	{
		set->capacity = Max(16, set->capacity * 2);
		set->writes = set->writes ?
			repalloc_huge(set->writes, sizeof(WaKeyWrite) * set->capacity) :
			palloc_extended(sizeof(WaKeyWrite) * set->capacity, MCXT_ALLOC_HUGE);
	}
	w = &set->writes[set->count];
	w->key_type = key_type;
	w->key_id = key_id;
	w->value = canonical;
	w->value_len = len;
	w->ord = set->count++;
}

/*
 * Add the writes of a Baileys SignalDataSet {type: {id: value|null}} found
 * at path; anything not of that shape is refused before a row is touched.
 */
void
wa_writeset_add_document(WaWriteSet *set, JsonbContainer *data, const WaPath *path)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key_type = NULL;
	WaPath		type_path = {path, NULL, 0, 0};

	if (!JsonContainerIsObject(data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value at %s must be a JSON object of {type: {id: value}}",
						wa_path_string(path))));

	it = JsonbIteratorInit(data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key_type = pnstrdup(v.val.string.val, v.val.string.len);
			type_path.key = v.val.string.val;
			type_path.keylen = v.val.string.len;
			wa_check_key_type(key_type, v.val.string.len);
		}
		else if (tok == WJB_VALUE)
		{
			JsonbIterator *ids;
			JsonbValue	iv;
			JsonbIteratorToken itok;
			WaPath		id_path = {&type_path, NULL, 0, 0};
			char	   *key_id = NULL;

			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("value at %s must be a JSON object of {id: value}",
								wa_path_string(&type_path))));

			ids = JsonbIteratorInit(v.val.binary.data);
			while ((itok = JsonbIteratorNext(&ids, &iv, true)) != WJB_DONE)
			{
				if (itok == WJB_KEY)
				{
					key_id = pnstrdup(iv.val.string.val, iv.val.string.len);
					id_path.key = iv.val.string.val;
					id_path.keylen = iv.val.string.len;
				}
				else if (itok == WJB_VALUE)
				{
					wa_writeset_add(set, key_type, key_id, &iv, &id_path);
					if (set->spilled)
						pfree(key_id);
				}
			}
		}
	}
}

/*
 * Ordering
 */

static int
keywrite_cmp(const void *a, const void *b)
{
	const WaKeyWrite *x = a;
	const WaKeyWrite *y = b;
	int			c = strcmp(x->key_type, y->key_type);

	if (c == 0)
		c = strcmp(x->key_id, y->key_id);
	if (c == 0)
		c = (x->ord > y->ord) - (x->ord < y->ord);
	return c;
}

/* Sort into lock order and keep only the last write of each key. */
static void
writeset_sort(WaWriteSet *set)
{
	int			i,
				kept = 0;

	if (set->count > 1)
		qsort(set->writes, set->count, sizeof(WaKeyWrite), keywrite_cmp);
	for (i = 0; i < set->count; i++)
	{
		WaKeyWrite *w = &set->writes[i];

		if (i + 1 < set->count &&
			strcmp(w->key_type, w[1].key_type) == 0 &&
			strcmp(w->key_id, w[1].key_id) == 0)
			continue;
		set->writes[kept++] = *w;
	}
	set->count = kept;
}

/*
 * Storage
 */

/*
 * Values are stored compressed when that makes them smaller.  PostgreSQL
 * compresses a value only in a row over TOAST_TUPLE_THRESHOLD (about 2 kB,
 * fixed when it is built: toast_tuple_target cannot go below it), and
 * nearly every key is smaller: a session is about 1 kB of jsonb, much of it
 * the same field names, "type":"Buffer" and jsonb's own entry headers,
 * which lz4 takes a fifth off.  A compressed inline datum is a form
 * PostgreSQL stores itself (a value copied from a compressed one keeps it)
 * and every reader decompresses; the value read back is the same.  pglz
 * finds nothing to compress in these values (it gives up when the first
 * kilobyte has no match), so a server built without lz4 stores them as
 * they are.  Values too short to gain are not tried.
 */
#define COMPRESS_MIN_BYTES 128

/* value compressed (palloc'd) if that makes it smaller, else NULL */
static struct varlena *
compressed_jsonb(const Jsonb *value)
{
#ifdef USE_LZ4
	if (VARSIZE(value) - VARHDRSZ >= COMPRESS_MIN_BYTES)
		return (struct varlena *)
			DatumGetPointer(toast_compress_datum(PointerGetDatum(value), TOAST_LZ4_COMPRESSION));
#endif
	return NULL;
}

/*
 * The jsonb[] of the values of writes[0..n-1], built from their containers
 * in one pass: construct_array() would want each as a standalone jsonb
 * first, a copy of every value that it would then copy again.  A batch
 * holds at most UPSERT_BATCH_BYTES plus one value: far below MaxAllocSize.
 * Each value is compressed in place where that makes it smaller
 * (construct_array() would decompress it again); unnest() hands it to the
 * INSERT as it is.
 */
static ArrayType *
value_array(const WaKeyWrite *writes, int n)
{
	Size		bytes = ARR_OVERHEAD_NONULLS(1);
	ArrayType  *array;
	char	   *p;
	int			i;

	for (i = 0; i < n; i++)
		bytes += INTALIGN(VARHDRSZ + writes[i].value_len);
	array = palloc(bytes);
	array->ndim = 1;
	array->dataoffset = 0;
	array->elemtype = JSONBOID;
	ARR_DIMS(array)[0] = n;
	ARR_LBOUND(array)[0] = 1;
	p = ARR_DATA_PTR(array);
	for (i = 0; i < n; i++)
	{
		Size		size = VARHDRSZ + writes[i].value_len;
		struct varlena *compressed;

		SET_VARSIZE(p, size);
		memcpy(p + VARHDRSZ, writes[i].value, writes[i].value_len);
		compressed = compressed_jsonb((Jsonb *) p);
		if (compressed != NULL)
		{
			size = VARSIZE(compressed);
			memcpy(p, compressed, size);
			pfree(compressed);
		}
		memset(p + size, 0, INTALIGN(size) - size);
		p += INTALIGN(size);
	}
	SET_VARSIZE(array, p - (char *) array);
	return array;
}

/* Upsert one key; its arguments are built in batch_cxt. */
static uint64
upsert_one(const char *company_id, const WaKeyWrite *w, List **ttl_cache,
		   MemoryContext batch_cxt)
{
	const WaTtlEntry *ttl = wa_ttl_cached(ttl_cache, w->key_type);
	MemoryContext caller = MemoryContextSwitchTo(batch_cxt);
	Jsonb	   *value = palloc(VARHDRSZ + w->value_len);
	struct varlena *compressed;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ttl->expires ? ' ' : 'n'};

	SET_VARSIZE(value, VARHDRSZ + w->value_len);
	memcpy(&value->root, w->value, w->value_len);
	compressed = compressed_jsonb(value);
	args[0] = CStringGetTextDatum(company_id);
	args[1] = CStringGetTextDatum(w->key_type);
	args[2] = CStringGetTextDatum(w->key_id);
	args[3] = compressed ? PointerGetDatum(compressed) : JsonbPGetDatum(value);
	args[4] = TimestampTzGetDatum(ttl->expires_at);
	wa_execute(&upsert_one_stmt, args, nulls, false, SPI_OK_INSERT);
	MemoryContextSwitchTo(caller);
	return SPI_processed;
}

/*
 * Upsert writes[0..n-1] (all with values, in lock order, one batch) in one
 * statement; its arrays are built in batch_cxt, which the caller resets.
 */
static uint64
upsert_run(const char *company_id, WaKeyWrite *writes, int n, List **ttl_cache,
		   MemoryContext batch_cxt)
{
	MemoryContext caller = CurrentMemoryContext;
	Datum	   *types = MemoryContextAlloc(batch_cxt, sizeof(Datum) * n);
	Datum	   *ids = MemoryContextAlloc(batch_cxt, sizeof(Datum) * n);
	Datum	   *expiries = MemoryContextAlloc(batch_cxt, sizeof(Datum) * n);
	bool	   *never = MemoryContextAlloc(batch_cxt, sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		args[5];
	int			i;

	for (i = 0; i < n; i++)
	{
		/* the cache outlives the batch: it stays in the caller's context */
		const WaTtlEntry *ttl = wa_ttl_cached(ttl_cache, writes[i].key_type);

		MemoryContextSwitchTo(batch_cxt);
		types[i] = CStringGetTextDatum(writes[i].key_type);
		ids[i] = CStringGetTextDatum(writes[i].key_id);
		MemoryContextSwitchTo(caller);
		never[i] = !ttl->expires;
		expiries[i] = TimestampTzGetDatum(ttl->expires_at);
	}
	MemoryContextSwitchTo(batch_cxt);
	args[0] = CStringGetTextDatum(company_id);
	args[1] = PointerGetDatum(construct_array(types, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(ids, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(value_array(writes, n));
	args[4] = PointerGetDatum(construct_md_array(expiries, never, 1, dims, lbs, TIMESTAMPTZOID,
												 sizeof(TimestampTz), true, TYPALIGN_DOUBLE));
	wa_execute(&upsert_stmt, args, NULL, false, SPI_OK_INSERT);
	MemoryContextSwitchTo(caller);
	return SPI_processed;
}

static uint64
delete_one(const char *company_id, const WaKeyWrite *w, MemoryContext batch_cxt)
{
	MemoryContext caller = MemoryContextSwitchTo(batch_cxt);
	Datum		args[3];

	args[0] = CStringGetTextDatum(company_id);
	args[1] = CStringGetTextDatum(w->key_type);
	args[2] = CStringGetTextDatum(w->key_id);
	wa_execute(&delete_stmt, args, NULL, false, SPI_OK_DELETE);
	MemoryContextSwitchTo(caller);
	return SPI_processed;
}

/*
 * Apply writes[0..n-1], sorted and one per key: runs of upserts as one
 * statement per batch, deletes in between.
 */
static void
apply_sorted(const char *company_id, WaKeyWrite *writes, int n, List **ttl_cache,
			 MemoryContext batch_cxt, uint64 *upserted, uint64 *deleted)
{
	int			start = 0;
	Size		batch_bytes = 0;
	int			i;

	for (i = 0; i <= n; i++)
	{
		bool		is_delete = (i < n && writes[i].value == NULL);
		bool		batch_full = (i < n && i > start &&
								  (i - start == UPSERT_BATCH_KEYS ||
								   batch_bytes + writes[i].value_len > UPSERT_BATCH_BYTES));

		if (i == n || is_delete || batch_full)
		{
			if (i - start == 1)
				*upserted += upsert_one(company_id, &writes[start], ttl_cache, batch_cxt);
			else if (i > start)
				*upserted += upsert_run(company_id, &writes[start], i - start,
										ttl_cache, batch_cxt);
			MemoryContextReset(batch_cxt);
			batch_bytes = 0;
			if (is_delete)
			{
				*deleted += delete_one(company_id, &writes[i], batch_cxt);
				MemoryContextReset(batch_cxt);
				start = i + 1;
				continue;
			}
			start = i;
		}
		if (i < n)
			batch_bytes += writes[i].value_len;
	}
}

/*
 * Apply spilled writes: read back in lock order a batch at a time, each
 * batch's records in chunk_cxt, reset after it.  Two writes of a key in
 * one batch keep the later; in two batches, the later statement writes
 * last, with the same result.
 */
static void
apply_spilled(const char *company_id, WaWriteSet *set, List **ttl_cache,
			  MemoryContext batch_cxt, uint64 *upserted, uint64 *deleted)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext chunk_cxt = AllocSetContextCreate(caller, "whatsapp_auth spilled batch",
													ALLOCSET_DEFAULT_SIZES);
	WaKeyWrite *chunk = palloc(sizeof(WaKeyWrite) * UPSERT_BATCH_KEYS);
	List	   *names = NIL;
	int			n = 0;
	Size		bytes = 0;
	Datum		d;
	bool		isnull;

	tuplesort_performsort(set->spilled);
	for (;;)
	{
		bool		more;
		WaKeyWrite w;

		MemoryContextSwitchTo(chunk_cxt);
		more = tuplesort_getdatum(set->spilled, true, &d, &isnull, NULL);
		MemoryContextSwitchTo(caller);
		if (more)
		{
			unspill_write((bytea *) DatumGetPointer(d), &w, &names);
			if (n > 0 && strcmp(chunk[n - 1].key_type, w.key_type) == 0 &&
				strcmp(chunk[n - 1].key_id, w.key_id) == 0)
			{
				bytes -= chunk[n - 1].value_len;
				n--;
			}
			chunk[n++] = w;
			bytes += w.value_len;
		}
		if (!more || n == UPSERT_BATCH_KEYS || bytes >= UPSERT_BATCH_BYTES)
		{
			apply_sorted(company_id, chunk, n, ttl_cache, batch_cxt, upserted, deleted);
			MemoryContextReset(chunk_cxt);
			n = 0;
			bytes = 0;
		}
		if (!more)
			break;
	}
	tuplesort_end(set->spilled);
	set->spilled = NULL;
	MemoryContextDelete(chunk_cxt);
	pfree(chunk);
}

/*
 * Apply a write set: sorted, deduplicated, runs of upserts as one statement
 * per batch, deletes in between.  All inside the caller's transaction, so
 * an error anywhere leaves nothing written.  The caller is SPI-connected.
 */
void
wa_writeset_apply(const char *company_id, WaWriteSet *set, uint64 *upserted, uint64 *deleted)
{
	List	   *ttl_cache = NIL;
	MemoryContext batch_cxt;

	*upserted = 0;
	*deleted = 0;
	if (set->spilled == NULL)
		writeset_sort(set);
	if (set->count == 0)
	{
		if (set->spilled)
			tuplesort_end(set->spilled);
		set->spilled = NULL;
		return;
	}
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "whatsapp_auth upsert batch",
									  ALLOCSET_DEFAULT_SIZES);
	if (set->spilled)
		apply_spilled(company_id, set, &ttl_cache, batch_cxt, upserted, deleted);
	else
		apply_sorted(company_id, set->writes, set->count, &ttl_cache, batch_cxt,
					 upserted, deleted);
	MemoryContextDelete(batch_cxt);
	wa_stats_keys_written(*upserted, *deleted);
}
