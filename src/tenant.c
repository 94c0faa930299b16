/*
 * tenant.c
 *	  Tenant pinning: the whatsapp_auth.company_id setting.
 *
 * A pooled application connection sets it (SET LOCAL, per transaction) to
 * the company it serves; every function then refuses any other company, and
 * the row level security policies of creds and keys read the same setting,
 * so a bug that passes the wrong company id cannot reach another tenant's
 * keys.  Empty (the default) pins nothing.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "tenant.h"
#include "validate.h"
#include "whatsapp_auth.h"

static char *pinned_company = NULL;

/* GUC check hook: empty, or a well-formed company id. */
static bool
check_pinned_company(char **newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (**newval == '\0' || wa_company_id_is_valid(*newval, strlen(*newval)))
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errdetail("A company_id is 1 to 50 characters among A-Z, a-z, 0-9, \"_\" and \"-\"; empty pins no company.");
	return false;
}

static inline bool
is_pinned(void)
{
	return pinned_company != NULL && pinned_company[0] != '\0';
}

/* Raise 42501 unless the session may work on this (valid) company. */
void
wa_check_company_access(const char *company_id)
{
	if (is_pinned() && strcmp(company_id, pinned_company) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("company \"%s\" is not the company this session is pinned to",
						company_id),
				 errdetail("whatsapp_auth.company_id is \"%s\".", pinned_company)));
}

/* Raise 42501 when pinned: what works on every company needs an unpinned session. */
void
wa_check_unpinned(const char *what)
{
	if (is_pinned())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s works on every company, and this session is pinned to company \"%s\"",
						what, pinned_company),
				 errhint("Run it in a session where whatsapp_auth.company_id is empty.")));
}

void
wa_tenant_init(void)
{
	/*
	 * Per session or transaction, by the application itself: a pinned
	 * connection cannot reach another company by mistake.  Not a boundary
	 * against a role that can run its own SQL (it can reset the setting).
	 */
	DefineCustomStringVariable("whatsapp_auth.company_id",
							   "Pins the session to one company: other companies are refused and hidden.",
							   "Empty pins no company.",
							   &pinned_company,
							   "",
							   PGC_USERSET, 0,
							   check_pinned_company, NULL, NULL);
}
