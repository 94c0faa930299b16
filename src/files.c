/*
 * files.c
 *	  Baileys' useMultiFileAuthState folders in and out of the store:
 *	  session_import_files() and session_export_files(); and keys_page(),
 *	  the paged listing behind the adapter's keys.list and keys.listIds.
 *
 * useMultiFileAuthState keeps creds.json and one "<type>-<id>.json" per key,
 * the name passed through fixFileName ("/" becomes "__", then ":" becomes
 * "-"), the text JSON.stringify(value, BufferJSON.replacer).  Names are
 * read back as Baileys' develop branch reads them (decodeIdForType); a name
 * that more than one id could have produced is refused, never guessed.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "args.h"
#include "jsonb_buffers.h"
#include "lease.h"
#include "path.h"
#include "spi_plans.h"
#include "transfer.h"
#include "value_size.h"
#include "writeset.h"

PG_FUNCTION_INFO_V1(wa_session_import_files);
PG_FUNCTION_INFO_V1(wa_session_export_files);
PG_FUNCTION_INFO_V1(wa_keys_page);

#define CREDS_FILE "creds.json"
#define JSON_SUFFIX ".json"

/* Most ids keys_page returns per call. */
#define KEYS_PAGE_MAX 10000

/* How fixFileName's output is turned back into an id, per key type. */
typedef enum IdRule
{
	ID_PLAIN,					/* identity; "-" and "__" refused */
	ID_SENDER_KEY,				/* "--" is "::" */
	ID_SENDER_KEY_MEMORY,		/* group JIDs: "-" is literal */
	ID_APP_STATE_SYNC_KEY,		/* base64: "__" is "/" */
	ID_TCTOKEN					/* plain, and the literal "__index" */
} IdRule;

typedef struct KeyTypeRule
{
	const char *type;
	IdRule		rule;
} KeyTypeRule;

/*
 * The ten key types of Baileys 7, longest first: a name is matched against
 * the longest type it starts with, so "sender-key-memory-..." is never a
 * sender-key.
 */
static const KeyTypeRule key_types[] = {
	{"app-state-sync-version", ID_PLAIN},
	{"app-state-sync-key", ID_APP_STATE_SYNC_KEY},
	{"sender-key-memory", ID_SENDER_KEY_MEMORY},
	{"identity-key", ID_PLAIN},
	{"device-list", ID_PLAIN},
	{"lid-mapping", ID_PLAIN},
	{"sender-key", ID_SENDER_KEY},
	{"pre-key", ID_PLAIN},
	{"session", ID_PLAIN},
	{"tctoken", ID_TCTOKEN},
};

/* Longest part of a file name quoted back in a message. */
#define NAME_QUOTE_MAX 200

static char *
quote_name(const char *name, int len)
{
	if (len <= NAME_QUOTE_MAX)
		return pnstrdup(name, len);
	return psprintf("%s...", pnstrdup(name, pg_mbcliplen(name, len, NAME_QUOTE_MAX)));
}

static void
raise_undecodable(const char *name, int len, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("file name \"%s\" cannot be decoded without guessing", quote_name(name, len)),
			 errdetail("%s", why)));
}

static inline int
run_length(const char *s, int len, int i, char c)
{
	int			n = 0;

	while (i + n < len && s[i + n] == c)
		n++;
	return n;
}

/*
 * The key id a file name stands for: enc is the part between "<type>-" and
 * ".json".  What is accepted decodes exactly as decodeIdForType does; what
 * two different ids could have produced is refused (the README lists each
 * case).
 */
static char *
decode_key_id(const KeyTypeRule *kt, const char *enc, int len,
			  const char *name, int namelen)
{
	StringInfoData id;
	int			i = 0;

	if (len == 0)
		raise_undecodable(name, namelen, "The name holds no key id.");
	if (kt->rule == ID_TCTOKEN && len == 7 && memcmp(enc, "__index", 7) == 0)
		return pnstrdup(enc, len);

	initStringInfo(&id);
	while (i < len)
	{
		char		c = enc[i];
		int			n;

		if (c == '-')
		{
			n = run_length(enc, len, i, '-');
			if (kt->rule == ID_SENDER_KEY && n == 2)
				appendStringInfoString(&id, "::");
			else if ((kt->rule == ID_SENDER_KEY || kt->rule == ID_SENDER_KEY_MEMORY) && n == 1)
				appendStringInfoChar(&id, '-');
			else if (kt->rule == ID_SENDER_KEY)
				raise_undecodable(name, namelen,
								  "In a sender-key name, three or more \"-\" in a row may be \"-::\", \"::-\" or \":::\".");
			else if (kt->rule == ID_SENDER_KEY_MEMORY)
				raise_undecodable(name, namelen,
								  "In a sender-key-memory name, \"--\" may be \"--\", \"-:\", \":-\" or \"::\".");
			else if (kt->rule == ID_APP_STATE_SYNC_KEY)
				raise_undecodable(name, namelen,
								  "In an app-state-sync-key name, \"-\" may be \"-\" or \":\", and neither is base64.");
			else
				raise_undecodable(name, namelen,
								  psprintf("In a %s name, \"-\" may be \"-\" or \":\".", kt->type));
			i += n;
		}
		else if (c == '_' && run_length(enc, len, i, '_') >= 2)
		{
			n = run_length(enc, len, i, '_');
			if (kt->rule != ID_APP_STATE_SYNC_KEY)
				raise_undecodable(name, namelen,
								  psprintf("In a %s name, \"__\" may be \"__\" or \"/\".", kt->type));
			if (n % 2 != 0)
				raise_undecodable(name, namelen,
								  "In an app-state-sync-key name, an odd run of \"_\" may be \"/_\" or \"_/\".");
			for (; n > 0; n -= 2, i += 2)
				appendStringInfoChar(&id, '/');
		}
		else
		{
			appendStringInfoChar(&id, c);
			i++;
		}
	}
	return id.data;
}

/* The known type a key file name starts with ("<type>-"), or NULL. */
static const KeyTypeRule *
key_type_of(const char *name, int len)
{
	size_t		i;

	for (i = 0; i < lengthof(key_types); i++)
	{
		int			tlen = strlen(key_types[i].type);

		if (len > tlen && name[tlen] == '-' && memcmp(name, key_types[i].type, tlen) == 0)
			return &key_types[i];
	}
	return NULL;
}

static bool
has_suffix(const char *s, int len, const char *suffix)
{
	int			slen = strlen(suffix);

	return len >= slen && memcmp(s + len - slen, suffix, slen) == 0;
}

/* The file's text is not JSON: the error says where, never what is there. */
static void
raise_not_json(const char *name, int namelen, char *text, int len, int sqlerrcode)
{
	JsonLexContext *lex = makeJsonLexContextCstringLen(text, len, GetDatabaseEncoding(), true);
	JsonParseErrorType err = pg_parse_json(lex, &nullSemAction);
	char	   *detail = NULL;

	if (err == JSON_EXPECTED_MORE || err == JSON_EXPECTED_JSON ||
		(err != JSON_SUCCESS && lex->token_terminator != NULL &&
		 lex->token_terminator >= text + len))
		detail = "The text ends before its JSON value does, as a torn write leaves it.";
	else if (err != JSON_SUCCESS && lex->token_start != NULL)
		detail = psprintf("The JSON is invalid at line %d, character %d.",
						  lex->line_number,
						  pg_mbstrlen_with_len(lex->line_start,
											   lex->token_start - lex->line_start) + 1);
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("file \"%s\" is not JSON", quote_name(name, namelen)),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * A file's text as jsonb.  jsonb_in's own message quotes the text around
 * the error, which may be key material: it is replaced by one naming the
 * file and the place.  Errors other than bad data pass through.
 */
static Jsonb *
parse_file(const char *name, int namelen, const char *text, int len)
{
	char	   *cstr = pnstrdup(text, len);
	MemoryContext cxt = CurrentMemoryContext;
	Jsonb	   *doc = NULL;

	PG_TRY();
	{
		doc = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(cstr)));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		raise_not_json(name, namelen, cstr, len, edata->sqlerrcode);
	}
	PG_END_TRY();
	return doc;
}

/* Add one key file's value to the write set; JSON null is refused. */
static void
add_key_file(WaWriteSet *set, const KeyTypeRule *kt, char *key_id, Jsonb *doc,
			 const WaPath *path)
{
	JsonbValue	v;

	if (JB_ROOT_IS_SCALAR(doc))
		(void) JsonbExtractScalar(&doc->root, &v);
	else
	{
		v.type = jbvBinary;
		v.val.binary.data = &doc->root;
		v.val.binary.len = VARSIZE(doc) - VARHDRSZ;
	}
	if (pg_mbstrlen_with_len(key_id, strlen(key_id)) > 255)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("file name \"%s\" holds a key id longer than 255 characters",
						quote_name(path->key, path->keylen))));
	if (v.type == jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("file \"%s\" holds null, not a key", quote_name(path->key, path->keylen)),
				 errdetail("useMultiFileAuthState deletes a key's file; it never writes null.")));
	wa_writeset_add(set, (char *) kt->type, key_id, &v, path);
}

/*
 * SQL function: session_import_files(company_id text, files jsonb,
 *                                    replace boolean) returns bigint
 *
 * files is {"<file name>": "<file text>", ...}, a useMultiFileAuthState
 * folder.  Everything is checked before anything is written; returns the
 * rows written (creds and keys).
 */
Datum
wa_session_import_files(PG_FUNCTION_ARGS)
{
	char	   *company_id;
	Jsonb	   *files;
	bool		replace;
	Jsonb	   *creds = NULL;
	WaWriteSet	set = {0};
	StringInfoData skipped;
	int			nskipped = 0;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	JsonbValue	name = {0};
	int64		written;
	MemoryContext call_cxt = CurrentMemoryContext;
	MemoryContext file_cxt;

	company_id = wa_company_arg(fcinfo, 0);
	wa_arg_not_null(fcinfo, 1, "files", NULL);
	wa_arg_not_null(fcinfo, 2, "replace", NULL);
	files = PG_GETARG_JSONB_P(1);
	replace = PG_GETARG_BOOL(2);
	if (!JB_ROOT_IS_OBJECT(files))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("files must be a JSON object of {\"<file name>\": \"<file text>\"}")));

	/*
	 * Each file is parsed in file_cxt, reset after it: parsing builds a tree
	 * of the whole file, many times its size.  Its write is sorted, not
	 * kept: a folder of any size leaves the call one batch.
	 */
	file_cxt = AllocSetContextCreate(call_cxt, "whatsapp_auth import file",
									 ALLOCSET_DEFAULT_SIZES);
	wa_writeset_spill(&set);
	initStringInfo(&skipped);
	it = JsonbIteratorInit(&files->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *fname;
		int			flen;
		WaPath		file_path;
		const KeyTypeRule *kt;
		Jsonb	   *doc;

		if (tok == WJB_KEY)
		{
			name = v;
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		fname = name.val.string.val;
		flen = name.val.string.len;
		file_path = (WaPath) {NULL, fname, flen, 0};

		if (!has_suffix(fname, flen, JSON_SUFFIX))
		{
			/* *.json.tmp, *.json.bak and anything else that is not state */
			appendStringInfo(&skipped, "%s\"%s\"", nskipped ? ", " : "", quote_name(fname, flen));
			nskipped++;
			continue;
		}
		if (v.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("value at %s must be the file's text, a JSON string",
							wa_path_string(&file_path))));

		if (flen == (int) strlen(CREDS_FILE) && memcmp(fname, CREDS_FILE, flen) == 0)
		{
			doc = parse_file(fname, flen, v.val.string.val, v.val.string.len);
			if (!JB_ROOT_IS_OBJECT(doc))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("file \"" CREDS_FILE "\" must hold a JSON object")));
			creds = wa_normalize_value(doc, &file_path);
			wa_check_value_size(VARSIZE(creds), &file_path);
			continue;
		}

		kt = key_type_of(fname, flen);
		if (kt == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file name \"%s\" is not one useMultiFileAuthState writes",
							quote_name(fname, flen)),
					 errdetail("A folder holds creds.json and <type>-<id>.json, type one of the ten key types of Baileys 7.")));
		{
			int			tlen = strlen(kt->type) + 1;
			char	   *key_id;

			MemoryContextSwitchTo(file_cxt);
			key_id = decode_key_id(kt, fname + tlen,
								   flen - tlen - (int) strlen(JSON_SUFFIX),
								   fname, flen);
			doc = parse_file(fname, flen, v.val.string.val, v.val.string.len);
			MemoryContextSwitchTo(call_cxt);
			add_key_file(&set, kt, key_id, doc, &file_path);
			MemoryContextReset(file_cxt);
		}
	}
	if (creds == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("files has no \"" CREDS_FILE "\""),
				 errdetail("useMultiFileAuthState writes creds.json in every folder it keeps.")));

	wa_spi_connect(0);
	wa_lease_fence_arg(fcinfo, 3, company_id);
	written = wa_load_company_state(company_id, creds, &set, replace);
	wa_spi_finish();
	if (nskipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %d files that are not auth state", nskipped),
				 errdetail("Skipped: %s.", skipped.data)));
	PG_RETURN_INT64(written);
}

/*
 * session_export_files
 */

static WaStatement export_creds_stmt = {
	.sql = "SELECT c.creds::pg_catalog.text FROM whatsapp_auth.creds c"
	" WHERE c.company_id " WA_OP("=") " $1",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

static WaStatement export_keys_stmt = {
	.sql = "SELECT k.key_type, k.key_id, k.value::pg_catalog.text FROM whatsapp_auth.keys k"
	" WHERE k.company_id " WA_OP("=") " $1"
	" AND (k.expires_at IS NULL OR k.expires_at " WA_OP(">") " pg_catalog.now())"
	" ORDER BY k.key_type, k.key_id",
	.nargs = 1,
	.argtypes = {TEXTOID},
};

/* fixFileName(`${type}-${id}.json`): "/" becomes "__", ":" becomes "-". */
static Datum
encode_file_name(const char *key_type, const char *key_id)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	appendStringInfoString(&buf, key_type);
	appendStringInfoChar(&buf, '-');
	for (p = key_id; *p; p++)
	{
		if (*p == '/')
			appendStringInfoString(&buf, "__");
		else if (*p == ':')
			appendStringInfoChar(&buf, '-');
		else
			appendStringInfoChar(&buf, *p);
	}
	appendStringInfoString(&buf, JSON_SUFFIX);
	return PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len));
}

/* SQL function: session_export_files(company_id text) returns table(file_name text, content text) */
Datum
wa_session_export_files(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		arg = CStringGetTextDatum(wa_company_arg(fcinfo, 0));
	MemoryContext row_cxt;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	bool		isnull;
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	/* each file's name is built in a scratch context, emptied after it */
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "whatsapp_auth export file",
									ALLOCSET_DEFAULT_SIZES);

	wa_spi_connect(0);
	wa_execute(&export_creds_stmt, &arg, NULL, true, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		values[0] = CStringGetTextDatum(CREDS_FILE);
		values[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_freetuptable(SPI_tuptable);
	wa_execute(&export_keys_stmt, &arg, NULL, true, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext caller = MemoryContextSwitchTo(row_cxt);

		values[0] = encode_file_name(TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull)),
									 TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull)));
		values[1] = SPI_getbinval(row, desc, 3, &isnull);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(caller);
		MemoryContextReset(row_cxt);
	}
	wa_spi_finish();
	return (Datum) 0;
}

/*
 * keys_page
 */

/*
 * The next page of one key type in key_id order (the primary key's), from
 * after $3; "" starts before every id, none being empty.  Both statements
 * read the same rows: the second leaves the values behind.
 */
#define KEYS_PAGE_SQL(value_column) \
	"SELECT k.key_id, " value_column " FROM whatsapp_auth.keys k" \
	" WHERE k.company_id " WA_OP("=") " $1" \
	" AND k.key_type " WA_OP("=") " $2" \
	" AND k.key_id " WA_OP(">") " $3" \
	" AND (k.expires_at IS NULL OR k.expires_at " WA_OP(">") " pg_catalog.now())" \
	" ORDER BY k.key_id LIMIT $4"

static WaStatement keys_page_stmt = {
	.sql = KEYS_PAGE_SQL("k.value"),
	.nargs = 4,
	.argtypes = {TEXTOID, TEXTOID, TEXTOID, INT4OID},
	.cursor_options = WA_GENERIC_PLAN,
};

static WaStatement key_ids_page_stmt = {
	.sql = KEYS_PAGE_SQL("NULL::pg_catalog.jsonb"),
	.nargs = 4,
	.argtypes = {TEXTOID, TEXTOID, TEXTOID, INT4OID},
	.cursor_options = WA_GENERIC_PLAN,
};

/*
 * SQL function: keys_page(company_id text, key_type text, after_id text,
 *                         page_size integer, with_values boolean)
 *               returns table(key_id text, value jsonb)
 *
 * Not STRICT: a NULL after_id is the first page.
 */
Datum
wa_keys_page(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *company_id;
	char	   *key_type;
	int32		page_size;
	Datum		args[4];
	Datum		values[2];
	bool		nulls[2];
	bool		isnull;
	WaStatement *stmt;
	uint64		i;

	company_id = wa_company_arg(fcinfo, 0);
	key_type = wa_key_type_arg(fcinfo, 1);
	wa_arg_not_null(fcinfo, 3, "page_size", NULL);
	wa_arg_not_null(fcinfo, 4, "with_values", NULL);
	page_size = PG_GETARG_INT32(3);
	if (page_size < 1 || page_size > KEYS_PAGE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("page_size %d is out of range", page_size),
				 errdetail("A page holds 1 to %d keys.", KEYS_PAGE_MAX)));
	stmt = PG_GETARG_BOOL(4) ? &keys_page_stmt : &key_ids_page_stmt;

	InitMaterializedSRF(fcinfo, 0);
	args[0] = CStringGetTextDatum(company_id);
	args[1] = CStringGetTextDatum(key_type);
	args[2] = PG_ARGISNULL(2) ? CStringGetTextDatum("") : PG_GETARG_DATUM(2);
	args[3] = Int32GetDatum(page_size);

	wa_spi_connect(0);
	wa_execute(stmt, args, NULL, true, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		value;

		values[0] = SPI_getbinval(row, desc, 1, &isnull);
		nulls[0] = false;
		value = SPI_getbinval(row, desc, 2, &nulls[1]);
		/* a TOAST pointer must not outlive the scan in the tuplestore */
		values[1] = nulls[1] ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM(value));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	wa_spi_finish();
	return (Datum) 0;
}
