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
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "lease.h"
#include "whatsapp_auth.h"

PG_FUNCTION_INFO_V1(wa_session_export);
PG_FUNCTION_INFO_V1(wa_session_import);
PG_FUNCTION_INFO_V1(wa_import_legacy);

/* Keys written per statement while importing a legacy table. */
#define IMPORT_BATCH 5000

static WaStatement export_stmt = {
	"SELECT CASE WHEN c.creds IS NULL AND k.keys IS NULL THEN NULL ELSE"
	" pg_catalog.jsonb_build_object('company_id', $1, 'exported_at', pg_catalog.now(),"
	"   'creds', c.creds, 'keys', COALESCE(k.keys, '{}'::pg_catalog.jsonb)) END"
	" FROM (SELECT (SELECT s.creds FROM whatsapp_auth.creds s"
	"               WHERE s.company_id " WA_OP("=") " $1) AS creds) c,"
	"      (SELECT pg_catalog.jsonb_object_agg(t.key_type, t.ids) AS keys FROM ("
	"         SELECT s.key_type, pg_catalog.jsonb_object_agg(s.key_id, s.value) AS ids"
	"         FROM whatsapp_auth.keys s WHERE s.company_id " WA_OP("=") " $1"
	"         AND (s.expires_at IS NULL OR s.expires_at " WA_OP(">") " pg_catalog.now())"
	"         GROUP BY s.key_type) t) k",
	1, {TEXTOID}, NULL, 0
};

static WaStatement has_state_stmt = {
	"SELECT EXISTS (SELECT FROM whatsapp_auth.creds c WHERE c.company_id " WA_OP("=") " $1)"
	"    OR EXISTS (SELECT FROM whatsapp_auth.keys k WHERE k.company_id " WA_OP("=") " $1)",
	1, {TEXTOID}, NULL, 0
};

/* SQL function: session_export(company_id text) returns jsonb */
Datum
wa_session_export(PG_FUNCTION_ARGS)
{
	char	   *company_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Datum		arg;
	Datum		doc;
	bool		isnull;

	wa_check_company_id(company_id);
	wa_check_company_access(company_id);
	arg = CStringGetTextDatum(company_id);
	SPI_connect();
	wa_execute(&export_stmt, &arg, NULL, true, SPI_OK_SELECT);
	doc = wa_first_value(&isnull);
	SPI_finish();
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(doc);
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
	Datum		arg;
	bool		isnull;
	uint64		upserted,
				deleted;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("doc and replace must not be null")));
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
	wa_check_company_id(company_id);
	wa_check_company_access(company_id);

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
		wa_writeset_add_document(&set, member.val.binary.data, &keys_path);
	}

	wa_lease_fence_arg(fcinfo, 2, company_id);
	arg = CStringGetTextDatum(company_id);
	SPI_connect();
	wa_execute(&has_state_stmt, &arg, NULL, true, SPI_OK_SELECT);
	if (DatumGetBool(wa_first_value(&isnull)))
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
	SPI_finish();

	wa_writeset_apply(company_id, &set, &upserted, &deleted);
	PG_RETURN_INT64((int64) upserted + (creds ? 1 : 0));
}

/*
 * import_legacy
 */

/* Write one company's pending keys, then forget them. */
static void
flush_company(const char *company_id, WaWriteSet *set, MemoryContext batch_cxt,
			  int64 *imported)
{
	uint64		upserted,
				deleted;

	if (set->count > 0)
	{
		wa_writeset_apply(company_id, set, &upserted, &deleted);
		*imported += upserted;
	}
	MemoryContextReset(batch_cxt);
	memset(set, 0, sizeof(*set));
}

/* Copy the creds rows of the legacy auth table; returns how many. */
static int64
import_legacy_creds(const char *auth_table)
{
	char	   *sql = psprintf("SELECT a.company_id::pg_catalog.text, a.creds::pg_catalog.jsonb"
							   " FROM %s a WHERE a.creds IS NOT NULL", auth_table);
	int64		imported = 0;
	SPITupleTable *rows;
	uint64		nrows;
	uint64		i;

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", auth_table);
	/* the writes below replace SPI_tuptable: keep this result */
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (i = 0; i < nrows; i++)
	{
		HeapTuple	row = rows->vals[i];
		TupleDesc	desc = rows->tupdesc;
		bool		isnull;
		char	   *company_id = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
		Jsonb	   *creds = DatumGetJsonbP(SPI_getbinval(row, desc, 2, &isnull));

		wa_check_company_id(company_id);
		wa_lease_fence(company_id, false, 0);	/* refuses a live lease */
		if (!JB_ROOT_IS_OBJECT(creds))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("creds of company \"%s\" in %s is not a JSON object",
							company_id, auth_table)));
		creds = wa_normalize_value(creds, NULL);
		wa_check_value_size(VARSIZE(creds), NULL);
		wa_store_creds(company_id, creds);
		imported++;
	}
	return imported;
}

/* Copy the live keys of the legacy keys table, company by company. */
static int64
import_legacy_keys(const char *keys_table, int64 *skipped)
{
	char	   *sql = psprintf("SELECT k.company_id::pg_catalog.text, k.key_type::pg_catalog.text,"
							   " k.key_id::pg_catalog.text, k.value::pg_catalog.jsonb"
							   " FROM %s k"
							   " WHERE k.expires_at IS NULL OR k.expires_at " WA_OP(">") " pg_catalog.now()"
							   " ORDER BY 1", keys_table);
	char	   *count_sql = psprintf("SELECT pg_catalog.count(*) FROM %s k"
									 " WHERE k.expires_at " WA_OP("<=") " pg_catalog.now()",
									 keys_table);
	/* the pending keys of one company, reset after each flush */
	MemoryContext batch_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"whatsapp_auth import batch",
													ALLOCSET_DEFAULT_SIZES);
	SPIPlanPtr	plan;
	Portal		cursor;
	WaWriteSet	set = {0};
	char		company_id[64] = "";
	int64		imported = 0;
	bool		isnull;

	if (SPI_execute(count_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", keys_table);
	*skipped = DatumGetInt64(wa_first_value(&isnull));

	plan = SPI_prepare(sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not read %s: %s", keys_table, SPI_result_code_string(SPI_result));
	cursor = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		SPITupleTable *rows;
		uint64		nrows;
		uint64		i;

		SPI_cursor_fetch(cursor, true, 1000);
		rows = SPI_tuptable;
		nrows = SPI_processed;
		if (nrows == 0)
			break;
		for (i = 0; i < nrows; i++)
		{
			HeapTuple	row = rows->vals[i];
			TupleDesc	desc = rows->tupdesc;
			char	   *row_company = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
			MemoryContext spi_cxt;
			char	   *key_type;
			char	   *key_id;
			Jsonb	   *value;
			WaPath		type_path;
			WaPath		id_path;
			JsonbValue	v;

			if (strcmp(company_id, row_company) != 0 || set.count >= IMPORT_BATCH)
			{
				if (company_id[0] != '\0')
					flush_company(company_id, &set, batch_cxt, &imported);
				wa_check_company_id(row_company);
				wa_lease_fence(row_company, false, 0);	/* refuses a live lease */
				strlcpy(company_id, row_company, sizeof(company_id));
			}

			spi_cxt = MemoryContextSwitchTo(batch_cxt);
			key_type = TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull));
			key_id = TextDatumGetCString(SPI_getbinval(row, desc, 3, &isnull));
			value = DatumGetJsonbPCopy(SPI_getbinval(row, desc, 4, &isnull));
			type_path = (WaPath) {NULL, key_type, strlen(key_type), 0};
			id_path = (WaPath) {&type_path, key_id, strlen(key_id), 0};
			wa_check_key_type(key_type, strlen(key_type));
			v.type = jbvBinary;
			v.val.binary.data = &value->root;
			v.val.binary.len = VARSIZE(value) - VARHDRSZ;
			wa_writeset_add(&set, key_type, key_id, &v, &id_path);
			MemoryContextSwitchTo(spi_cxt);
		}
	}
	SPI_cursor_close(cursor);
	if (company_id[0] != '\0')
		flush_company(company_id, &set, batch_cxt, &imported);
	MemoryContextDelete(batch_cxt);
	return imported;
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
	int64		creds_rows,
				key_rows,
				skipped;

	wa_check_unpinned("import_legacy()");
	wa_lease_lock_all();
	SPI_connect();
	creds_rows = import_legacy_creds(auth_table);
	key_rows = import_legacy_keys(keys_table, &skipped);
	SPI_finish();

	ereport(NOTICE,
			(errmsg("imported " INT64_FORMAT " creds rows from %s and " INT64_FORMAT " keys from %s",
					creds_rows, auth_table, key_rows, keys_table),
			 errdetail(INT64_FORMAT " keys already expired in %s were skipped.",
					   skipped, keys_table)));
	PG_RETURN_INT64(creds_rows + key_rows);
}
