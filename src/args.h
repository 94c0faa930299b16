/*
 * args.h
 *	  Arguments of the SQL entry points, checked the same way everywhere.
 */
#ifndef WA_ARGS_H
#define WA_ARGS_H

#include "fmgr.h"

extern void wa_arg_not_null(FunctionCallInfo fcinfo, int n, const char *name,
							const char *hint);
extern void wa_check_company(const char *company_id);
extern char *wa_company_arg(FunctionCallInfo fcinfo, int n);
extern char *wa_key_type_arg(FunctionCallInfo fcinfo, int n);
extern char **wa_text_array_arg(FunctionCallInfo fcinfo, int n, const char *name,
								int *count);

#endif							/* WA_ARGS_H */
