/*
 * keys_set_text.c
 *	  keys_set_text(): keys_set with its document as JSON text, walked as it
 *	  is parsed, each value built on its own.
 *
 * A jsonb argument is turned into one tree of the whole document before
 * the function runs: for a large keys.set that tree, not the rows, is the
 * call's memory (many times the document's size).  Here the text is read
 * twice by PostgreSQL's own JSON parser (common/jsonapi.h): first to
 * validate it, with the errors jsonb's input would raise (so a malformed
 * document fails with the same SQLSTATE, message and context in both
 * forms); then with semantic actions that follow {type: {id: value}} and
 * hand each value's text to jsonb's input alone.  The shape checks, their
 * order within a type and their messages are keys_set's (writeset.c).
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/jsonfuncs.h"
#include "utils/memutils.h"

#include "args.h"
#include "keystore.h"
#include "lease.h"
#include "path.h"
#include "spi_plans.h"
#include "validate.h"
#include "writeset.h"

PG_FUNCTION_INFO_V1(wa_keys_set_text);

/* Where the walk is: depth 0 outside the document, 1 in it, 2 in a type. */
typedef struct WalkState
{
	JsonLexContext *lex;
	WaWriteSet *set;
	int			depth;
	char	   *key_type;		/* the type being walked */
	WaPath		type_path;
	char	   *key_id;			/* the id whose value is being parsed */
	char	   *value_start;	/* its first byte in the input */
	bool		seen_object;	/* the document's or the type's value began as one */
	MemoryContext value_cxt;	/* current while in a value; reset after each */
	MemoryContext call_cxt;		/* what the walk keeps: names */
	MemoryContext kept_cxt;		/* the values it keeps, packed */
} WalkState;

static void
refuse_document(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("value at %s must be a JSON object of {type: {id: value}}",
					wa_path_string(NULL))));
}

static void
refuse_type(WalkState *st)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("value at %s must be a JSON object of {id: value}",
					wa_path_string(&st->type_path))));
}

/*
 * A type named again replaces the first one's ids, as in the jsonb the
 * same text would make (the last of duplicate keys wins).
 */
static void
forget_type(WaWriteSet *set, const char *key_type)
{
	int			kept = 0;
	int			i;

	for (i = 0; i < set->count; i++)
		if (strcmp(set->writes[i].key_type, key_type) != 0)
			set->writes[kept++] = set->writes[i];
	set->count = kept;
}

/* Anything but an object where the document or a type's ids belong */
static void
check_container(WalkState *st)
{
	if (st->depth == 0)
		refuse_document();
	if (st->depth == 1)
		refuse_type(st);
}

static void
walk_object_start(void *state)
{
	WalkState  *st = state;

	if (st->depth <= 1)
		st->seen_object = true;
	st->depth++;
}

static void
walk_object_end(void *state)
{
	WalkState  *st = state;

	st->depth--;
}

static void
walk_array_start(void *state)
{
	WalkState  *st = state;

	check_container(st);
	st->depth++;
}

static void
walk_array_end(void *state)
{
	WalkState  *st = state;

	st->depth--;
}

static void
walk_field_start(void *state, char *fname, bool isnull pg_attribute_unused())
{
	WalkState  *st = state;

	if (st->depth == 1)
	{
		int			len = strlen(fname);

		st->type_path.key = fname;
		st->type_path.keylen = len;
		wa_check_key_type(fname, len);
		for (int i = 0; i < st->set->count; i++)
			if (strcmp(st->set->writes[i].key_type, fname) == 0)
			{
				forget_type(st->set, fname);
				break;
			}
		st->key_type = fname;
		st->seen_object = false;
	}
	else if (st->depth == 2)
	{
		/*
		 * The parser copies every name and string inside the value into the
		 * current context: let that be the value's own.
		 */
		st->key_id = fname;
		st->value_start = st->lex->token_start;
		MemoryContextSwitchTo(st->value_cxt);
	}
}

/* A type's id and its value, whole: one write; a type's value: an object. */
static void
walk_field_end(void *state, char *fname, bool isnull)
{
	WalkState  *st = state;
	WaPath		id_path = {&st->type_path, fname, strlen(fname), 0};
	Jsonb	   *parsed;
	Jsonb	   *value;
	JsonbValue	v;

	if (st->depth == 1 && !st->seen_object)
		refuse_type(st);
	if (st->depth != 2)
		return;
	MemoryContextSwitchTo(st->call_cxt);
	if (isnull)
	{
		MemoryContextReset(st->value_cxt);
		wa_writeset_add(st->set, st->key_type, fname, NULL, &id_path);
		return;
	}

	/* the value's text to jsonb in its own context; the jsonb is kept */
	MemoryContextSwitchTo(st->value_cxt);
	parsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												CStringGetDatum(pnstrdup(st->value_start,
																		 st->lex->prev_token_terminator - st->value_start))));
	value = MemoryContextAlloc(st->kept_cxt, VARSIZE(parsed));
	memcpy(value, parsed, VARSIZE(parsed));
	MemoryContextSwitchTo(st->call_cxt);
	MemoryContextReset(st->value_cxt);

	v.type = jbvBinary;
	v.val.binary.data = &value->root;
	v.val.binary.len = VARSIZE(value) - VARHDRSZ;
	wa_writeset_add(st->set, st->key_type, fname, &v, &id_path);
}

/*
 * Collect the writes of the document text into set (in the current memory
 * context); a malformed document raises what jsonb's input would.
 */
static void
collect_text_document(WaWriteSet *set, text *doc)
{
	JsonSemAction walk = {0};
	WalkState	st = {0};
	JsonParseErrorType result;

	/* first the whole text as jsonb_in checks it, escapes included */
	pg_parse_json_or_ereport(makeJsonLexContextCstringLen(VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc),
														  GetDatabaseEncoding(), true),
							 &nullSemAction);

	st.lex = makeJsonLexContextCstringLen(VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc),
										  GetDatabaseEncoding(), true);
	st.set = set;
	st.call_cxt = CurrentMemoryContext;
	st.value_cxt = AllocSetContextCreate(CurrentMemoryContext, "keys_set_text value",
										 ALLOCSET_DEFAULT_SIZES);

	/*
	 * Values live until the call ends, none is freed before: a generation
	 * context packs them end to end, where an allocation set would round
	 * each up to a power of two (a 1.1 kB session takes 2 kB there).
	 */
	st.kept_cxt = GenerationContextCreate(CurrentMemoryContext, "keys_set_text values",
										  0, 8 * 1024, 1024 * 1024);
	/* no scalar action: the parser would copy every string for it */
	walk.semstate = &st;
	walk.object_start = walk_object_start;
	walk.object_end = walk_object_end;
	walk.array_start = walk_array_start;
	walk.array_end = walk_array_end;
	walk.object_field_start = walk_field_start;
	walk.object_field_end = walk_field_end;

	result = pg_parse_json(st.lex, &walk);
	MemoryContextSwitchTo(st.call_cxt);
	if (result != JSON_SUCCESS)
		json_ereport_error(result, st.lex);
	/* a scalar document never began an object */
	if (!st.seen_object)
		refuse_document();
	MemoryContextDelete(st.value_cxt);
}

/* SQL function: keys_set_text(company_id text, data text, lease_token bigint, OUT upserted int, OUT deleted int) */
Datum
wa_keys_set_text(PG_FUNCTION_ARGS)
{
	char	   *company_id = wa_company_arg(fcinfo, 0);
	WaWriteSet	set = {0};

	wa_arg_not_null(fcinfo, 1, "data", NULL);
	collect_text_document(&set, PG_GETARG_TEXT_PP(1));
	return wa_keys_set_apply(fcinfo, company_id, &set);
}
