/*
 * jsonb_object.h
 *	  A jsonb object from stored values, copied in without decoding.
 */
#ifndef WA_JSONB_OBJECT_H
#define WA_JSONB_OBJECT_H

#include "utils/jsonb.h"

typedef struct WaJsonbPair
{
	const char *key;
	int			keylen;
	Jsonb	   *value;
} WaJsonbPair;

extern Jsonb *wa_jsonb_object(WaJsonbPair *pairs, int n);

#endif							/* WA_JSONB_OBJECT_H */
