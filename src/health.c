/*
 * health.c
 *	  health(): statistics of the key store and a status with its reasons.
 *
 * The figures come from one SQL statement (a tenant's rows through the
 * primary key; for the store-wide view the whole table, or above
 * whatsapp_auth.health_sample_rows keys a block sample of about that many,
 * scaled, so that its cost does not grow with the store; plain reads, so
 * writers are never blocked and no writer pays for a summary); the rules
 * that turn them into a status live here, with their thresholds in settings.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "optimizer/plancat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
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
#define HEALTH_SAMPLE_ROWS_DEFAULT 30000

static int	stale_after = STALE_AFTER_DEFAULT;
static double expired_ratio_warn = EXPIRED_RATIO_WARN_DEFAULT;
static int	expired_count_warn = EXPIRED_COUNT_WARN_DEFAULT;
static int	purge_overdue_after = PURGE_OVERDUE_AFTER_DEFAULT;
static int	health_sample_rows = HEALTH_SAMPLE_ROWS_DEFAULT;

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
	DefineCustomIntVariable("whatsapp_auth.health_sample_rows",
							"health(): above about this many keys, the store-wide figures are estimated from a sample of this many; 0 counts every key.",
							NULL,
							&health_sample_rows,
							HEALTH_SAMPLE_ROWS_DEFAULT, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}
#define AGO(i) "(pg_catalog.now() " WA_OP("-") " '" i "'::pg_catalog.interval)"

/*
 * The age buckets' bounds, computed once: now() minus days is a time zone
 * computation, which per row was most of the statement's cost.
 */
#define AGE_BOUNDS \
	"ages AS MATERIALIZED (SELECT " AGO("1 day") " AS d1, " AGO("7 days") " AS d7," \
	"  " AGO("14 days") " AS d14, " AGO("30 days") " AS d30)"
#define UPDATED_AFTER(b) "k.updated_at " WA_OP(">") " ages." b
#define UPDATED_BY(b) "k.updated_at " WA_OP("<=") " ages." b

/* A key type's figures over "from" (the keys table as k, filtered or sampled). */
#define KEY_FIGURES(from) \
	"  SELECT k.key_type, pg_catalog.count(*) AS keys," \
	"    pg_catalog.count(*) FILTER (WHERE k.expires_at " WA_OP("<=") " pg_catalog.now()) AS expired," \
	"    pg_catalog.count(*) FILTER (WHERE k.expires_at IS NULL) AS never," \
	"    pg_catalog.sum(pg_catalog.pg_column_size(k.value)) AS bytes," \
	"    pg_catalog.max(k.updated_at) AS last_update," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_AFTER("d1") ") AS d1," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("d1") " AND " UPDATED_AFTER("d7") ") AS d7," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("d7") " AND " UPDATED_AFTER("d14") ") AS d14," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("d14") " AND " UPDATED_AFTER("d30") ") AS d30," \
	"    pg_catalog.count(*) FILTER (WHERE " UPDATED_BY("d30") ") AS older" \
	"  FROM ages, " from " GROUP BY k.key_type"

/* A sample's count scaled by f.scale */
#define SCALED(x) "pg_catalog.round(s." x "::pg_catalog.float8 " WA_OP("*") " f.scale)::pg_catalog.int8 AS " x

/* Every key of the filter */
#define EXACT_KEYS(filter) "t AS (" KEY_FIGURES("whatsapp_auth.keys k " filter) ")"

/*
 * One block in every $1 of the keys table (whatsapp_auth.block_sample, whose
 * cost follows the sample, not the table).  The sample's counts are scaled
 * to $2, the planner's estimate of the table's rows (its statistics'
 * density times the table's size now): a ratio estimate, whose error does
 * not depend on how many rows the sampled blocks happened to hold.  The
 * same $1 and seed pick the same blocks while the table grows, so a
 * monitor's repeated calls find them cached however large the table.
 * last_update is the newest key of the sample, a lower bound.
 */
#define SAMPLED_KEYS \
	"s AS (" KEY_FIGURES("whatsapp_auth.keys k TABLESAMPLE whatsapp_auth.block_sample ($1) REPEATABLE (0)") ")," \
	" f AS (SELECT $2 " WA_OP("/") " GREATEST(pg_catalog.sum(s.keys), 1)::pg_catalog.float8 AS scale FROM s)," \
	" t AS (SELECT s.key_type, " SCALED("keys") ", " SCALED("expired") ", " SCALED("never") "," \
	"   " SCALED("bytes") ", s.last_update, " SCALED("d1") ", " SCALED("d7") "," \
	"   " SCALED("d14") ", " SCALED("d30") ", " SCALED("older") " FROM s, f)"

/*
 * %1$s defines t (a key type's figures: exact, or scaled from a sample);
 * %2$s selects creds' figures (n, last_update); %3$s counts companies; %4$s
 * says how the figures were made (an object merged into the document).
 * Returns the document without status/reasons, and the figures the rules use.
 */
#define HEALTH_SQL \
	"WITH " AGE_BOUNDS ", %1$s," \
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
	" c AS (%2$s)," \
	" p AS (SELECT l.* FROM whatsapp_auth.purge_log l ORDER BY l.id DESC LIMIT 1)" \
	" SELECT pg_catalog.jsonb_build_object(" \
	"    'companies', %3$s," \
	"    'total_keys', tot.keys, 'expired_keys', tot.expired, 'never_expiring_keys', tot.never," \
	"    'keys_by_type', tot.by_type, 'age_buckets', tot.buckets," \
	"    'last_key_update', tot.last_update, 'last_creds_update', c.last_update," \
	"    'table_bytes', (pg_catalog.pg_table_size('whatsapp_auth.keys'::pg_catalog.regclass)" \
	"        " WA_OP("+") " pg_catalog.pg_table_size('whatsapp_auth.creds'::pg_catalog.regclass))," \
	"    'index_bytes', (pg_catalog.pg_indexes_size('whatsapp_auth.keys'::pg_catalog.regclass)" \
	"        " WA_OP("+") " pg_catalog.pg_indexes_size('whatsapp_auth.creds'::pg_catalog.regclass))," \
	"    'last_purge', (SELECT pg_catalog.to_jsonb(p) FROM p)) " WA_OP("||") " %4$s," \
	"  tot.keys, tot.expired, tot.last_update, c.n " WA_OP(">") " 0," \
	"  (SELECT pg_catalog.max(l.finished_at) FROM whatsapp_auth.purge_log l WHERE NOT l.dry_run)" \
	" FROM tot, c"

#define TENANT_FILTER "WHERE k.company_id " WA_OP("=") " $1"
#define CREDS_FIGURES(filter) \
	"SELECT pg_catalog.count(*) AS n, pg_catalog.max(k.updated_at) AS last_update" \
	" FROM whatsapp_auth.creds k " filter
/*
 * Companies counted through creds' primary key (an index-only scan, one
 * small entry a company, not a row of a document each); the newest creds
 * write is the newest of the same one block in every $1.
 */
#define SAMPLED_CREDS \
	"SELECT (SELECT pg_catalog.count(*) FROM whatsapp_auth.creds) AS n," \
	" (SELECT pg_catalog.max(k.updated_at) FROM whatsapp_auth.creds k" \
	"  TABLESAMPLE whatsapp_auth.block_sample ($1) REPEATABLE (0)) AS last_update"
#define TENANT_COMPANIES "((c.n " WA_OP("+") " tot.keys) " WA_OP(">") " 0)::pg_catalog.int4"
#define TENANT_FIGURES "'{}'::pg_catalog.jsonb"
#define STORE_COMPANIES \
	"(SELECT pg_catalog.count(*) FROM (SELECT s.company_id FROM whatsapp_auth.creds s" \
	" UNION SELECT s.company_id FROM whatsapp_auth.keys s) u)"
#define STORE_EXACT_FIGURES \
	"pg_catalog.jsonb_build_object('figures', pg_catalog.jsonb_build_object(" \
	"  'method', 'exact', 'as_of', pg_catalog.now()))"
/* a sample does not see every company: those with creds (exact) */
#define SAMPLED_COMPANIES "c.n"
#define SAMPLED_FIGURES \
	"pg_catalog.jsonb_build_object('figures', pg_catalog.jsonb_build_object(" \
	"  'method', 'sample', 'as_of', pg_catalog.now()," \
	"  'sample_percent', pg_catalog.round(100::pg_catalog.numeric " WA_OP("/") " $1, 4)," \
	"  'sampled_keys', (SELECT COALESCE(pg_catalog.sum(s.keys), 0) FROM s)," \
	"  'estimated', pg_catalog.jsonb_build_array('total_keys', 'expired_keys'," \
	"    'never_expiring_keys', 'keys_by_type', 'age_buckets', 'last_key_update', 'last_creds_update')," \
	"  'total_from_statistics_of', (SELECT GREATEST(a.last_vacuum, a.last_autovacuum," \
	"     a.last_analyze, a.last_autoanalyze) FROM pg_catalog.pg_stat_all_tables a" \
	"     WHERE a.relid " WA_OP("=") " 'whatsapp_auth.keys'::pg_catalog.regclass)," \
	"  'companies', 'with creds'))"

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

/* The texts are filled in on first use, from HEALTH_SQL. */
static WaStatement tenant_stmt = {.nargs = 1, .argtypes = {TEXTOID}};
static WaStatement store_stmt = {.nargs = 0};
static WaStatement store_sample_stmt = {.nargs = 2, .argtypes = {INT4OID, FLOAT8OID}};

typedef enum HealthScope
{
	HEALTH_TENANT,
	HEALTH_STORE,
	HEALTH_STORE_SAMPLE
} HealthScope;

static WaStatement *
health_statement(HealthScope scope)
{
	WaStatement *stmt;

	switch (scope)
	{
		case HEALTH_TENANT:
			stmt = &tenant_stmt;
			if (stmt->sql == NULL)
				stmt->sql = MemoryContextStrdup(TopMemoryContext,
												psprintf(HEALTH_SQL, EXACT_KEYS(TENANT_FILTER),
														 CREDS_FIGURES(TENANT_FILTER), TENANT_COMPANIES,
														 TENANT_FIGURES));
			break;
		case HEALTH_STORE:
			stmt = &store_stmt;
			if (stmt->sql == NULL)
				stmt->sql = MemoryContextStrdup(TopMemoryContext,
												psprintf(HEALTH_SQL, EXACT_KEYS(""), CREDS_FIGURES(""),
														 STORE_COMPANIES, STORE_EXACT_FIGURES));
			break;
		default:
			stmt = &store_sample_stmt;
			if (stmt->sql == NULL)
				stmt->sql = MemoryContextStrdup(TopMemoryContext,
												psprintf(HEALTH_SQL, SAMPLED_KEYS, SAMPLED_CREDS,
														 SAMPLED_COMPANIES, SAMPLED_FIGURES));
			break;
	}
	return stmt;
}

/*
 * The planner's estimate of the keys table's rows now: its statistics'
 * density times its current size, as the planner itself would use.
 */
static double
keys_row_estimate(void)
{
	Oid			relid = get_relname_relid("keys", get_namespace_oid("whatsapp_auth", false));
	Relation	rel;
	BlockNumber pages;
	double		tuples,
				allvisfrac;

	if (!OidIsValid(relid))
		elog(ERROR, "table whatsapp_auth.keys is missing");
	rel = table_open(relid, AccessShareLock);
	estimate_rel_size(rel, NULL, &pages, &tuples, &allvisfrac);
	table_close(rel, AccessShareLock);
	return tuples;
}

static Datum
column(int n, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n, isnull);
}

/*
 * Run the statement; figures are copied out of SPI memory.  The store-wide
 * view counts every key of a table of up to health_sample_rows keys, and
 * estimates larger ones from a sample of about that many.
 */
static void
collect_figures(const char *company_id, HealthFigures *f)
{
	Datum		args[2];
	HealthScope scope = HEALTH_TENANT;
	bool		isnull;

	if (company_id)
		args[0] = CStringGetTextDatum(company_id);
	else
	{
		double		rows = health_sample_rows > 0 ? keys_row_estimate() : 0;

		scope = HEALTH_STORE;
		if (rows > health_sample_rows)
		{
			/* a whole number, so that the blocks stay while the table grows */
			double		every = ceil(rows / health_sample_rows);

			scope = HEALTH_STORE_SAMPLE;
			args[0] = Int32GetDatum((int32) Min(every, (double) PG_INT32_MAX));
			args[1] = Float8GetDatum(rows);
		}
	}

	wa_execute(health_statement(scope), args, NULL, true, SPI_OK_SELECT);

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
