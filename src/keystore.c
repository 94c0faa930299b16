/*
 * keystore.c
 *	  Creds and Signal keys of a company: the SQL functions Baileys' auth
 *	  state calls, over SPI with kept plans.
 *
 * Writes of a call are applied in one order, (key_type, key_id) bytewise,
 * whatever order the input had: two calls touching overlapping keys then
 * take their row locks in the same order and cannot deadlock.  Consecutive
 * upserts go to the server as one statement over arrays; a delete breaks the
 * run so the order holds across both kinds of write.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "whatsapp_auth.h"

PG_FUNCTION_INFO_V1(wa_creds_get);
PG_FUNCTION_INFO_V1(wa_creds_set);
PG_FUNCTION_INFO_V1(wa_keys_get);
PG_FUNCTION_INFO_V1(wa_keys_set);
PG_FUNCTION_INFO_V1(wa_keys_upsert);
PG_FUNCTION_INFO_V1(wa_keys_delete);
PG_FUNCTION_INFO_V1(wa_session_remove);
PG_FUNCTION_INFO_V1(wa_key_ttl);

/* One key write of a call: value NULL deletes. */
typedef struct KeyWrite
{
	char	   *key_type;
	char	   *key_id;
	Jsonb	   *value;
	int			ord;			/* position in the input: the last write wins */
} KeyWrite;

/* The writes of one call, growing as the input is read. */
typedef struct WriteSet
{
	KeyWrite   *writes;
	int			count;
	int			capacity;
} WriteSet;

/* TTL of one key type, looked up once per call. */
typedef struct TtlEntry
{
	const char *key_type;
	bool		never;
	Interval	ttl;
} TtlEntry;

/*
 * Statements.  Everything is schema-qualified, operators included, so
 * nothing on the caller's search_path can stand in for them.
 */
typedef enum StmtId
{
	STMT_CREDS_GET,
	STMT_CREDS_SET,
	STMT_KEYS_GET,
	STMT_KEYS_UPSERT,
	STMT_KEY_DELETE,
	STMT_SESSION_REMOVE,
	STMT_KEY_TTL,
	STMT_COUNT
} StmtId;

typedef struct StmtDef
{
	const char *sql;
	int			nargs;
	Oid			argtypes[5];
} StmtDef;

static const StmtDef stmt_defs[STMT_COUNT] = {
	[STMT_CREDS_GET] = {
		"SELECT c.creds FROM whatsapp_auth.creds c"
		" WHERE c.company_id OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	[STMT_CREDS_SET] = {
		"INSERT INTO whatsapp_auth.creds AS c (company_id, creds, created_at, updated_at)"
		" VALUES ($1, $2, pg_catalog.now(), pg_catalog.now())"
		" ON CONFLICT (company_id) DO UPDATE"
		" SET creds = excluded.creds, updated_at = excluded.updated_at",
		2, {TEXTOID, JSONBOID}
	},
	[STMT_KEYS_GET] = {
		"SELECT pg_catalog.jsonb_object_agg(k.key_id, k.value)"
		" FROM whatsapp_auth.keys k"
		" WHERE k.company_id OPERATOR(pg_catalog.=) $1"
		" AND k.key_type OPERATOR(pg_catalog.=) $2"
		" AND k.key_id OPERATOR(pg_catalog.=) ANY ($3)"
		" AND (k.expires_at IS NULL OR k.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())",
		3, {TEXTOID, TEXTOID, TEXTARRAYOID}
	},
	[STMT_KEYS_UPSERT] = {
		"INSERT INTO whatsapp_auth.keys AS k"
		" (company_id, key_type, key_id, value, updated_at, expires_at)"
		" SELECT $1, w.key_type, w.key_id, w.value, pg_catalog.now(),"
		"        pg_catalog.now() OPERATOR(pg_catalog.+) w.ttl"
		" FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3),"
		"                 pg_catalog.unnest($4), pg_catalog.unnest($5)) WITH ORDINALITY"
		"      AS w(key_type, key_id, value, ttl, ord)"
		" ORDER BY w.ord"
		" ON CONFLICT (company_id, key_type, key_id) DO UPDATE"
		" SET value = excluded.value, updated_at = excluded.updated_at,"
		"     expires_at = excluded.expires_at",
		5, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, JSONBARRAYOID, INTERVALARRAYOID}
	},
	[STMT_KEY_DELETE] = {
		"DELETE FROM whatsapp_auth.keys k"
		" WHERE k.company_id OPERATOR(pg_catalog.=) $1"
		" AND k.key_type OPERATOR(pg_catalog.=) $2"
		" AND k.key_id OPERATOR(pg_catalog.=) $3",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[STMT_SESSION_REMOVE] = {
		"WITH k AS (DELETE FROM whatsapp_auth.keys k"
		"           WHERE k.company_id OPERATOR(pg_catalog.=) $1 RETURNING 1),"
		"     c AS (DELETE FROM whatsapp_auth.creds c"
		"           WHERE c.company_id OPERATOR(pg_catalog.=) $1 RETURNING 1)"
		" SELECT (SELECT pg_catalog.count(*) FROM k) OPERATOR(pg_catalog.+)"
		"        (SELECT pg_catalog.count(*) FROM c)",
		1, {TEXTOID}
	},
	[STMT_KEY_TTL] = {
		/* the exact type's row if there is one, else the '*' row */
		"SELECT t.ttl FROM whatsapp_auth.key_ttl t"
		" WHERE t.key_type OPERATOR(pg_catalog.=) $1 OR t.key_type OPERATOR(pg_catalog.=) '*'"
		" ORDER BY t.key_type OPERATOR(pg_catalog.=) '*' LIMIT 1",
		1, {TEXTOID}
	},
};

static SPIPlanPtr stmt_plans[STMT_COUNT];

/* The kept plan of a statement, prepared on first use in this backend. */
static SPIPlanPtr
stmt_plan(StmtId id)
{
	if (stmt_plans[id] == NULL)
	{
		const StmtDef *def = &stmt_defs[id];
		SPIPlanPtr	plan = SPI_prepare(def->sql, def->nargs, (Oid *) def->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 def->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		stmt_plans[id] = plan;
	}
	return stmt_plans[id];
}

/* Run a statement; expected is the SPI code success must return. */
static void
stmt_exec(StmtId id, Datum *values, const char *nulls, bool read_only, int expected)
{
	int			rc = SPI_execute_plan(stmt_plan(id), values, nulls, read_only, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 stmt_defs[id].sql, SPI_result_code_string(rc));
}

/* The first column of the first result row, copied out of SPI memory. */
static Datum
stmt_result(bool *isnull)
{
	TupleDesc	tupdesc = SPI_tuptable->tupdesc;
	Datum		d;

	if (SPI_processed == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	d = SPI_getbinval(SPI_tuptable->vals[0], tupdesc, 1, isnull);
	if (*isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, TupleDescAttr(tupdesc, 0)->attbyval,
							 TupleDescAttr(tupdesc, 0)->attlen);
}

/*
 * Arguments
 */

/* A text argument that must not be NULL (writers refuse NULL: see the SQL). */
static text *
required_text_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return PG_GETARG_TEXT_PP(n);
}

/* The company_id argument, checked. */
static char *
company_arg(FunctionCallInfo fcinfo, int n)
{
	char	   *company_id = text_to_cstring(required_text_arg(fcinfo, n, "company_id"));

	wa_check_company_id(company_id);
	return company_id;
}

/* The key_type argument, checked. */
static char *
key_type_arg(FunctionCallInfo fcinfo, int n)
{
	char	   *key_type = text_to_cstring(required_text_arg(fcinfo, n, "key_type"));

	wa_check_key_type(key_type, strlen(key_type));
	return key_type;
}

/* A text[] argument as C strings; NULL elements are refused. */
static char **
text_array_arg(FunctionCallInfo fcinfo, int n, const char *name, int *count)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			i;

	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	arr = PG_GETARG_ARRAYTYPE_P(n);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", name)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, count);
	out = palloc(sizeof(char *) * Max(*count, 1));
	for (i = 0; i < *count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s[%d] must not be null", name, i + 1)));
		out[i] = TextDatumGetCString(elems[i]);
	}
	return out;
}

/*
 * Write sets
 */

static void
writeset_add(WriteSet *set, char *key_type, char *key_id, Jsonb *value)
{
	KeyWrite   *w;

	if (set->count == set->capacity)
	{
		set->capacity = Max(16, set->capacity * 2);
		set->writes = set->writes ?
			repalloc_huge(set->writes, sizeof(KeyWrite) * set->capacity) :
			palloc_extended(sizeof(KeyWrite) * set->capacity, MCXT_ALLOC_HUGE);
	}
	w = &set->writes[set->count];
	w->key_type = key_type;
	w->key_id = key_id;
	w->value = value;
	w->ord = set->count++;
}

/*
 * Add one key write; value is a JSON null (delete) or any JSON value, which
 * is checked and stored in canonical form.
 */
static void
writeset_add_json(WriteSet *set, char *key_type, char *key_id,
				  JsonbValue *value, const WaPath *path)
{
	Jsonb	   *canonical = NULL;

	wa_check_key_id(key_id, strlen(key_id));
	if (value != NULL && value->type != jbvNull)
	{
		canonical = wa_normalize_jsonb_value(value, path);
		wa_check_value_size(canonical, path);
	}
	writeset_add(set, key_type, key_id, canonical);
}

static int
keywrite_cmp(const void *a, const void *b)
{
	const KeyWrite *x = a;
	const KeyWrite *y = b;
	int			c = strcmp(x->key_type, y->key_type);

	if (c == 0)
		c = strcmp(x->key_id, y->key_id);
	if (c == 0)
		c = (x->ord > y->ord) - (x->ord < y->ord);
	return c;
}

/* Sort into lock order and keep only the last write of each key. */
static void
writeset_sort(WriteSet *set)
{
	int			i,
				kept = 0;

	if (set->count > 1)
		qsort(set->writes, set->count, sizeof(KeyWrite), keywrite_cmp);
	for (i = 0; i < set->count; i++)
	{
		KeyWrite   *w = &set->writes[i];

		if (i + 1 < set->count &&
			strcmp(w->key_type, w[1].key_type) == 0 &&
			strcmp(w->key_id, w[1].key_id) == 0)
			continue;
		set->writes[kept++] = *w;
	}
	set->count = kept;
}

/*
 * TTL policy
 */

/* The TTL of key_type: exact row, else the '*' row; never when neither. */
static void
ttl_lookup(const char *key_type, bool *never, Interval *ttl)
{
	Datum		arg = CStringGetTextDatum(key_type);
	Datum		d;
	bool		isnull;

	stmt_exec(STMT_KEY_TTL, &arg, NULL, true, SPI_OK_SELECT);
	d = stmt_result(&isnull);
	*never = isnull;
	if (!isnull)
		*ttl = *DatumGetIntervalP(d);
}

/* TTL of a type through the call's cache (a call rarely has more than two). */
static TtlEntry *
ttl_cached(List **cache, const char *key_type)
{
	ListCell   *lc;
	TtlEntry   *e;

	foreach(lc, *cache)
	{
		e = lfirst(lc);
		if (strcmp(e->key_type, key_type) == 0)
			return e;
	}
	e = palloc(sizeof(TtlEntry));
	e->key_type = key_type;
	ttl_lookup(key_type, &e->never, &e->ttl);
	*cache = lappend(*cache, e);
	return e;
}

/*
 * Storage
 */

/* Upsert writes[0..n-1] (all with values, in lock order) in one statement. */
static uint64
upsert_run(const char *company_id, KeyWrite *writes, int n, List **ttl_cache)
{
	Datum	   *types = palloc(sizeof(Datum) * n);
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *values = palloc(sizeof(Datum) * n);
	Datum	   *ttls = palloc(sizeof(Datum) * n);
	bool	   *ttl_nulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		args[5];
	int			i;

	for (i = 0; i < n; i++)
	{
		TtlEntry   *ttl = ttl_cached(ttl_cache, writes[i].key_type);

		types[i] = CStringGetTextDatum(writes[i].key_type);
		ids[i] = CStringGetTextDatum(writes[i].key_id);
		values[i] = JsonbPGetDatum(writes[i].value);
		ttl_nulls[i] = ttl->never;
		ttls[i] = IntervalPGetDatum(&ttl->ttl);
	}
	args[0] = CStringGetTextDatum(company_id);
	args[1] = PointerGetDatum(construct_array(types, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(ids, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(values, n, JSONBOID, -1, false, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_md_array(ttls, ttl_nulls, 1, dims, lbs, INTERVALOID,
												 sizeof(Interval), false, TYPALIGN_DOUBLE));
	stmt_exec(STMT_KEYS_UPSERT, args, NULL, false, SPI_OK_INSERT);
	return SPI_processed;
}

static uint64
delete_one(const char *company_id, const KeyWrite *w)
{
	Datum		args[3];

	args[0] = CStringGetTextDatum(company_id);
	args[1] = CStringGetTextDatum(w->key_type);
	args[2] = CStringGetTextDatum(w->key_id);
	stmt_exec(STMT_KEY_DELETE, args, NULL, false, SPI_OK_DELETE);
	return SPI_processed;
}

/*
 * Apply a write set: sorted, deduplicated, runs of upserts as one statement
 * each, deletes in between.  All inside the caller's transaction, so an
 * error anywhere leaves nothing written.
 */
static void
writeset_apply(const char *company_id, WriteSet *set, uint64 *upserted, uint64 *deleted)
{
	List	   *ttl_cache = NIL;
	int			start = 0;
	int			i;

	*upserted = 0;
	*deleted = 0;
	writeset_sort(set);
	if (set->count == 0)
		return;

	SPI_connect();
	for (i = 0; i <= set->count; i++)
	{
		bool		is_delete = (i < set->count && set->writes[i].value == NULL);

		if (i == set->count || is_delete)
		{
			if (i > start)
				*upserted += upsert_run(company_id, &set->writes[start], i - start, &ttl_cache);
			if (is_delete)
				*deleted += delete_one(company_id, &set->writes[i]);
			start = i + 1;
		}
	}
	SPI_finish();
}

/*
 * SQL functions
 */

/* SQL function: creds_get(company_id text) returns jsonb */
Datum
wa_creds_get(PG_FUNCTION_ARGS)
{
	Datum		arg = CStringGetTextDatum(company_arg(fcinfo, 0));
	Datum		creds;
	bool		isnull;

	SPI_connect();
	stmt_exec(STMT_CREDS_GET, &arg, NULL, true, SPI_OK_SELECT);
	creds = stmt_result(&isnull);
	SPI_finish();
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(creds);
}

/* SQL function: creds_set(company_id text, creds jsonb) returns void */
Datum
wa_creds_set(PG_FUNCTION_ARGS)
{
	char	   *company_id = company_arg(fcinfo, 0);
	Jsonb	   *creds;
	Datum		args[2];

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("creds must not be null"),
				 errhint("Use session_remove() to forget a company.")));
	creds = PG_GETARG_JSONB_P(1);
	if (!JB_ROOT_IS_OBJECT(creds))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("creds of company \"%s\" must be a JSON object", company_id)));
	creds = wa_normalize_value(creds, NULL);
	wa_check_value_size(creds, NULL);

	args[0] = CStringGetTextDatum(company_id);
	args[1] = JsonbPGetDatum(creds);
	SPI_connect();
	stmt_exec(STMT_CREDS_SET, args, NULL, false, SPI_OK_INSERT);
	SPI_finish();
	PG_RETURN_VOID();
}

/* SQL function: keys_get(company_id text, key_type text, ids text[]) returns jsonb */
Datum
wa_keys_get(PG_FUNCTION_ARGS)
{
	Datum		args[3];
	Datum		result;
	bool		isnull;

	args[0] = CStringGetTextDatum(company_arg(fcinfo, 0));
	args[1] = CStringGetTextDatum(key_type_arg(fcinfo, 1));
	args[2] = PG_GETARG_DATUM(2);

	SPI_connect();
	stmt_exec(STMT_KEYS_GET, args, NULL, true, SPI_OK_SELECT);
	result = stmt_result(&isnull);
	SPI_finish();
	if (isnull)
	{
		JsonbParseState *state = NULL;

		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		PG_RETURN_JSONB_P(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL)));
	}
	PG_RETURN_DATUM(result);
}

/*
 * The writes of a keys_set document {type: {id: value|null}}; anything not
 * of that shape is refused before a row is touched.
 */
static void
read_signal_data_set(Jsonb *data, WriteSet *set)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key_type = NULL;
	WaPath		type_path = {NULL, NULL, 0, 0};

	if (!JB_ROOT_IS_OBJECT(data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("data must be a JSON object of {type: {id: value}}")));

	it = JsonbIteratorInit(&data->root);
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
			JsonbIterator *inner;
			JsonbValue	iv;
			JsonbIteratorToken itok;
			WaPath		id_path = {&type_path, NULL, 0, 0};
			char	   *key_id = NULL;

			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("value at %s must be a JSON object of {id: value}",
								wa_path_string(&type_path))));

			inner = JsonbIteratorInit(v.val.binary.data);
			while ((itok = JsonbIteratorNext(&inner, &iv, true)) != WJB_DONE)
			{
				if (itok == WJB_KEY)
				{
					key_id = pnstrdup(iv.val.string.val, iv.val.string.len);
					id_path.key = iv.val.string.val;
					id_path.keylen = iv.val.string.len;
				}
				else if (itok == WJB_VALUE)
					writeset_add_json(set, key_type, key_id, &iv, &id_path);
			}
		}
	}
}

/* SQL function: keys_set(company_id text, data jsonb, OUT upserted int, OUT deleted int) */
Datum
wa_keys_set(PG_FUNCTION_ARGS)
{
	char	   *company_id = company_arg(fcinfo, 0);
	WriteSet	set = {0};
	uint64		upserted,
				deleted;
	TupleDesc	tupdesc;
	Datum		result[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("data must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "keys_set must be declared with OUT parameters");

	read_signal_data_set(PG_GETARG_JSONB_P(1), &set);
	writeset_apply(company_id, &set, &upserted, &deleted);

	result[0] = Int32GetDatum((int32) upserted);
	result[1] = Int32GetDatum((int32) deleted);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), result, nulls)));
}

/*
 * SQL function: keys_upsert(company_id text, key_type text, ids text[], vals jsonb[]) returns int
 *
 * Returns the number of keys written plus the number deleted.  A NULL
 * element of vals (SQL or JSON null) deletes that id.
 */
Datum
wa_keys_upsert(PG_FUNCTION_ARGS)
{
	char	   *company_id = company_arg(fcinfo, 0);
	char	   *key_type = key_type_arg(fcinfo, 1);
	int			nids,
				nvals;
	char	  **ids = text_array_arg(fcinfo, 2, "ids", &nids);
	Datum	   *vals = NULL;
	bool	   *val_nulls = NULL;
	WriteSet	set = {0};
	WaPath		type_path = {NULL, key_type, strlen(key_type), 0};
	uint64		upserted,
				deleted;
	int			i;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("vals must not be null")));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), JSONBOID, -1, false, TYPALIGN_INT,
					  &vals, &val_nulls, &nvals);
	if (nvals != nids)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ids has %d elements but vals has %d", nids, nvals)));

	for (i = 0; i < nids; i++)
	{
		WaPath		id_path = {&type_path, ids[i], strlen(ids[i]), 0};
		JsonbValue	v;

		Jsonb	   *jb = val_nulls[i] ? NULL : DatumGetJsonbP(vals[i]);

		/* SQL NULL or JSON null deletes, as null does in keys_set */
		if (jb == NULL ||
			(JB_ROOT_IS_SCALAR(jb) && JsonbExtractScalar(&jb->root, &v) && v.type == jbvNull))
			writeset_add_json(&set, key_type, ids[i], NULL, &id_path);
		else
		{
			v.type = jbvBinary;
			v.val.binary.data = &jb->root;
			v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
			writeset_add_json(&set, key_type, ids[i], &v, &id_path);
		}
	}
	writeset_apply(company_id, &set, &upserted, &deleted);
	PG_RETURN_INT32((int32) (upserted + deleted));
}

/* SQL function: keys_delete(company_id text, key_type text, ids text[]) returns int */
Datum
wa_keys_delete(PG_FUNCTION_ARGS)
{
	char	   *company_id = company_arg(fcinfo, 0);
	char	   *key_type = key_type_arg(fcinfo, 1);
	int			nids;
	char	  **ids = text_array_arg(fcinfo, 2, "ids", &nids);
	WriteSet	set = {0};
	uint64		upserted,
				deleted;
	int			i;

	for (i = 0; i < nids; i++)
		writeset_add_json(&set, key_type, ids[i], NULL, NULL);
	writeset_apply(company_id, &set, &upserted, &deleted);
	PG_RETURN_INT32((int32) deleted);
}

/* SQL function: session_remove(company_id text) returns bigint */
Datum
wa_session_remove(PG_FUNCTION_ARGS)
{
	Datum		arg = CStringGetTextDatum(company_arg(fcinfo, 0));
	Datum		removed;
	bool		isnull;

	SPI_connect();
	stmt_exec(STMT_SESSION_REMOVE, &arg, NULL, false, SPI_OK_SELECT);
	removed = stmt_result(&isnull);
	SPI_finish();
	PG_RETURN_DATUM(removed);
}

/* SQL function: key_ttl(key_type text) returns interval */
Datum
wa_key_ttl(PG_FUNCTION_ARGS)
{
	char	   *key_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		never;
	Interval   *ttl = palloc(sizeof(Interval));

	if (strcmp(key_type, "*") != 0)
		wa_check_key_type(key_type, strlen(key_type));
	SPI_connect();
	ttl_lookup(key_type, &never, ttl);
	SPI_finish();
	if (never)
		PG_RETURN_NULL();
	PG_RETURN_INTERVAL_P(ttl);
}
