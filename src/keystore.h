/*
 * keystore.h
 *	  A company's rows and the shared parts of the key entry points.
 */
#ifndef WA_KEYSTORE_H
#define WA_KEYSTORE_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "spi_plans.h"
#include "writeset.h"

extern void wa_store_creds(const char *company_id, Jsonb *creds);
extern bool wa_company_has_state(const char *company_id);
extern int64 wa_remove_company(const char *company_id);
extern Datum wa_company_value(FunctionCallInfo fcinfo, WaStatement *stmt);
extern Datum wa_keys_set_apply(FunctionCallInfo fcinfo, const char *company_id,
							   WaWriteSet *set);
extern void wa_keys_select(FunctionCallInfo fcinfo);

#endif							/* WA_KEYSTORE_H */
