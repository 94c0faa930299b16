/*
 * transfer.c
 *	  Moving a company's auth state in and out: session_export() and
 *	  session_import() (backups, moving an account between databases), and
 *	  import_legacy() from the client-side tables this extension replaces.
 *
 * Imports go through the same write path as keys_set: every value is
 * checked and stored in canonical form, expiry comes from key_ttl, and one
 * call is one transaction.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "args.h"
#include "jsonb_buffers.h"
#include "keystore.h"
#include "lease.h"
#include "path.h"
#include "spi_plans.h"
#include "tenant.h"
#include "transfer.h"
#include "validate.h"
#include "value_size.h"
#include "writeset.h"

PG_FUNCTION_INFO_V1(wa_session_export);
PG_FUNCTION_INFO_V1(wa_session_import);
PG_FUNCTION_INFO_V1(wa_import_legacy);

/* Keys written per statement while importing a legacy table. */
#define IMPORT_BATCH 5000

static WaStatement export_stmt = {
	.sql = "SELECT CASE WHEN c.creds IS NULL AND k.keys IS NULL THEN NULL ELSE"
	" pg_catalog.jsonb_build_object('company_id', $1, 'exported_at', pg_catalog.now(),"
	"   'creds', c.creds, 'keys', COALESCE(k.keys, '{}'::pg_catalog.jsonb)) END"
	" FROM (SELECT (SELECT s.creds FROM whatsapp_auth.creds s"
	"               WHERE s.company_id " WA_OP("=") " $1) AS creds) c,"
	"      (SELECT pg_catalog.jsonb_object_agg(t.key_type, t.ids) AS keys FROM ("
	"         SELECT s.key_type, pg_catalog.jsonb_object_agg(s.key_id, s.value) AS ids"
	"         FROM whatsapp_auth.keys s WHERE s.company_id " WA_OP("=") " $1"
	"         AND (s.expires_at IS NULL OR s.expires_at " WA_OP(">") " pg_catalog.now())"
	"         GROUP BY s.key_type) t) k",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

/* SQL function: session_export(company_id text) returns jsonb */
Datum
wa_session_export(PG_FUNCTION_ARGS)
{
	return wa_company_value(fcinfo, &export_stmt);
}

/* The member key of an import document, or NULL when absent. */
static JsonbValue *
doc_member(Jsonb *doc, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(&doc->root, key, strlen(key), out);
}

static void
raise_bad_document(const char *member, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("value at $.%s must be %s", member, what),
			 errhint("session_import() takes what session_export() returns: "
					 "{\"company_id\": ..., \"creds\": {...}, \"keys\": {type: {id: value}}}.")));
}

/*
 * SQL function: session_import(doc jsonb, replace boolean, lease_token bigint) returns bigint
 *
 * Returns the rows written (creds and keys).
 */
Datum
wa_session_import(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc;
	bool		replace;
	JsonbValue	member;
	char	   *company_id;
	Jsonb	   *creds = NULL;
	WaWriteSet	set = {0};
	WaPath		keys_path = {NULL, "keys", 4, 0};
	WaPath		creds_path = {NULL, "creds", 5, 0};
	int64		rows;

	wa_arg_not_null(fcinfo, 0, "doc and replace", NULL);
	wa_arg_not_null(fcinfo, 1, "doc and replace", NULL);
	doc = PG_GETARG_JSONB_P(0);
	replace = PG_GETARG_BOOL(1);

	/* Everything is checked before anything is touched. */
	if (!JB_ROOT_IS_OBJECT(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value at $ must be a JSON object as session_export() returns")));
	if (doc_member(doc, "company_id", &member) == NULL || member.type != jbvString)
		raise_bad_document("company_id", "a string");
	company_id = pnstrdup(member.val.string.val, member.val.string.len);
	wa_check_company(company_id);

	if (doc_member(doc, "creds", &member) != NULL && member.type != jbvNull)
	{
		if (member.type != jbvBinary || !JsonContainerIsObject(member.val.binary.data))
			raise_bad_document("creds", "a JSON object or null");
		creds = wa_normalize_jsonb_value(&member, &creds_path);
		wa_check_value_size(VARSIZE(creds), &creds_path);
	}
	if (doc_member(doc, "keys", &member) != NULL && member.type != jbvNull)
	{
		if (member.type != jbvBinary)
			raise_bad_document("keys", "a JSON object of {type: {id: value}}");
		/* the writes of a document of any size: sorted, not kept */
		wa_writeset_spill(&set);
		wa_writeset_add_document(&set, member.val.binary.data, &keys_path);
	}

	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 2, company_id);
	rows = wa_load_company_state(company_id, creds, &set, replace);
	wa_spi_finish();
	PG_RETURN_INT64(rows);
}

/*
 * Store a company's checked creds (or NULL) and keys in place of what it
 * had: refused with 42710 when it has state, unless replace.  Returns the
 * rows written.  Shared by session_import and session_import_files; the
 * caller is SPI-connected.
 */
int64
wa_load_company_state(const char *company_id, Jsonb *creds, WaWriteSet *set,
					  bool replace)
{
	uint64		upserted,
				deleted;

	if (wa_company_has_state(company_id))
	{
		if (!replace)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("company \"%s\" already has auth state", company_id),
					 errhint("Pass replace => true to overwrite it.")));
		(void) wa_remove_company(company_id);
	}
	if (creds)
		wa_store_creds(company_id, creds);
	wa_writeset_apply(company_id, set, &upserted, &deleted);
	return (int64) upserted + (creds ? 1 : 0);
}

/*
 * import_legacy
 */

/* Rows fetched per cursor round trip. */
#define IMPORT_FETCH 1000

/*
 * One import_legacy() call.  Memory stays bounded by a batch whatever the
 * size of the legacy tables: each fetch's rows are freed once read, each
 * row is read in the scratch context (reset after it), and the pending keys
 * of a batch live in batch_cxt, reset after each flush.
 */
typedef struct LegacyImport
{
	MemoryContext scratch;
	MemoryContext batch_cxt;
	const char *table;			/* being read */
	WaWriteSet	set;			/* pending keys of company_id */
	char		company_id[64];
	int64		creds_rows;
	int64		key_rows;
} LegacyImport;

typedef void (*LegacyRowFn) (LegacyImport *imp, HeapTuple row, TupleDesc desc);

/* Run a query through a cursor, each row to fn, each fetch's rows freed after. */
static void
for_each_row(const char *sql, const char *table, LegacyImport *imp, LegacyRowFn fn)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);
	Portal		cursor;

	if (plan == NULL)
		elog(ERROR, "could not read %s: %s", table, SPI_result_code_string(SPI_result));
	cursor = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	imp->table = table;
	for (;;)
	{
		SPITupleTable *rows;
		uint64		nrows;
		uint64		i;

		SPI_cursor_fetch(cursor, true, IMPORT_FETCH);
		/* the writes fn makes replace SPI_tuptable: keep this one */
		rows = SPI_tuptable;
		nrows = SPI_processed;
		for (i = 0; i < nrows; i++)
		{
			MemoryContext caller = MemoryContextSwitchTo(imp->scratch);

			fn(imp, rows->vals[i], rows->tupdesc);
			MemoryContextSwitchTo(caller);
			MemoryContextReset(imp->scratch);
		}
		SPI_freetuptable(rows);
		if (nrows == 0)
			break;
	}
	SPI_cursor_close(cursor);
	SPI_freeplan(plan);
}

/* Copy one creds row of the legacy auth table. */
static void
import_creds_row(LegacyImport *imp, HeapTuple row, TupleDesc desc)
{
	bool		isnull;
	char	   *company_id = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
	Jsonb	   *creds = DatumGetJsonbP(SPI_getbinval(row, desc, 2, &isnull));

	wa_check_company_id(company_id);
	wa_lease_fence(company_id, false, 0);	/* refuses a live lease */
	if (!JB_ROOT_IS_OBJECT(creds))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("creds of company \"%s\" in %s is not a JSON object",
						company_id, imp->table)));
	creds = wa_normalize_value(creds, NULL);
	wa_check_value_size(VARSIZE(creds), NULL);
	wa_store_creds(company_id, creds);
	imp->creds_rows++;
}

/* Write the pending keys of one company, then forget them. */
static void
flush_company(LegacyImport *imp)
{
	uint64		upserted,
				deleted;

	if (imp->set.count > 0)
	{
		MemoryContext caller = MemoryContextSwitchTo(imp->batch_cxt);

		wa_writeset_apply(imp->company_id, &imp->set, &upserted, &deleted);
		MemoryContextSwitchTo(caller);
		imp->key_rows += upserted;
	}
	MemoryContextReset(imp->batch_cxt);
	memset(&imp->set, 0, sizeof(imp->set));
}

/* Add one row of the legacy keys table (ordered by company) to the batch. */
static void
import_key_row(LegacyImport *imp, HeapTuple row, TupleDesc desc)
{
	bool		isnull;
	char	   *row_company = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
	MemoryContext caller;
	char	   *key_type;
	char	   *key_id;
	Jsonb	   *value;
	WaPath		type_path;
	WaPath		id_path;
	JsonbValue	v;

	if (strcmp(imp->company_id, row_company) != 0 || imp->set.count >= IMPORT_BATCH)
	{
		flush_company(imp);
		wa_check_company_id(row_company);
		wa_lease_fence(row_company, false, 0);	/* refuses a live lease */
		strlcpy(imp->company_id, row_company, sizeof(imp->company_id));
	}

	caller = MemoryContextSwitchTo(imp->batch_cxt);
	key_type = TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull));
	key_id = TextDatumGetCString(SPI_getbinval(row, desc, 3, &isnull));
	value = DatumGetJsonbPCopy(SPI_getbinval(row, desc, 4, &isnull));
	type_path = (WaPath) {NULL, key_type, strlen(key_type), 0};
	id_path = (WaPath) {&type_path, key_id, strlen(key_id), 0};
	wa_check_key_type(key_type, strlen(key_type));
	v.type = jbvBinary;
	v.val.binary.data = &value->root;
	v.val.binary.len = VARSIZE(value) - VARHDRSZ;
	wa_writeset_add(&imp->set, key_type, key_id, &v, &id_path);
	MemoryContextSwitchTo(caller);
}

/* The count a one-value query gives. */
static int64
count_rows(const char *sql, const char *table)
{
	bool		isnull;
	int64		n;

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read %s", table);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* Schema-qualified, quoted name of a table, for a statement's text. */
static char *
qualified_table_name(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

/*
 * SQL function: import_legacy(auth_table regclass, keys_table regclass) returns bigint
 *
 * Copies the tables of the client-side store this extension replaces:
 * auth_table(company_id, creds, ...) and keys_table(company_id, key_type,
 * key_id, value, expires_at, ...).  Keys already expired there are skipped;
 * the others get their expiry from key_ttl.  Upserts, so running it twice
 * leaves the same state.  Returns creds rows plus keys copied.
 */
Datum
wa_import_legacy(PG_FUNCTION_ARGS)
{
	char	   *auth_table = qualified_table_name(PG_GETARG_OID(0));
	char	   *keys_table = qualified_table_name(PG_GETARG_OID(1));
	LegacyImport imp = {0};
	int64		skipped;

	wa_check_unpinned("import_legacy()");
	imp.scratch = AllocSetContextCreate(CurrentMemoryContext, "whatsapp_auth import row",
										ALLOCSET_DEFAULT_SIZES);
	imp.batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "whatsapp_auth import batch",
										  ALLOCSET_DEFAULT_SIZES);

	wa_spi_connect(0);
	wa_lease_lock_all();
	for_each_row(psprintf("SELECT a.company_id::pg_catalog.text, a.creds::pg_catalog.jsonb"
						  " FROM %s a WHERE a.creds IS NOT NULL", auth_table),
				 auth_table, &imp, import_creds_row);
	skipped = count_rows(psprintf("SELECT pg_catalog.count(*) FROM %s k"
								  " WHERE k.expires_at " WA_OP("<=") " pg_catalog.now()",
								  keys_table),
						 keys_table);
	for_each_row(psprintf("SELECT k.company_id::pg_catalog.text, k.key_type::pg_catalog.text,"
						  " k.key_id::pg_catalog.text, k.value::pg_catalog.jsonb"
						  " FROM %s k"
						  " WHERE k.expires_at IS NULL OR k.expires_at " WA_OP(">") " pg_catalog.now()"
						  " ORDER BY 1", keys_table),
				 keys_table, &imp, import_key_row);
	flush_company(&imp);
	wa_spi_finish();

	ereport(NOTICE,
			(errmsg("imported " INT64_FORMAT " creds rows from %s and " INT64_FORMAT " keys from %s",
					imp.creds_rows, auth_table, imp.key_rows, keys_table),
			 errdetail(INT64_FORMAT " keys already expired in %s were skipped.",
					   skipped, keys_table)));
	PG_RETURN_INT64(imp.creds_rows + imp.key_rows);
}
