/*
 * keys_json.c
 *	  keys_get_json(): keys_get's answer as JSON text in its final form.
 *
 * keys_get builds one jsonb of every value, which its caller (a client
 * that parses JSON) then has the server print; this prints each stored
 * value straight into the answer, so no object is assembled or sorted, and
 * the printing copies whole runs of bytes (jsonb_out's printer appends
 * every character of every string on its own: for many ids it cost more
 * than the read).
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "keystore.h"
#include "spi_plans.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(wa_keys_get_json);

static void print_container(StringInfo out, JsonbContainer *jc);

/* Bytes a JSON string needs escaped: control characters, quote, backslash. */
static bool needs_escape[256];

static void
init_needs_escape(void)
{
	int			c;

	for (c = 0; c < 0x20; c++)
		needs_escape[c] = true;
	needs_escape['"'] = true;
	needs_escape['\\'] = true;
}

/* out has room for n more bytes (and its terminator) */
#define ROOM(out, n) enlargeStringInfo((out), (n))
#define PUT(out, c) ((out)->data[(out)->len++] = (c))

/*
 * A JSON string, escaped as jsonb's output escapes it (escape_json), but
 * runs of characters that need no escape, all of a base64 Buffer's data,
 * are copied whole instead of appended one character at a time.
 */
static void
print_string(StringInfo out, const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	ROOM(out, len + 2);
	PUT(out, '"');
	while (p < end)
	{
		const unsigned char *run = p;

		while (p < end && !needs_escape[*p])
			p++;
		memcpy(out->data + out->len, run, p - run);
		out->len += p - run;
		if (p == end)
			break;
		/* at most 6 bytes for this one, 1 more for the closing quote */
		ROOM(out, 7 + (end - p));
		PUT(out, '\\');
		switch (*p)
		{
			case '\b':
				PUT(out, 'b');
				break;
			case '\f':
				PUT(out, 'f');
				break;
			case '\n':
				PUT(out, 'n');
				break;
			case '\r':
				PUT(out, 'r');
				break;
			case '\t':
				PUT(out, 't');
				break;
			case '"':
			case '\\':
				PUT(out, *p);
				break;
			default:
				out->len += sprintf(out->data + out->len, "u%04x", *p);
				break;
		}
		p++;
	}
	PUT(out, '"');
	out->data[out->len] = '\0';
}

/* The value of entry je, which starts at base + offset and is len bytes. */
static void
print_entry(StringInfo out, JEntry je, char *base, uint32 offset, uint32 len)
{
	if (JBE_ISSTRING(je))
		print_string(out, base + offset, len);
	else if (JBE_ISNUMERIC(je))
		appendStringInfoString(out,
							   DatumGetCString(DirectFunctionCall1(numeric_out,
																   PointerGetDatum(base + INTALIGN(offset)))));
	else if (JBE_ISBOOL_TRUE(je))
		appendBinaryStringInfo(out, "true", 4);
	else if (JBE_ISBOOL_FALSE(je))
		appendBinaryStringInfo(out, "false", 5);
	else if (JBE_ISNULL(je))
		appendBinaryStringInfo(out, "null", 4);
	else if (JBE_ISCONTAINER(je))
		print_container(out, (JsonbContainer *) (base + INTALIGN(offset)));
	else
		elog(ERROR, "unknown jsonb entry type 0x%08x", je);
}

/*
 * A stored container printed as jsonb_out prints it (same order, same
 * spacing), read straight from the on-disk format (utils/jsonb.h: one
 * JEntry per key, then one per value, then their bytes) instead of through
 * an iterator that decodes every entry into a JsonbValue.
 */
static void
print_container(StringInfo out, JsonbContainer *jc)
{
	uint32		count = JsonContainerSize(jc);
	bool		object = JsonContainerIsObject(jc);
	uint32		nentries = object ? count * 2 : count;
	char	   *base = (char *) &jc->children[nentries];
	uint32		value_offset = 0;
	uint32		i;

	check_stack_depth();
	if (object)
	{
		uint32		key_offset = 0;

		/* values start after every key */
		for (i = 0; i < count; i++)
			JBE_ADVANCE_OFFSET(value_offset, jc->children[i]);
		appendStringInfoChar(out, '{');
		for (i = 0; i < count; i++)
		{
			uint32		key_start = key_offset,
						value_start = value_offset;

			JBE_ADVANCE_OFFSET(key_offset, jc->children[i]);
			JBE_ADVANCE_OFFSET(value_offset, jc->children[count + i]);
			if (i > 0)
				appendBinaryStringInfo(out, ", ", 2);
			print_string(out, base + key_start, key_offset - key_start);
			appendBinaryStringInfo(out, ": ", 2);
			print_entry(out, jc->children[count + i], base, value_start,
						value_offset - value_start);
		}
		appendStringInfoChar(out, '}');
		return;
	}

	/* a scalar is stored as a one-element array at the root */
	if (!JsonContainerIsScalar(jc))
		appendStringInfoChar(out, '[');
	for (i = 0; i < count; i++)
	{
		uint32		start = value_offset;

		JBE_ADVANCE_OFFSET(value_offset, jc->children[i]);
		if (i > 0)
			appendBinaryStringInfo(out, ", ", 2);
		print_entry(out, jc->children[i], base, start, value_offset - start);
	}
	if (!JsonContainerIsScalar(jc))
		appendStringInfoChar(out, ']');
}

/* Append "id": value for one row; row_cxt holds what the row needs. */
static void
append_key(StringInfo out, HeapTuple row, TupleDesc tupdesc, MemoryContext row_cxt)
{
	MemoryContext caller = MemoryContextSwitchTo(row_cxt);
	bool		isnull;
	text	   *id = DatumGetTextPP(SPI_getbinval(row, tupdesc, 1, &isnull));
	Jsonb	   *value = DatumGetJsonbP(SPI_getbinval(row, tupdesc, 2, &isnull));

	/* out grows in its own context; the printer's scratch stays in row_cxt */
	print_string(out, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id));
	appendBinaryStringInfo(out, ": ", 2);
	print_container(out, &value->root);
	MemoryContextSwitchTo(caller);
	MemoryContextReset(row_cxt);
}

/* SQL function: keys_get_json(company_id text, key_type text, ids text[]) returns json */
Datum
wa_keys_get_json(PG_FUNCTION_ARGS)
{
	MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext,
												  "keys_get_json row",
												  ALLOCSET_DEFAULT_SIZES);
	StringInfoData out;
	Size		estimate = 0;
	uint64		i;

	if (!needs_escape['"'])
		init_needs_escape();

	/* the answer outlives SPI: it grows in the caller's context */
	initStringInfo(&out);
	appendStringInfoSpaces(&out, VARHDRSZ);
	appendStringInfoChar(&out, '{');

	wa_spi_connect(0);
	wa_keys_select(fcinfo);
	/* room for about the whole answer at once: no copy as it grows */
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		estimate += toast_raw_datum_size(SPI_getbinval(SPI_tuptable->vals[i],
													   SPI_tuptable->tupdesc, 2, &isnull)) + 32;
	}
	enlargeStringInfo(&out, (int) Min(estimate, MaxAllocSize / 2));
	for (i = 0; i < SPI_processed; i++)
	{
		if (i > 0)
			appendBinaryStringInfo(&out, ", ", 2);
		append_key(&out, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, row_cxt);
	}
	wa_stats_keys_read(SPI_processed, out.len + 1 - VARHDRSZ);
	wa_spi_finish();
	MemoryContextDelete(row_cxt);

	appendStringInfoChar(&out, '}');
	SET_VARSIZE(out.data, out.len);
	PG_RETURN_TEXT_P((text *) out.data);
}
