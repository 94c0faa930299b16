/*
 * keystore.c
 *	  Creds and Signal keys of a company: the SQL functions Baileys' auth
 *	  state calls.  Key writes go through writeset.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "args.h"
#include "jsonb_buffers.h"
#include "jsonb_object.h"
#include "keystore.h"
#include "lease.h"
#include "path.h"
#include "spi_plans.h"
#include "stats.h"
#include "value_size.h"
#include "writeset.h"

PG_FUNCTION_INFO_V1(wa_creds_get);
PG_FUNCTION_INFO_V1(wa_creds_set);
PG_FUNCTION_INFO_V1(wa_keys_get);
PG_FUNCTION_INFO_V1(wa_keys_set);
PG_FUNCTION_INFO_V1(wa_keys_upsert);
PG_FUNCTION_INFO_V1(wa_keys_delete);
PG_FUNCTION_INFO_V1(wa_keys_clear);
PG_FUNCTION_INFO_V1(wa_session_remove);

static WaStatement creds_get_stmt = {
	.sql = "SELECT c.creds FROM whatsapp_auth.creds c"
	" WHERE c.company_id " WA_OP("=") " $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement creds_set_stmt = {
	.sql = "INSERT INTO whatsapp_auth.creds AS c (company_id, creds, created_at, updated_at)"
	" VALUES ($1, $2, pg_catalog.now(), pg_catalog.now())"
	" ON CONFLICT (company_id) DO UPDATE"
	" SET creds = excluded.creds, updated_at = excluded.updated_at",
	.nargs = 2,
	.argtypes = {TEXTOID, JSONBOID},
	.cursor_options = WA_GENERIC_PLAN,
};

/* keys_get: the live keys of one company and key type, selected by key_id */
#define KEYS_GET_SQL(key_id_condition) \
	"SELECT k.key_id, k.value" \
	" FROM whatsapp_auth.keys k" \
	" WHERE k.company_id " WA_OP("=") " $1" \
	" AND k.key_type " WA_OP("=") " $2" \
	" AND k.key_id " key_id_condition \
	" AND (k.expires_at IS NULL OR k.expires_at " WA_OP(">") " pg_catalog.now())"

/*
 * Several ids.  Until the table has statistics, the generic plan of "= ANY"
 * over an array of unknown length scans the company's whole key type; a
 * plan fenced to one primary-key probe per id was slower for 100 ids once
 * the table is analyzed, so this stays.
 */
static WaStatement keys_get_stmt = {
	.sql = KEYS_GET_SQL(WA_OP("=") " ANY ($3)"),
	.nargs = 3,
	.argtypes = {TEXTOID, TEXTOID, TEXTARRAYOID},
	.cursor_options = WA_GENERIC_PLAN,
};

/*
 * One id, the commonest read: an equality on the whole primary key, one
 * index probe with or without statistics.
 */
static WaStatement keys_get_one_stmt = {
	.sql = KEYS_GET_SQL(WA_OP("=") " $3"),
	.nargs = 3,
	.argtypes = {TEXTOID, TEXTOID, TEXTOID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement keys_clear_stmt = {
	.sql = "DELETE FROM whatsapp_auth.keys k WHERE k.company_id " WA_OP("=") " $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static WaStatement session_remove_stmt = {
	.sql = "WITH k AS (DELETE FROM whatsapp_auth.keys k"
	"           WHERE k.company_id " WA_OP("=") " $1 RETURNING 1),"
	"     c AS (DELETE FROM whatsapp_auth.creds c"
	"           WHERE c.company_id " WA_OP("=") " $1 RETURNING 1)"
	" SELECT (SELECT pg_catalog.count(*) FROM k) " WA_OP("+")
	"        (SELECT pg_catalog.count(*) FROM c)",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static WaStatement has_state_stmt = {
	.sql = "SELECT EXISTS (SELECT FROM whatsapp_auth.creds c WHERE c.company_id " WA_OP("=") " $1)"
	"    OR EXISTS (SELECT FROM whatsapp_auth.keys k WHERE k.company_id " WA_OP("=") " $1)",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

/*
 * Company rows, for the entry points that move whole companies; the caller
 * is SPI-connected.
 */

/* Store a company's creds (canonical, checked). */
void
wa_store_creds(const char *company_id, Jsonb *creds)
{
	Datum		args[2];

	args[0] = CStringGetTextDatum(company_id);
	args[1] = JsonbPGetDatum(creds);
	wa_stats_bytes_in(VARSIZE(creds));
	wa_execute(&creds_set_stmt, args, NULL, false, SPI_OK_INSERT);
}

/* Has the company creds or keys (expired ones too)? */
bool
wa_company_has_state(const char *company_id)
{
	Datum		arg = CStringGetTextDatum(company_id);
	bool		isnull;

	return DatumGetBool(wa_execute_value(&has_state_stmt, &arg, NULL, true, &isnull));
}

/* Delete a company's creds and keys; returns the rows deleted. */
int64
wa_remove_company(const char *company_id)
{
	Datum		arg = CStringGetTextDatum(company_id);
	bool		isnull;

	return DatumGetInt64(wa_execute_value(&session_remove_stmt, &arg, NULL, false, &isnull));
}

/*
 * SQL functions
 */

/*
 * The whole of a reader whose answer is one value of one statement over
 * the company argument (argument 0): NULL when there is none.
 */
Datum
wa_company_value(FunctionCallInfo fcinfo, WaStatement *stmt)
{
	Datum		arg = CStringGetTextDatum(wa_company_arg(fcinfo, 0));
	Datum		value;
	bool		isnull;

	wa_spi_connect(0);
	value = wa_execute_value(stmt, &arg, NULL, true, &isnull);
	wa_spi_finish();
	wa_stats_bytes_out(isnull ? 0 : VARSIZE_ANY(DatumGetPointer(value)));
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(value);
}

/* SQL function: creds_get(company_id text) returns jsonb */
Datum
wa_creds_get(PG_FUNCTION_ARGS)
{
	return wa_company_value(fcinfo, &creds_get_stmt);
}

/* SQL function: creds_set(company_id text, creds jsonb, lease_token bigint) returns void */
Datum
wa_creds_set(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	Jsonb	   *creds;

	wa_arg_not_null(fcinfo, 1, "creds", "Use session_remove() to forget a company.");
	creds = PG_GETARG_JSONB_P(1);
	if (!JB_ROOT_IS_OBJECT(creds))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("creds of company \"%s\" must be a JSON object", company_id)));
	creds = wa_normalize_value(creds, NULL);
	wa_check_value_size(VARSIZE(creds), NULL);
	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 2, company_id);
	wa_store_creds(company_id, creds);
	wa_spi_finish();
	PG_RETURN_VOID();
}

/* If ids holds exactly one id, not null, set *id to it. */
static bool
single_id(ArrayType *ids, Datum *id)
{
	Datum	   *elems;
	int			n;

	if (ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids)) != 1 || ARR_HASNULL(ids))
		return false;
	deconstruct_array(ids, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
	*id = elems[0];
	return true;
}

/*
 * Select the live keys keys_get asks for (arguments: company, key type,
 * ids); the caller is SPI-connected; the rows (key_id, value) are left in
 * SPI_tuptable.
 */
void
wa_keys_select(FunctionCallInfo fcinfo)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(2);
	WaStatement *stmt = &keys_get_stmt;
	Datum		args[3];

	args[0] = CStringGetTextDatum(wa_company_arg(fcinfo, 0));
	args[1] = CStringGetTextDatum(wa_key_type_arg(fcinfo, 1));
	args[2] = PointerGetDatum(ids);
	if (single_id(ids, &args[2]))
		stmt = &keys_get_one_stmt;
	wa_execute(stmt, args, NULL, true, SPI_OK_SELECT);
}

/* SQL function: keys_get(company_id text, key_type text, ids text[]) returns jsonb */
Datum
wa_keys_get(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	WaJsonbPair *pairs;
	Jsonb	   *result;
	uint64		i;

	wa_spi_connect(0);
	wa_keys_select(fcinfo);
	pairs = palloc(sizeof(WaJsonbPair) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		bool		isnull;
		text	   *id = DatumGetTextPP(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));

		pairs[i].key = VARDATA_ANY(id);
		pairs[i].keylen = VARSIZE_ANY_EXHDR(id);
		pairs[i].value = DatumGetJsonbP(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
	}
	/* the result outlives SPI: build it in the caller's context */
	MemoryContextSwitchTo(caller);
	result = wa_jsonb_object(pairs, (int) SPI_processed);
	wa_stats_keys_read(SPI_processed, VARSIZE(result));
	wa_spi_finish();
	PG_RETURN_JSONB_P(result);
}

/*
 * The rest of keys_set and keys_set_text once their document is collected:
 * fenced by argument 2, applied, and (upserted, deleted) as the result.
 */
Datum
wa_keys_set_apply(FunctionCallInfo fcinfo, const char *company_id, WaWriteSet *set)
{
	uint64		upserted,
				deleted;
	TupleDesc	tupdesc;
	Datum		result[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "a keys_set function must be declared with OUT parameters");
	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 2, company_id);
	wa_writeset_apply(company_id, set, &upserted, &deleted);
	wa_spi_finish();

	result[0] = Int32GetDatum((int32) upserted);
	result[1] = Int32GetDatum((int32) deleted);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), result, nulls)));
}

/* SQL function: keys_set(company_id text, data jsonb, lease_token bigint, OUT upserted int, OUT deleted int) */
Datum
wa_keys_set(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	WaWriteSet	set = {0};

	wa_arg_not_null(fcinfo, 1, "data", NULL);
	wa_writeset_add_document(&set, &PG_GETARG_JSONB_P(1)->root, NULL);
	return wa_keys_set_apply(fcinfo, company_id, &set);
}

/*
 * SQL function: keys_upsert(company_id text, key_type text, ids text[], vals jsonb[], lease_token bigint) returns int
 *
 * Returns the number of keys written plus the number deleted.  A NULL
 * element of vals (SQL or JSON null) deletes that id.
 */
Datum
wa_keys_upsert(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	char	   *key_type = wa_key_type_arg(fcinfo, 1);
	int			nids,
				nvals;
	char	  **ids = wa_text_array_arg(fcinfo, 2, "ids", &nids);
	Datum	   *vals = NULL;
	bool	   *val_nulls = NULL;
	WaWriteSet	set = {0};
	WaPath		type_path = {NULL, key_type, strlen(key_type), 0};
	uint64		upserted,
				deleted;
	int			i;

	wa_arg_not_null(fcinfo, 3, "vals", NULL);
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
			wa_writeset_add(&set, key_type, ids[i], NULL, &id_path);
		else
		{
			v.type = jbvBinary;
			v.val.binary.data = &jb->root;
			v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
			wa_writeset_add(&set, key_type, ids[i], &v, &id_path);
		}
	}
	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 4, company_id);
	wa_writeset_apply(company_id, &set, &upserted, &deleted);
	wa_spi_finish();
	PG_RETURN_INT32((int32) (upserted + deleted));
}

/* SQL function: keys_delete(company_id text, key_type text, ids text[], lease_token bigint) returns int */
Datum
wa_keys_delete(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	char	   *key_type = wa_key_type_arg(fcinfo, 1);
	int			nids;
	char	  **ids = wa_text_array_arg(fcinfo, 2, "ids", &nids);
	WaWriteSet	set = {0};
	uint64		upserted,
				deleted;
	int			i;

	for (i = 0; i < nids; i++)
		wa_writeset_add(&set, key_type, ids[i], NULL, NULL);
	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 3, company_id);
	wa_writeset_apply(company_id, &set, &upserted, &deleted);
	wa_spi_finish();
	PG_RETURN_INT32((int32) deleted);
}

/* SQL function: keys_clear(company_id text, lease_token bigint) returns bigint */
Datum
wa_keys_clear(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	Datum		arg = CStringGetTextDatum(company_id);
	uint64		removed;

	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 1, company_id);
	wa_execute(&keys_clear_stmt, &arg, NULL, false, SPI_OK_DELETE);
	removed = SPI_processed;
	wa_stats_keys_written(0, removed);
	wa_spi_finish();
	PG_RETURN_INT64((int64) removed);
}

/* SQL function: session_remove(company_id text, lease_token bigint) returns bigint */
Datum
wa_session_remove(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	int64		removed;

	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 1, company_id);
	removed = wa_remove_company(company_id);
	wa_spi_finish();
	PG_RETURN_INT64(removed);
}
