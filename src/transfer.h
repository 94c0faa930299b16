/*
 * transfer.h
 *	  A company's whole state, stored in place of what it had.
 */
#ifndef WA_TRANSFER_H
#define WA_TRANSFER_H

#include "utils/jsonb.h"

#include "writeset.h"

extern int64 wa_load_company_state(const char *company_id, Jsonb *creds,
								   WaWriteSet *set, bool replace);

#endif							/* WA_TRANSFER_H */
