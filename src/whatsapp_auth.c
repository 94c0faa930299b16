/*
 * whatsapp_auth.c
 *	  Module entry point and settings.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "whatsapp_auth.h"

PG_MODULE_MAGIC;

/* Largest stored value (creds document or one key), in bytes of jsonb. */
int			wa_max_value_size = 4 * 1024 * 1024;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("whatsapp_auth.max_value_size",
							"Largest creds document or key value accepted, in bytes.",
							"Writes of a larger value fail with program_limit_exceeded; "
							"a real Baileys value is a few kilobytes.",
							&wa_max_value_size,
							4 * 1024 * 1024,
							1024,
							MaxAllocSize / 2,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("whatsapp_auth");
}
