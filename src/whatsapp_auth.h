/*
 * whatsapp_auth.h
 *	  Declarations shared by the whatsapp_auth source files.
 */
#ifndef WHATSAPP_AUTH_H
#define WHATSAPP_AUTH_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

/* Settings (whatsapp_auth.c) */
extern int	wa_max_value_size;
extern int	wa_stale_after;
extern double wa_expired_ratio_warn;
extern int	wa_expired_count_warn;
extern int	wa_purge_overdue_after;
extern int	wa_purge_log_retention;

/* Tenant pinning (tenant.c): whatsapp_auth.company_id; each check raises 42501. */
extern char *wa_pinned_company;
extern bool wa_check_pinned_company(char **newval, void **extra, GucSource source);
extern void wa_check_company_access(const char *company_id);
extern void wa_check_unpinned(const char *what);

/* Identifier checks (validate.c); each raises 22023 naming the value. */
extern bool wa_company_id_is_valid(const char *company_id, int len);
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
extern JsonbContainer *wa_canonical_container(JsonbValue *value, const WaPath *path,
											  uint32 *len);
extern void wa_check_value_size(Size size, const WaPath *path);

/*
 * Kept SPI plans (spi_plans.c).  Statements are schema-qualified, operators
 * included, so nothing on the caller's search_path can stand in for them.
 * OPERATOR() forms all share one precedence: parenthesise mixed ones.
 */
#define WA_OP(o) "OPERATOR(pg_catalog." o ")"

typedef struct WaStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[6];
	SPIPlanPtr	plan;			/* prepared on first use, kept */
	int			cursor_options; /* WA_GENERIC_PLAN: never planned per call */
} WaStatement;

/*
 * For the statements run on every key call, whose best plan does not depend
 * on the arguments: one plan per backend instead of the plan cache's first
 * five custom plans, each of which copies the arguments (a whole batch of
 * values) into the plan.
 */
#define WA_GENERIC_PLAN CURSOR_OPT_GENERIC_PLAN

extern SPIPlanPtr wa_kept_plan(WaStatement *stmt);
extern void wa_execute(WaStatement *stmt, Datum *values, const char *nulls,
					   bool read_only, int expected);
extern Datum wa_first_value(bool *isnull);

/*
 * Key writes of one call (writeset.c): collected, then applied sorted by
 * (key_type, key_id) bytewise, one write per key (the last wins).
 */
typedef struct WaKeyWrite
{
	char	   *key_type;
	char	   *key_id;
	JsonbContainer *value;		/* canonical; NULL deletes */
	uint32		value_len;		/* bytes in value */
	int			ord;			/* position in the input */
} WaKeyWrite;

typedef struct WaWriteSet
{
	WaKeyWrite *writes;
	int			count;
	int			capacity;
} WaWriteSet;

extern void wa_writeset_add(WaWriteSet *set, char *key_type, char *key_id,
							JsonbValue *value, const WaPath *path);
extern void wa_writeset_add_document(WaWriteSet *set, JsonbContainer *data,
									 const WaPath *path);
extern void wa_writeset_apply(const char *company_id, WaWriteSet *set,
							  uint64 *upserted, uint64 *deleted);

/* TTL policy (ttl.c) */
extern bool wa_ttl_lookup(const char *key_type, Interval *ttl);
extern TimestampTz wa_expiry_after(Interval *ttl);

/* A jsonb object from stored values, copied in without decoding (jsonb_object.c) */
typedef struct WaJsonbPair
{
	const char *key;
	int			keylen;
	Jsonb	   *value;
} WaJsonbPair;

extern Jsonb *wa_jsonb_object(WaJsonbPair *pairs, int n);

/*
 * Statistics (stats.c): what the current SQL call read and wrote, added to
 * its counters when it returns; nothing outside a counted call.
 */
extern void wa_stats_init(void);
extern void wa_stats_keys_read(uint64 keys, uint64 bytes_out);
extern void wa_stats_keys_written(uint64 upserted, uint64 deleted);
extern void wa_stats_bytes_in(uint64 bytes);
extern void wa_stats_bytes_out(uint64 bytes);

/* Company rows (keystore.c); callers are SPI-connected. */
extern void wa_store_creds(const char *company_id, Jsonb *creds);
extern int64 wa_remove_company(const char *company_id);

#endif							/* WHATSAPP_AUTH_H */
