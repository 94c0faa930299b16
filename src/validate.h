/*
 * validate.h
 *	  Checks of company ids, key types and key ids; each raises 22023
 *	  naming the value.
 */
#ifndef WA_VALIDATE_H
#define WA_VALIDATE_H

#include "company_id.h"

extern char *wa_quote_for_message(const char *value, int len);
extern void wa_check_company_id(const char *company_id);
extern void wa_check_key_type(const char *key_type, int len);
extern void wa_check_key_id(const char *key_id, int len);

#endif							/* WA_VALIDATE_H */
