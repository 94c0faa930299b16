/*
 * whatsapp_auth.c
 *	  Module entry point: each module defines its settings.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "whatsapp_auth.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	wa_value_size_init();
	wa_tenant_init();
	wa_health_init();
	wa_purge_init();
	MarkGUCPrefixReserved("whatsapp_auth");

	wa_stats_init();
}
