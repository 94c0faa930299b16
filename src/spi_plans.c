/*
 * spi_plans.c
 *	  Kept SPI plans: every statement the extension runs per call is
 *	  prepared once per backend and reused.
 */
#include "postgres.h"

#include "executor/spi.h"

#include "spi_plans.h"

/* Connect an entry point to SPI (options: SPI_OPT_NONATOMIC or 0). */
void
wa_spi_connect(int options)
{
	int			rc = SPI_connect_ext(options);

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
}

void
wa_spi_finish(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
}

static SPIPlanPtr
kept_plan(WaStatement *stmt)
{
	if (stmt->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(stmt->sql, stmt->nargs, stmt->argtypes,
												  stmt->cursor_options);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 stmt->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed for \"%s\"", stmt->sql);
		stmt->plan = plan;
	}
	return stmt->plan;
}

void
wa_execute(WaStatement *stmt, Datum *values, const char *nulls, bool read_only,
		   int expected)
{
	int			rc = SPI_execute_plan(kept_plan(stmt), values, nulls, read_only, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 stmt->sql, SPI_result_code_string(rc));
}

/*
 * Run a statement with the given snapshot (InvalidSnapshot: the statement's
 * own), as SPI_execute_snapshot does; for reads that must see what committed
 * after the statement began.
 */
void
wa_execute_snapshot(WaStatement *stmt, Datum *values, const char *nulls,
					Snapshot snapshot, int expected)
{
	int			rc = SPI_execute_snapshot(kept_plan(stmt), values, nulls, snapshot,
										  InvalidSnapshot, false, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_snapshot failed for \"%s\": %s",
			 stmt->sql, SPI_result_code_string(rc));
}

/*
 * Run a statement that returns rows (a SELECT or a RETURNING) and return
 * the first column of its first row (*isnull when there is none), copied
 * out of SPI memory; the result rows are freed, so a loop of calls holds
 * none of them.
 */
Datum
wa_execute_value(WaStatement *stmt, Datum *values, const char *nulls, bool read_only,
				 bool *isnull)
{
	Datum		value = (Datum) 0;
	int			rc = SPI_execute_plan(kept_plan(stmt), values, nulls, read_only, 0);

	if (rc < 0 || SPI_tuptable == NULL)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 stmt->sql, SPI_result_code_string(rc));
	*isnull = true;
	if (SPI_processed > 0)
	{
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], tupdesc, 1, isnull);

		if (!*isnull)
			value = SPI_datumTransfer(d, TupleDescAttr(tupdesc, 0)->attbyval,
									  TupleDescAttr(tupdesc, 0)->attlen);
	}
	SPI_freetuptable(SPI_tuptable);
	return value;
}
