/*
 * writeset.h
 *	  The key writes of one call: collected, then applied sorted by
 *	  (key_type, key_id) bytewise, one write per key (the last wins).
 */
#ifndef WA_WRITESET_H
#define WA_WRITESET_H

#include "utils/jsonb.h"
#include "utils/tuplesort.h"

#include "path.h"

typedef struct WaKeyWrite
{
	char	   *key_type;
	char	   *key_id;
	JsonbContainer *value;		/* canonical; NULL deletes */
	uint32		value_len;		/* bytes in value */
	int			ord;			/* position in the input */
} WaKeyWrite;

/* Start one zeroed ({0}); it lives in the memory context current at its first add. */
typedef struct WaWriteSet
{
	WaKeyWrite *writes;
	int			count;
	int			capacity;
	MemoryContext scratch;		/* checking one value; reset after each */
	Tuplesortstate *spilled;	/* or the writes sorted in work_mem, then on disk */
} WaWriteSet;

extern void wa_writeset_spill(WaWriteSet *set);
extern void wa_writeset_add(WaWriteSet *set, char *key_type, char *key_id,
							JsonbValue *value, const WaPath *path);
extern void wa_writeset_add_document(WaWriteSet *set, JsonbContainer *data,
									 const WaPath *path);
extern void wa_writeset_apply(const char *company_id, WaWriteSet *set,
							  uint64 *upserted, uint64 *deleted);

#endif							/* WA_WRITESET_H */
