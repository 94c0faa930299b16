/*
 * whatsapp_auth.c
 *	  Module entry point and settings.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "whatsapp_auth.h"

PG_MODULE_MAGIC;

#define HOUR_S (60 * 60)
#define DAY_S (24 * HOUR_S)

int			wa_max_value_size = 4 * 1024 * 1024;
int			wa_stale_after = 48 * HOUR_S;
double		wa_expired_ratio_warn = 0.5;
int			wa_expired_count_warn = 500;
int			wa_purge_overdue_after = 48 * HOUR_S;
int			wa_purge_log_retention = 30 * DAY_S;

void		_PG_init(void);

void
_PG_init(void)
{
	/* A safety limit on what clients may store: only superusers change it. */
	DefineCustomIntVariable("whatsapp_auth.max_value_size",
							"Largest creds document or key value accepted, in bytes.",
							"Writes of a larger value fail with program_limit_exceeded; "
							"a real Baileys value is a few kilobytes.",
							&wa_max_value_size,
							4 * 1024 * 1024, 1024, MaxAllocSize / 2,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	/* health() thresholds: a monitoring role may tune them per session. */
	DefineCustomIntVariable("whatsapp_auth.stale_after",
							"health(company): status high when no key was written for this long.",
							NULL,
							&wa_stale_after,
							48 * HOUR_S, 60, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomRealVariable("whatsapp_auth.expired_ratio_warn",
							 "health(company): status medium when more than this fraction of its keys is expired.",
							 NULL,
							 &wa_expired_ratio_warn,
							 0.5, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("whatsapp_auth.expired_count_warn",
							"health(): status medium when more keys than this are expired and no purge ran lately.",
							NULL,
							&wa_expired_count_warn,
							500, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whatsapp_auth.purge_overdue_after",
							"health(): a purge is overdue when none finished for this long.",
							NULL,
							&wa_purge_overdue_after,
							48 * HOUR_S, 60, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("whatsapp_auth.purge_log_retention",
							"Each purge deletes purge_log rows older than this; 0 keeps them all.",
							NULL,
							&wa_purge_log_retention,
							30 * DAY_S, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	/*
	 * Per session or transaction, by the application itself: a pinned
	 * connection cannot reach another company by mistake.  Not a boundary
	 * against a role that can run its own SQL (it can reset the setting).
	 */
	DefineCustomStringVariable("whatsapp_auth.company_id",
							   "Pins the session to one company: other companies are refused and hidden.",
							   "Empty pins no company.",
							   &wa_pinned_company,
							   "",
							   PGC_USERSET, 0,
							   wa_check_pinned_company, NULL, NULL);

	MarkGUCPrefixReserved("whatsapp_auth");

	wa_stats_init();
}
