/*
 * health.c
 *	  health(): statistics of the key store and a status with its reasons.
 *
 * The figures come from one SQL statement (a tenant's rows through the
 * primary key, or the whole table for the store-wide view; plain reads,
 * so writers are never blocked); the rules that turn them into a status
 * live here, with their thresholds in settings.
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "args.h"
#include "lease.h"
#include "spi_plans.h"
#include "tenant.h"
#include "whatsapp_auth.h"

PG_FUNCTION_INFO_V1(wa_health);

#define HOUR_S (60 * 60)
#define STALE_AFTER_DEFAULT (48 * HOUR_S)
#define EXPIRED_RATIO_WARN_DEFAULT 0.5
#define EXPIRED_COUNT_WARN_DEFAULT 500
#define PURGE_OVERDUE_AFTER_DEFAULT (48 * HOUR_S)

static int	stale_after = STALE_AFTER_DEFAULT;
static double expired_ratio_warn = EXPIRED_RATIO_WARN_DEFAULT;
static int	expired_count_warn = EXPIRED_COUNT_WARN_DEFAULT;
static int	purge_overdue_after = PURGE_OVERDUE_AFTER_DEFAULT;

/* health()'s thresholds: a monitoring role may tune them per session. */
void
wa_health_init(void)
{
	DefineCustomIntVariable("whatsapp_auth.stale_after",
							"health(company): status high when no key was written for this long.",
							NULL,
							&stale_after,
							STALE_AFTER_DEFAULT, 60, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomRealVariable("whatsapp_auth.expired_ratio_warn",
							 "health(company): status medium when more than this fraction of its keys is expired.",
							 NULL,
							 &expired_ratio_warn,
							 EXPIRED_RATIO_WARN_DEFAULT, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("whatsapp_auth.expired_count_warn",
							"health(): status medium when more keys than this are expired and no purge ran lately.",
							NULL,
							&expired_count_warn,
							EXPIRED_COUNT_WARN_DEFAULT, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("whatsapp_auth.purge_overdue_after",
							"health(): a purge is overdue when none finished for this long.",
							NULL,
							&purge_overdue_after,
							PURGE_OVERDUE_AFTER_DEFAULT, 60, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}
#define AGO(i) "(pg_catalog.now() " WA_OP("-") " '" i "'::pg_catalog.interval)"
#define UPDATED_AFTER(i) "k.updated_at " WA_OP(">") " " AGO(i)
#define UPDATED_BY(i) "k.updated_at " WA_OP("<=") " " AGO(i)

/*
 * %1$s filters keys and creds (a company, or nothing); %2$s counts companies.
 * Returns the document without status/reasons, and the figures the rules use.
 */
#define HEALTH_SQL \
	"WITH t AS (" \
	"  SELECT k.key_type, pg_catalog.count(*) AS keys," \
	"    pg_catalog.count(*) FILTER (WHERE k.expires_at " WA_OP("<=") " pg_catalog.now()) AS expired," \
	"    pg_catalog.count(*) FILTER (WHERE k.expires_at IS NULL) AS never," \
	"    pg_catalog.sum(pg_catalog.pg_column_size(k.value)) AS bytes," \
	"    pg_catalog.max(k.updated_at) AS last_update," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_AFTER("1 day") ") AS d1," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("1 day") " AND " UPDATED_AFTER("7 days") ") AS d7," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("7 days") " AND " UPDATED_AFTER("14 days") ") AS d14," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("14 days") " AND " UPDATED_AFTER("30 days") ") AS d30," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("30 days") ") AS older" \
	"  FROM whatsapp_auth.keys k %1$s GROUP BY k.key_type)," \
	" tot AS (" \
	"  SELECT COALESCE(pg_catalog.sum(t.keys), 0)::pg_catalog.int8 AS keys," \
	"    COALESCE(pg_catalog.sum(t.expired), 0)::pg_catalog.int8 AS expired," \
	"    COALESCE(pg_catalog.sum(t.never), 0)::pg_catalog.int8 AS never," \
	"    pg_catalog.max(t.last_update) AS last_update," \
	"    COALESCE(pg_catalog.jsonb_object_agg(t.key_type, pg_catalog.jsonb_build_object(" \
	"      'keys', t.keys, 'expired', t.expired, 'bytes', t.bytes))," \
	"      '{}'::pg_catalog.jsonb) AS by_type," \
	"    pg_catalog.jsonb_build_object(" \
	"      '<1d', COALESCE(pg_catalog.sum(t.d1), 0), '1-7d', COALESCE(pg_catalog.sum(t.d7), 0)," \
	"      '7-14d', COALESCE(pg_catalog.sum(t.d14), 0), '14-30d', COALESCE(pg_catalog.sum(t.d30), 0)," \
	"      '>30d', COALESCE(pg_catalog.sum(t.older), 0)) AS buckets" \
	"  FROM t)," \
	" c AS (SELECT pg_catalog.count(*) AS n, pg_catalog.max(k.updated_at) AS last_update" \
	"       FROM whatsapp_auth.creds k %1$s)," \
	" p AS (SELECT l.* FROM whatsapp_auth.purge_log l ORDER BY l.id DESC LIMIT 1)" \
	" SELECT pg_catalog.jsonb_build_object(" \
	"    'companies', %2$s," \
	"    'total_keys', tot.keys, 'expired_keys', tot.expired, 'never_expiring_keys', tot.never," \
	"    'keys_by_type', tot.by_type, 'age_buckets', tot.buckets," \
	"    'last_key_update', tot.last_update, 'last_creds_update', c.last_update," \
	"    'table_bytes', (pg_catalog.pg_table_size('whatsapp_auth.keys'::pg_catalog.regclass)" \
	"        " WA_OP("+") " pg_catalog.pg_table_size('whatsapp_auth.creds'::pg_catalog.regclass))," \
	"    'index_bytes', (pg_catalog.pg_indexes_size('whatsapp_auth.keys'::pg_catalog.regclass)" \
	"        " WA_OP("+") " pg_catalog.pg_indexes_size('whatsapp_auth.creds'::pg_catalog.regclass))," \
	"    'last_purge', (SELECT pg_catalog.to_jsonb(p) FROM p))," \
	"  tot.keys, tot.expired, tot.last_update, c.n " WA_OP(">") " 0," \
	"  (SELECT pg_catalog.max(l.finished_at) FROM whatsapp_auth.purge_log l WHERE NOT l.dry_run)" \
	" FROM tot, c"

#define TENANT_FILTER "WHERE k.company_id " WA_OP("=") " $1"
#define TENANT_COMPANIES "((c.n " WA_OP("+") " tot.keys) " WA_OP(">") " 0)::pg_catalog.int4"
#define STORE_COMPANIES \
	"(SELECT pg_catalog.count(*) FROM (SELECT s.company_id FROM whatsapp_auth.creds s" \
	" UNION SELECT s.company_id FROM whatsapp_auth.keys s) u)"

typedef enum Severity
{
	SEVERITY_OK,
	SEVERITY_MEDIUM,
	SEVERITY_HIGH,
	SEVERITY_CRITICAL
} Severity;

static const char *const severity_names[] = {"ok", "medium", "high", "critical"};

/* Figures the rules look at. */
typedef struct HealthFigures
{
	Jsonb	   *doc;
	int64		total_keys;
	int64		expired_keys;
	bool		has_last_key_update;
	TimestampTz last_key_update;
	bool		has_creds;
	bool		has_last_purge;
	TimestampTz last_purge;
} HealthFigures;

/* Status so far and its reasons. */
typedef struct Verdict
{
	Severity	severity;
	List	   *reasons;
} Verdict;

/* The text is filled in on first use, from HEALTH_SQL. */
static WaStatement tenant_stmt = {.nargs = 1, .argtypes = {TEXTOID}};
static WaStatement store_stmt = {.nargs = 0};

static WaStatement *
health_statement(bool tenant)
{
	WaStatement *stmt = tenant ? &tenant_stmt : &store_stmt;

	if (stmt->sql == NULL)
		stmt->sql = MemoryContextStrdup(TopMemoryContext,
										psprintf(HEALTH_SQL, tenant ? TENANT_FILTER : "",
												 tenant ? TENANT_COMPANIES : STORE_COMPANIES));
	return stmt;
}

static Datum
column(int n, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n, isnull);
}

/* Run the statement; figures are copied out of SPI memory. */
static void
collect_figures(const char *company_id, HealthFigures *f)
{
	Datum		arg = company_id ? CStringGetTextDatum(company_id) : (Datum) 0;
	bool		isnull;

	wa_execute(health_statement(company_id != NULL), &arg, NULL, true, SPI_OK_SELECT);

	f->doc = DatumGetJsonbP(SPI_datumTransfer(column(1, &isnull), false, -1));
	f->total_keys = DatumGetInt64(column(2, &isnull));
	f->expired_keys = DatumGetInt64(column(3, &isnull));
	f->last_key_update = DatumGetTimestampTz(column(4, &isnull));
	f->has_last_key_update = !isnull;
	f->has_creds = DatumGetBool(column(5, &isnull));
	f->last_purge = DatumGetTimestampTz(column(6, &isnull));
	f->has_last_purge = !isnull;
	f->doc = wa_lease_health(f->doc, company_id);
	SPI_freetuptable(SPI_tuptable);
}

static void
add_reason(Verdict *v, Severity severity, char *reason)
{
	if (severity > v->severity)
		v->severity = severity;
	v->reasons = lappend(v->reasons, reason);
}

/* now - interval of s seconds */
static TimestampTz
seconds_ago(int seconds)
{
	return GetCurrentTransactionStartTimestamp() - (TimestampTz) seconds * USECS_PER_SEC;
}

/* The rules for one company. */
static void
judge_company(const char *company_id, const HealthFigures *f, Verdict *v)
{
	if (!f->has_creds)
		add_reason(v, SEVERITY_CRITICAL,
				   psprintf("Company \"%s\" has no creds row: it cannot connect until it pairs again.",
							company_id));
	if (!f->has_last_key_update)
		add_reason(v, SEVERITY_HIGH,
				   psprintf("Company \"%s\" has no keys.", company_id));
	else if (f->last_key_update < seconds_ago(stale_after))
		add_reason(v, SEVERITY_HIGH,
				   psprintf("No key of company \"%s\" was written for longer than whatsapp_auth.stale_after (%d s): is its client connected?",
							company_id, stale_after));
	if (f->total_keys > 0 &&
		(double) f->expired_keys / (double) f->total_keys > expired_ratio_warn)
		add_reason(v, SEVERITY_MEDIUM,
				   psprintf("%lld of the %lld keys of company \"%s\" are expired, more than whatsapp_auth.expired_ratio_warn (%g).",
							(long long) f->expired_keys, (long long) f->total_keys,
							company_id, expired_ratio_warn));
}

/* The rules for the whole store. */
static void
judge_store(const HealthFigures *f, Verdict *v)
{
	if (f->expired_keys > expired_count_warn &&
		(!f->has_last_purge || f->last_purge < seconds_ago(purge_overdue_after)))
		add_reason(v, SEVERITY_MEDIUM,
				   psprintf("%lld expired keys, more than whatsapp_auth.expired_count_warn (%d), and no purge finished within whatsapp_auth.purge_overdue_after (%d s): schedule one with schedule_purge().",
							(long long) f->expired_keys, expired_count_warn,
							purge_overdue_after));
}

/* {"status": ..., "reasons": [...]} || figures */
static Jsonb *
health_document(const HealthFigures *f, const Verdict *v, const char *company_id)
{
	JsonbParseState *state = NULL;
	JsonbValue	k,
				s;
	ListCell   *lc;
	Jsonb	   *verdict;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	k.type = jbvString;
	s.type = jbvString;

	k.val.string.val = "status";
	k.val.string.len = strlen("status");
	pushJsonbValue(&state, WJB_KEY, &k);
	s.val.string.val = (char *) severity_names[v->severity];
	s.val.string.len = strlen(s.val.string.val);
	pushJsonbValue(&state, WJB_VALUE, &s);

	if (company_id)
	{
		k.val.string.val = "company_id";
		k.val.string.len = strlen("company_id");
		pushJsonbValue(&state, WJB_KEY, &k);
		s.val.string.val = (char *) company_id;
		s.val.string.len = strlen(company_id);
		pushJsonbValue(&state, WJB_VALUE, &s);
	}

	k.val.string.val = "reasons";
	k.val.string.len = strlen("reasons");
	pushJsonbValue(&state, WJB_KEY, &k);
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	foreach(lc, v->reasons)
	{
		s.val.string.val = lfirst(lc);
		s.val.string.len = strlen(s.val.string.val);
		pushJsonbValue(&state, WJB_ELEM, &s);
	}
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	verdict = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));

	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
											  JsonbPGetDatum(verdict),
											  JsonbPGetDatum(f->doc)));
}

/* SQL function: health(company_id text DEFAULT NULL) returns jsonb */
Datum
wa_health(PG_FUNCTION_ARGS)
{
	char	   *company_id = NULL;
	HealthFigures figures;
	Verdict		verdict = {SEVERITY_OK, NIL};

	/* NULL is the store-wide view, so the function is not STRICT. */
	if (!PG_ARGISNULL(0))
		company_id = wa_company_arg(fcinfo, 0);
	else
		wa_check_unpinned("health() of the whole store");

	wa_spi_connect(0);
	collect_figures(company_id, &figures);
	wa_spi_finish();
	if (company_id)
		judge_company(company_id, &figures, &verdict);
	else
		judge_store(&figures, &verdict);

	PG_RETURN_JSONB_P(health_document(&figures, &verdict, company_id));
}
