/*
 * path.c
 *	  JSON paths in SQL/JSON notation, e.g. $."pre-key"."17".private.data[3],
 *	  the way every error message names the value it refuses.
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "path.h"

/* True when a key can follow "." unquoted in a path. */
static bool
is_plain_key(const char *key, int len)
{
	int			i;

	if (len == 0 || (key[0] >= '0' && key[0] <= '9'))
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = key[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static void
append_path(StringInfo buf, const WaPath *path)
{
	if (path == NULL)
	{
		appendStringInfoChar(buf, '$');
		return;
	}
	append_path(buf, path->parent);
	if (path->key == NULL)
		appendStringInfo(buf, "[%d]", path->index);
	else if (is_plain_key(path->key, path->keylen))
		appendStringInfo(buf, ".%.*s", path->keylen, path->key);
	else
	{
		int			i;

		appendStringInfoString(buf, ".\"");
		for (i = 0; i < path->keylen; i++)
		{
			char		c = path->key[i];

			if (c == '"' || c == '\\')
				appendStringInfoChar(buf, '\\');
			appendStringInfoChar(buf, c);
		}
		appendStringInfoChar(buf, '"');
	}
}

char *
wa_path_string(const WaPath *path)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_path(&buf, path);
	return buf.data;
}
