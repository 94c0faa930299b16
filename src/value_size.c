/*
 * value_size.c
 *	  whatsapp_auth.max_value_size: a safety limit on what clients store,
 *	  checked on every creds document and key value written.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/memutils.h"

#include "value_size.h"
#include "whatsapp_auth.h"

#define MAX_VALUE_SIZE_DEFAULT (4 * 1024 * 1024)

static int	max_value_size = MAX_VALUE_SIZE_DEFAULT;

void
wa_value_size_init(void)
{
	/* Only superusers change it: it protects the server, not a client. */
	DefineCustomIntVariable("whatsapp_auth.max_value_size",
							"Largest creds document or key value accepted, in bytes.",
							"Writes of a larger value fail with program_limit_exceeded; "
							"a real Baileys value is a few kilobytes.",
							&max_value_size,
							MAX_VALUE_SIZE_DEFAULT, 1024, MaxAllocSize / 2,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
}

/* Values over whatsapp_auth.max_value_size are refused with 54000. */
void
wa_check_value_size(Size size, const WaPath *path)
{
	if (size > (Size) max_value_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value at %s is %zu bytes, more than whatsapp_auth.max_value_size (%d bytes)",
						wa_path_string(path), size, max_value_size)));
}
