/*
 * value_size.h
 *	  The largest value a client may store (whatsapp_auth.max_value_size).
 */
#ifndef WA_VALUE_SIZE_H
#define WA_VALUE_SIZE_H

#include "path.h"

extern void wa_check_value_size(Size size, const WaPath *path);

#endif							/* WA_VALUE_SIZE_H */
