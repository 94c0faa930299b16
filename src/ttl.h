/*
 * ttl.h
 *	  The TTL policy of key types (table key_ttl).
 */
#ifndef WA_TTL_H
#define WA_TTL_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* The expiry the writes of one key type get within a call. */
typedef struct WaTtlEntry
{
	const char *key_type;
	bool		expires;
	TimestampTz expires_at;		/* when expires */
} WaTtlEntry;

extern const WaTtlEntry *wa_ttl_cached(List **cache, const char *key_type);

#endif							/* WA_TTL_H */
