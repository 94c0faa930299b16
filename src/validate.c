/*
 * validate.c
 *	  Checks of company ids, key types and key ids.
 *
 * The same rules stand as CHECK constraints on the tables; checking here
 * first gives callers 22023 with the bad value named instead of a constraint
 * violation on some row.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "validate.h"

/* Longest part of a bad value quoted back in a message. */
#define WA_QUOTE_MAX 80

/* The value as it goes into a message: cut short when long. */
char *
wa_quote_for_message(const char *value, int len)
{
	if (len <= WA_QUOTE_MAX)
		return pnstrdup(value, len);
	return psprintf("%s...", pnstrdup(value, pg_mbcliplen(value, len, WA_QUOTE_MAX)));
}

/* True for a-z 0-9 - */
static inline bool
is_key_type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

void
wa_check_company_id(const char *company_id)
{
	int			len = strlen(company_id);

	if (!wa_company_id_is_valid(company_id, len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid company_id \"%s\"",
						wa_quote_for_message(company_id, len)),
				 errdetail("A company_id is 1 to 50 characters among A-Z, a-z, 0-9, \"_\" and \"-\".")));
}

void
wa_check_key_type(const char *key_type, int len)
{
	int			i;
	bool		ok = len >= 1 && len <= 64;

	for (i = 0; ok && i < len; i++)
		ok = is_key_type_char(key_type[i]);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key type \"%s\"",
						wa_quote_for_message(key_type, len)),
				 errdetail("A key type is 1 to 64 characters among a-z, 0-9 and \"-\".")));
}

void
wa_check_key_id(const char *key_id, int len)
{
	int			chars = pg_mbstrlen_with_len(key_id, len);

	if (chars < 1 || chars > 255)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key id \"%s\"", wa_quote_for_message(key_id, len)),
				 errdetail("A key id is 1 to 255 characters; this one has %d.", chars)));
}
