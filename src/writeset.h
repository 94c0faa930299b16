/*
 * writeset.h
 *	  The key writes of one call: collected, then applied sorted by
 *	  (key_type, key_id) bytewise, one write per key (the last wins).
 */
#ifndef WA_WRITESET_H
#define WA_WRITESET_H

#include "utils/jsonb.h"

#include "path.h"

typedef struct WaKeyWrite
{
	char	   *key_type;
	char	   *key_id;
	JsonbContainer *value;		/* canonical; NULL deletes unless source */
	uint32		value_len;		/* bytes in value (canonical) */
	const char *source;			/* or the value's text, parsed again when written */
	int			source_len;
	int			ord;			/* position in the input */
} WaKeyWrite;

/* Parses a write's source text again into *value, as it was checked. */
typedef void (*WaParseSource) (const WaKeyWrite *w, JsonbValue *value);

/* Start one zeroed ({0}); it lives in the memory context current at its first add. */
typedef struct WaWriteSet
{
	WaKeyWrite *writes;
	int			count;
	int			capacity;
	MemoryContext scratch;		/* checking one value; reset after each */
	WaParseSource parse_source; /* for writes added with their source */
} WaWriteSet;

extern void wa_writeset_add(WaWriteSet *set, char *key_type, char *key_id,
							JsonbValue *value, const WaPath *path);
extern void wa_writeset_add_source(WaWriteSet *set, char *key_type, char *key_id,
								   JsonbValue *value, const WaPath *path,
								   const char *source, int source_len);
extern void wa_writeset_add_document(WaWriteSet *set, JsonbContainer *data,
									 const WaPath *path);
extern void wa_writeset_apply(const char *company_id, WaWriteSet *set,
							  uint64 *upserted, uint64 *deleted);

#endif							/* WA_WRITESET_H */
