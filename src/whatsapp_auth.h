/*
 * whatsapp_auth.h
 *	  Declarations shared by the whatsapp_auth source files.
 */
#ifndef WHATSAPP_AUTH_H
#define WHATSAPP_AUTH_H

#include "postgres.h"

#include "utils/jsonb.h"

/* Settings (whatsapp_auth.c) */
extern int	wa_max_value_size;
extern int	wa_stale_after;
extern double wa_expired_ratio_warn;
extern int	wa_expired_count_warn;
extern int	wa_purge_overdue_after;
extern int	wa_purge_log_retention;

/* Identifier checks (validate.c); each raises 22023 naming the value. */
extern void wa_check_company_id(const char *company_id);
extern void wa_check_key_type(const char *key_type, int len);
extern void wa_check_key_id(const char *key_id, int len);

/*
 * A step of the path from the document root to the value being walked; the
 * chain lives on the C stack and is only formatted when an error is raised.
 */
typedef struct WaPath
{
	const struct WaPath *parent;
	const char *key;			/* object key, or NULL for an array element */
	int			keylen;
	int			index;			/* array index when key is NULL */
} WaPath;

extern char *wa_path_string(const WaPath *path);

/* Buffer-aware JSONB (jsonb_buffers.c) */
extern Jsonb *wa_normalize_value(Jsonb *doc, const WaPath *path);
extern Jsonb *wa_normalize_jsonb_value(JsonbValue *value, const WaPath *path);
extern void wa_check_value_size(Jsonb *value, const WaPath *path);

#endif							/* WHATSAPP_AUTH_H */
