/*
 * jsonb_object.c
 *	  A jsonb object assembled from stored jsonb values without decoding
 *	  them: keys_get() answers {id: value} for up to hundreds of values,
 *	  and re-parsing every value into a tree (what jsonb_object_agg does)
 *	  would cost more than the read itself.
 *
 * The on-disk format (utils/jsonb.h): a container header, one JEntry per
 * key then one per value, then the keys' bytes, then the values' bytes.
 * A nested container is stored exactly as the root container of its own
 * datum, 4-byte aligned, so a stored value is copied in as it is.
 */
#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "jsonb_object.h"

/* jsonb's key order: shorter first, then bytewise */
static int
pair_cmp(const void *a, const void *b)
{
	const WaJsonbPair *x = a;
	const WaJsonbPair *y = b;

	if (x->keylen != y->keylen)
		return (x->keylen > y->keylen) ? 1 : -1;
	return memcmp(x->key, y->key, x->keylen);
}

static void
pad_to_int(StringInfo buf)
{
	while (buf->len % sizeof(uint32) != 0)
		appendStringInfoChar(buf, '\0');
}

/* Append one value; returns its JEntry type bits. */
static JEntry
append_value(StringInfo buf, Jsonb *value)
{
	JsonbValue	scalar;

	if (!JB_ROOT_IS_SCALAR(value))
	{
		pad_to_int(buf);
		appendBinaryStringInfo(buf, (char *) &value->root, VARSIZE(value) - VARHDRSZ);
		return JENTRY_ISCONTAINER;
	}

	/* a scalar is stored as a one-element array at the root: unwrap it */
	if (!JsonbExtractScalar(&value->root, &scalar))
		elog(ERROR, "jsonb scalar expected");
	switch (scalar.type)
	{
		case jbvString:
			appendBinaryStringInfo(buf, scalar.val.string.val, scalar.val.string.len);
			return JENTRY_ISSTRING;
		case jbvNumeric:
			pad_to_int(buf);
			appendBinaryStringInfo(buf, (char *) scalar.val.numeric, VARSIZE_ANY(scalar.val.numeric));
			return JENTRY_ISNUMERIC;
		case jbvBool:
			return scalar.val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
		case jbvNull:
			return JENTRY_ISNULL;
		default:
			elog(ERROR, "unexpected jsonb scalar type %d", (int) scalar.type);
	}
	return JENTRY_ISNULL;		/* keep the compiler quiet */
}

/* Store a child's JEntry: every JB_OFFSET_STRIDE'th holds an end offset. */
static void
set_jentry(StringInfo buf, int jentries, int index, JEntry type, int len, int *totallen)
{
	JEntry		meta = type | len;

	*totallen += len;
	if (*totallen > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("total size of jsonb object elements exceeds the maximum of %d bytes",
						JENTRY_OFFLENMASK)));
	if (index % JB_OFFSET_STRIDE == 0)
		meta = type | *totallen | JENTRY_HAS_OFF;
	memcpy(buf->data + jentries + index * sizeof(JEntry), &meta, sizeof(JEntry));
}

/*
 * {key: value, ...} of n pairs with distinct keys (sorted here, in place),
 * allocated in the current memory context.
 */
Jsonb *
wa_jsonb_object(WaJsonbPair *pairs, int n)
{
	StringInfoData buf;
	uint32		header = (uint32) n | JB_FOBJECT;
	int			jentries;
	int			totallen = 0;
	int			i;

	Size		size = VARHDRSZ + sizeof(uint32) + 2 * n * sizeof(JEntry);

	if (n > 1)
		qsort(pairs, n, sizeof(WaJsonbPair), pair_cmp);

	/*
	 * Room for all of it at once, padding included: no copy as it grows.
	 * (Past JENTRY_OFFLENMASK, set_jentry() refuses the object anyway.)
	 */
	for (i = 0; i < n; i++)
		size += pairs[i].keylen + VARSIZE(pairs[i].value) - VARHDRSZ + sizeof(uint32);
	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) Min(size, (Size) JENTRY_OFFLENMASK));
	appendStringInfoSpaces(&buf, VARHDRSZ);
	appendBinaryStringInfo(&buf, (char *) &header, sizeof(uint32));
	jentries = buf.len;
	appendStringInfoSpaces(&buf, 2 * n * sizeof(JEntry));

	for (i = 0; i < n; i++)
	{
		appendBinaryStringInfo(&buf, pairs[i].key, pairs[i].keylen);
		set_jentry(&buf, jentries, i, JENTRY_ISSTRING, pairs[i].keylen, &totallen);
	}
	for (i = 0; i < n; i++)
	{
		int			start = buf.len;
		JEntry		type = append_value(&buf, pairs[i].value);

		set_jentry(&buf, jentries, n + i, type, buf.len - start, &totallen);
	}

	SET_VARSIZE(buf.data, buf.len);
	return (Jsonb *) buf.data;
}
