/*
 * jsonb_buffers.c
 *	  Baileys Buffer nodes inside JSONB: recognise, validate, canonicalise.
 *
 * Baileys serialises a Buffer as {"type":"Buffer","data":...} where data is
 * base64 (its own replacer) or a byte array (Node's default toJSON); older
 * code wrote {"buffer":true,"value":...}, and a Uint8Array that went through
 * JSON.stringify becomes {"0":b0,"1":b1,...}.  Every write path stores the
 * one form Baileys 6 and 7 both revive: {"type":"Buffer","data":"<base64>"}.
 *
 * Walks allocate in the current memory context as they go (iterators,
 * decoded bytes); a caller that walks many values in one call runs each in
 * its scratch context (see writeset.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "buffer_codec.h"
#include "jsonb_buffers.h"

PG_FUNCTION_INFO_V1(wa_buffer_decode);
PG_FUNCTION_INFO_V1(wa_buffer_encode);
PG_FUNCTION_INFO_V1(wa_buffers_normalize);
PG_FUNCTION_INFO_V1(wa_jsonb_buffer);

typedef enum BufferForm
{
	NOT_A_BUFFER,
	BUFFER_TYPED,				/* {"type":"Buffer","data":...} */
	BUFFER_LEGACY,				/* {"buffer":true,"value":...} */
	BUFFER_BYTE_OBJECT			/* {"0":b0,"1":b1,...} */
} BufferForm;

/*
 * Byte values
 */

/* The numeric of each byte value, made once per backend. */
static Numeric
byte_numeric(int byte)
{
	static Numeric bytes[256];

	if (bytes[byte] == NULL)
	{
		MemoryContext caller = MemoryContextSwitchTo(TopMemoryContext);

		bytes[byte] = int64_to_numeric(byte);
		MemoryContextSwitchTo(caller);
	}
	return bytes[byte];
}

/*
 * The byte a JSON number stands for, or -1 when it is not an integer in
 * 0..255 (7.0 is 7).  Keeps nothing allocated: a million-element byte
 * array costs no memory per element.
 */
static int
numeric_byte(Numeric num)
{
	bool		error = false;
	int32		value;

	if (numeric_is_nan(num) || numeric_is_inf(num))
		return -1;
	value = numeric_int4_opt_error(num, &error);	/* rounds */
	if (error || value < 0 || value > 255)
		return -1;
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(num),
										  NumericGetDatum(byte_numeric(value)))))
		return -1;
	return value;
}

static inline bool
key_equals(const JsonbValue *key, const char *s)
{
	return key->val.string.len == (int) strlen(s) &&
		memcmp(key->val.string.val, s, key->val.string.len) == 0;
}

/* The value stored under key in an object container, or NULL. */
static JsonbValue *
object_field(JsonbContainer *obj, const char *key, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), out);
}

/*
 * Is obj a Uint8Array serialised as an object: keys exactly "0".."n-1", each
 * value an integer 0..255?  Anything else is an ordinary object.
 */
static bool
is_byte_object(JsonbContainer *obj)
{
	int			n = JsonContainerSize(obj);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		first = true;

	if (n == 0)
		return false;
	it = JsonbIteratorInit(obj);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			int			idx = 0;
			int			i;

			/* Keys sort shortest first, so a byte object starts with "0". */
			if (first && !(v.val.string.len == 1 && v.val.string.val[0] == '0'))
				return false;
			first = false;
			if (v.val.string.len > 1 && v.val.string.val[0] == '0')
				return false;
			for (i = 0; i < v.val.string.len; i++)
			{
				char		c = v.val.string.val[i];

				if (c < '0' || c > '9' || idx > n)
					return false;
				idx = idx * 10 + (c - '0');
			}
			if (idx >= n)
				return false;
		}
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvNumeric || numeric_byte(v.val.numeric) < 0)
				return false;
		}
	}
	return true;
}

static void
raise_malformed(const WaPath *path, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("malformed Buffer node at %s: %s", wa_path_string(path), what)));
}

/*
 * Which Buffer form obj has.  For the typed and legacy forms *payload is
 * their data/value member.  A node that announces itself as a Buffer but is
 * not one is an error, not an ordinary object: storing it as such would
 * hand Baileys a corrupt key later.
 */
static BufferForm
buffer_form(JsonbContainer *obj, const WaPath *path, JsonbValue *payload)
{
	JsonbValue	marker;
	BufferForm	form;
	const char *payload_key;

	if (object_field(obj, "type", &marker) != NULL &&
		marker.type == jbvString && key_equals(&marker, "Buffer"))
	{
		form = BUFFER_TYPED;
		payload_key = "data";
	}
	else if (object_field(obj, "buffer", &marker) != NULL &&
			 marker.type == jbvBool && marker.val.boolean)
	{
		form = BUFFER_LEGACY;
		payload_key = "value";
	}
	else
		return is_byte_object(obj) ? BUFFER_BYTE_OBJECT : NOT_A_BUFFER;

	if (object_field(obj, payload_key, payload) == NULL)
		raise_malformed(path, psprintf("no \"%s\" member", payload_key));
	if (JsonContainerSize(obj) != 2)
		raise_malformed(path, psprintf("members other than \"%s\" and \"%s\"",
									   form == BUFFER_TYPED ? "type" : "buffer",
									   payload_key));
	if (payload->type != jbvString &&
		!(payload->type == jbvBinary && JsonContainerIsArray(payload->val.binary.data)))
		raise_malformed(path, psprintf("\"%s\" must be a base64 string or an array of bytes",
									   payload_key));
	return form;
}

/* Decode a base64 payload; the error names the node, never its content. */
static bytea *
decode_base64_payload(const JsonbValue *payload, const WaPath *node_path,
					  const char *member)
{
	WaPath		member_path = {node_path, member, strlen(member), 0};
	const WaPath *path = &member_path;
	size_t		bad_pos;
	bytea	   *out = palloc(VARHDRSZ + wa_base64_decoded_max(payload->val.string.len));
	long		len = wa_base64_decode(payload->val.string.val, payload->val.string.len,
									   (uint8_t *) VARDATA(out), &bad_pos);

	if (len < 0)
	{
		if (bad_pos >= (size_t) payload->val.string.len)
			raise_malformed(path, psprintf("base64 text of %d characters is cut short",
										   payload->val.string.len));
		raise_malformed(path, psprintf("invalid base64 character at offset %zu", bad_pos));
	}
	SET_VARSIZE(out, VARHDRSZ + len);
	return out;
}

/*
 * Bytes of an array payload (each element must be an integer 0..255), or
 * of a byte object that is_byte_object() accepted (member NULL).
 */
static bytea *
decode_byte_elements(JsonbContainer *jc, const WaPath *path, const char *member)
{
	int			n = JsonContainerSize(jc);
	bytea	   *out = palloc(VARHDRSZ + n);
	uint8	   *bytes = (uint8 *) VARDATA(out);
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			idx = 0;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		int			byte;
		int			i;

		if (tok == WJB_KEY)
		{
			/* a byte object's key: digits only, below n */
			idx = 0;
			for (i = 0; i < v.val.string.len; i++)
				idx = idx * 10 + (v.val.string.val[i] - '0');
			continue;
		}
		if (tok != WJB_ELEM && tok != WJB_VALUE)
			continue;
		byte = (v.type == jbvNumeric) ? numeric_byte(v.val.numeric) : -1;
		if (byte < 0)
		{
			WaPath		member_path = {path, member, strlen(member), 0};
			WaPath		elem_path = {&member_path, NULL, 0, idx};

			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("malformed Buffer node at %s: element is not an integer from 0 to 255",
							wa_path_string(&elem_path))));
		}
		bytes[idx++] = (uint8) byte;
	}
	SET_VARSIZE(out, VARHDRSZ + n);
	return out;
}

/* Bytes of a Buffer node whose form buffer_form() found. */
static bytea *
buffer_bytes(JsonbContainer *obj, BufferForm form, const JsonbValue *payload,
			 const WaPath *path)
{
	const char *member = (form == BUFFER_TYPED) ? "data" : "value";

	if (form == BUFFER_BYTE_OBJECT)
		return decode_byte_elements(obj, path, NULL);
	if (payload->type == jbvString)
		return decode_base64_payload(payload, path, member);
	return decode_byte_elements(payload->val.binary.data, path, member);
}

/* Push the canonical node for bytes as one value. */
static JsonbValue *
push_canonical_buffer(JsonbParseState **state, const bytea *bytes)
{
	size_t		len = VARSIZE_ANY_EXHDR(bytes);
	char	   *b64 = palloc(wa_base64_encoded_len(len) + 1);
	JsonbValue	k,
				v;

	wa_base64_encode((const uint8_t *) VARDATA_ANY(bytes), len, b64);

	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	k.type = jbvString;
	k.val.string.val = "type";
	k.val.string.len = 4;
	pushJsonbValue(state, WJB_KEY, &k);
	v.type = jbvString;
	v.val.string.val = "Buffer";
	v.val.string.len = 6;
	pushJsonbValue(state, WJB_VALUE, &v);
	k.val.string.val = "data";
	pushJsonbValue(state, WJB_KEY, &k);
	v.val.string.val = b64;
	v.val.string.len = wa_base64_encoded_len(len);
	pushJsonbValue(state, WJB_VALUE, &v);
	return pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

/*
 * Tree walks.  is_canonical() reads a value only until the first node that
 * must be rebuilt: in the common case (Baileys' own replacer already wrote
 * base64) that is one read of the value and no copy.  Otherwise
 * push_canonical_tree() rebuilds it in one more walk that checks and
 * decodes every node once; both walks meet the nodes in the same order, so
 * the first bad node is the one reported either way.
 */

/*
 * Where every walk of a container starts: the guards of a recursion over
 * client input, then whether jc is itself a Buffer node (for the typed and
 * legacy forms, *payload is its data/value member).
 */
static BufferForm
walk_node(JsonbContainer *jc, const WaPath *path, JsonbValue *payload)
{
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	return JsonContainerIsObject(jc) ? buffer_form(jc, path, payload) : NOT_A_BUFFER;
}

/* Are all Buffer nodes under jc in canonical form (those it read, checked)? */
static bool
is_canonical(JsonbContainer *jc, const WaPath *path)
{
	JsonbValue	payload;
	BufferForm	form = walk_node(jc, path, &payload);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	WaPath		child = {path, NULL, 0, 0};

	if (form != NOT_A_BUFFER)
		return form == BUFFER_TYPED && payload.type == jbvString &&
			wa_base64_is_canonical(payload.val.string.val, payload.val.string.len);

	it = JsonbIteratorInit(jc);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			child.key = v.val.string.val;
			child.keylen = v.val.string.len;
		}
		else if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvBinary &&
				 !is_canonical(v.val.binary.data, &child))
			return false;
		if (tok == WJB_ELEM)
			child.index++;
	}
	return true;
}

/*
 * Push the canonical form of jc into *state as one complete value, in
 * whatever position the state is at.  Returns the result of the last push.
 */
static JsonbValue *
push_canonical_tree(JsonbParseState **state, JsonbContainer *jc, const WaPath *path)
{
	JsonbValue	payload;
	BufferForm	form = walk_node(jc, path, &payload);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *res = NULL;
	WaPath		child = {path, NULL, 0, 0};

	if (form != NOT_A_BUFFER)
		return push_canonical_buffer(state, buffer_bytes(jc, form, &payload, path));

	it = JsonbIteratorInit(jc);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_KEY:
				child.key = v.val.string.val;
				child.keylen = v.val.string.len;
				res = pushJsonbValue(state, tok, &v);
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (v.type == jbvBinary)
					res = push_canonical_tree(state, v.val.binary.data, &child);
				else
					res = pushJsonbValue(state, tok, &v);
				if (tok == WJB_ELEM)
					child.index++;
				break;
			case WJB_BEGIN_ARRAY:
			case WJB_BEGIN_OBJECT:
				/* v carries rawScalar and the size hint */
				res = pushJsonbValue(state, tok, &v);
				break;
			default:
				res = pushJsonbValue(state, tok, NULL);
				break;
		}
	}
	return res;
}

/*
 * The canonical form of a value (a scalar, or a container as jbvBinary, e.g.
 * one member of the keys_set document) as a new jsonb, or NULL when the
 * container is canonical already and can be used in place.
 */
static Jsonb *
canonical_jsonb(JsonbValue *value, const WaPath *path)
{
	JsonbParseState *state = NULL;

	if (value->type != jbvBinary)
		return JsonbValueToJsonb(value);
	if (JsonContainerIsScalar(value->val.binary.data) ||
		is_canonical(value->val.binary.data, path))
		return NULL;
	return JsonbValueToJsonb(push_canonical_tree(&state, value->val.binary.data, path));
}

/*
 * The canonical form of a value as a jsonb container of *len bytes: the
 * value's own container when it is canonical already (no copy).
 */
JsonbContainer *
wa_canonical_container(JsonbValue *value, const WaPath *path, uint32 *len)
{
	Jsonb	   *built = canonical_jsonb(value, path);

	if (built == NULL)
	{
		*len = value->val.binary.len;
		return value->val.binary.data;
	}
	*len = VARSIZE(built) - VARHDRSZ;
	return &built->root;
}

/* The canonical form of a value as a standalone jsonb. */
Jsonb *
wa_normalize_jsonb_value(JsonbValue *value, const WaPath *path)
{
	Jsonb	   *built = canonical_jsonb(value, path);

	if (built == NULL)
	{
		built = palloc(VARHDRSZ + value->val.binary.len);
		SET_VARSIZE(built, VARHDRSZ + value->val.binary.len);
		memcpy(&built->root, value->val.binary.data, value->val.binary.len);
	}
	return built;
}

/* The canonical form of a whole document: doc itself when canonical. */
Jsonb *
wa_normalize_value(Jsonb *doc, const WaPath *path)
{
	JsonbValue	root;
	Jsonb	   *built;

	root.type = jbvBinary;
	root.val.binary.data = &doc->root;
	root.val.binary.len = VARSIZE(doc) - VARHDRSZ;
	built = canonical_jsonb(&root, path);
	return built ? built : doc;
}

static void
raise_not_a_buffer(const WaPath *path)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("value at %s is not a Buffer node", wa_path_string(path)),
			 errhint("A Buffer node is {\"type\":\"Buffer\",\"data\":\"<base64>\"} or one of the forms Baileys and Node write.")));
}

/*
 * The bytes of the Buffer node at the root of container jc.
 */
static bytea *
container_buffer(JsonbContainer *jc, const WaPath *path)
{
	JsonbValue	payload;
	BufferForm	form = NOT_A_BUFFER;

	if (JsonContainerIsObject(jc))
		form = buffer_form(jc, path, &payload);
	if (form == NOT_A_BUFFER)
		raise_not_a_buffer(path);
	return buffer_bytes(jc, form, &payload, path);
}

/* SQL function: buffer_decode(node jsonb) returns bytea */
Datum
wa_buffer_decode(PG_FUNCTION_ARGS)
{
	Jsonb	   *node = PG_GETARG_JSONB_P(0);

	PG_RETURN_BYTEA_P(container_buffer(&node->root, NULL));
}

/* SQL function: buffer_encode(bytes bytea) returns jsonb */
Datum
wa_buffer_encode(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	JsonbParseState *state = NULL;

	PG_RETURN_JSONB_P(JsonbValueToJsonb(push_canonical_buffer(&state, bytes)));
}

/* SQL function: buffers_normalize(doc jsonb) returns jsonb */
Datum
wa_buffers_normalize(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(wa_normalize_value(PG_GETARG_JSONB_P(0), NULL));
}

/*
 * SQL function: jsonb_buffer(doc jsonb, VARIADIC path text[]) returns bytea
 *
 * Follows path like the #> operator (object keys, array indexes) and decodes
 * the Buffer found there; NULL when the path leads nowhere.
 */
Datum
wa_jsonb_buffer(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc = PG_GETARG_JSONB_P(0);
	ArrayType  *path = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	JsonbContainer *jc = &doc->root;
	WaPath	   *steps;
	const WaPath *at = NULL;

	deconstruct_array(path, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	steps = palloc0(sizeof(WaPath) * Max(n, 1));

	for (i = 0; i < n; i++)
	{
		JsonbValue	found;
		JsonbValue *v = NULL;
		char	   *step;

		if (nulls[i])
			PG_RETURN_NULL();
		step = TextDatumGetCString(elems[i]);
		if (JsonContainerIsScalar(jc))
			PG_RETURN_NULL();
		if (JsonContainerIsObject(jc))
		{
			v = getKeyJsonValueFromContainer(jc, step, strlen(step), &found);
			steps[i] = (WaPath) {at, step, strlen(step), 0};
		}
		else
		{
			char	   *end;
			long		idx = strtol(step, &end, 10);

			if (*step != '\0' && *end == '\0' && idx >= 0 && idx < (long) JsonContainerSize(jc))
				v = getIthJsonbValueFromContainer(jc, (uint32) idx);
			steps[i] = (WaPath) {at, NULL, 0, (int) idx};
		}
		if (v == NULL)
			PG_RETURN_NULL();
		at = &steps[i];
		if (v->type != jbvBinary)
		{
			if (i == n - 1)
				raise_not_a_buffer(at);
			PG_RETURN_NULL();
		}
		jc = v->val.binary.data;
	}
	PG_RETURN_BYTEA_P(container_buffer(jc, at));
}
