/*
 * args.c
 *	  Arguments of the SQL entry points.  Writers are not STRICT (a NULL
 *	  would silently do nothing), so each refuses NULL here with 22004;
 *	  identifiers are checked (22023) and the company against the session's
 *	  pin (42501) before anything is read or written.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "args.h"
#include "tenant.h"
#include "validate.h"

/*
 * Raise 22004 "<name> must not be null" when argument n is NULL.  name may
 * list several arguments that share the rule; hint may be NULL.
 */
void
wa_arg_not_null(FunctionCallInfo fcinfo, int n, const char *name, const char *hint)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name),
				 hint ? errhint("%s", hint) : 0));
}

/* A company id from the caller: well formed, and the session's own. */
void
wa_check_company(const char *company_id)
{
	wa_check_company_id(company_id);
	wa_check_company_access(company_id);
}

/* The company_id argument: not null, well formed, and the session's own. */
char *
wa_company_arg(FunctionCallInfo fcinfo, int n)
{
	char	   *company_id;

	wa_arg_not_null(fcinfo, n, "company_id", NULL);
	company_id = text_to_cstring(PG_GETARG_TEXT_PP(n));
	wa_check_company(company_id);
	return company_id;
}

/* The key_type argument: not null and well formed. */
char *
wa_key_type_arg(FunctionCallInfo fcinfo, int n)
{
	char	   *key_type;

	wa_arg_not_null(fcinfo, n, "key_type", NULL);
	key_type = text_to_cstring(PG_GETARG_TEXT_PP(n));
	wa_check_key_type(key_type, strlen(key_type));
	return key_type;
}

/* A text[] argument as C strings; NULL elements are refused. */
char **
wa_text_array_arg(FunctionCallInfo fcinfo, int n, const char *name, int *count)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			i;

	wa_arg_not_null(fcinfo, n, name, NULL);
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
