/*
 * lease.h
 *	  Account leases and fenced writes (lease.c).
 */
#ifndef WHATSAPP_AUTH_LEASE_H
#define WHATSAPP_AUTH_LEASE_H

#include "fmgr.h"
#include "utils/jsonb.h"

/*
 * The fence of one company's write: returns if a write carrying this token
 * (has_token false: none) may proceed, else raises 55006 naming the lease's
 * holder and its end.  Call it before the write's first statement, in the
 * write's transaction; it holds the company's lease lock until that
 * transaction ends.  The caller is SPI-connected.
 */
extern void wa_lease_fence(const char *company_id, bool has_token, int64 token);

/*
 * For a call that writes many companies (import_legacy): no lease changes
 * until the transaction ends, and wa_lease_fence takes no lock per company.
 */
extern void wa_lease_lock_all(void);

/* The same for argument n of a write function (SQL NULL or absent: no token). */
extern void wa_lease_fence_arg(FunctionCallInfo fcinfo, int n, const char *company_id);

/*
 * health(): doc plus {"lease": ...} of the company, or {"live_leases": n}
 * for the store (company_id NULL).  The caller is SPI-connected; the result
 * lives in the caller's upper context, as SPI_datumTransfer leaves it.
 */
extern Jsonb *wa_lease_health(Jsonb *doc, const char *company_id);

#endif							/* WHATSAPP_AUTH_LEASE_H */
