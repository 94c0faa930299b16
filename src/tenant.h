/*
 * tenant.h
 *	  Tenant pinning (whatsapp_auth.company_id); each check raises 42501.
 */
#ifndef WA_TENANT_H
#define WA_TENANT_H

extern void wa_check_company_access(const char *company_id);
extern void wa_check_unpinned(const char *what);

#endif							/* WA_TENANT_H */
