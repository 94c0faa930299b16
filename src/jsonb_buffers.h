/*
 * jsonb_buffers.h
 *	  Baileys Buffer nodes inside JSONB: validated and canonical.
 */
#ifndef WA_JSONB_BUFFERS_H
#define WA_JSONB_BUFFERS_H

#include "utils/jsonb.h"

#include "path.h"

extern Jsonb *wa_normalize_value(Jsonb *doc, const WaPath *path);
extern Jsonb *wa_normalize_jsonb_value(JsonbValue *value, const WaPath *path);
extern JsonbContainer *wa_canonical_container(JsonbValue *value, const WaPath *path,
											  uint32 *len);

#endif							/* WA_JSONB_BUFFERS_H */
