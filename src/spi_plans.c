/*
 * spi_plans.c
 *	  Kept SPI plans: every statement the extension runs per call is
 *	  prepared once per backend and reused.
 */
#include "postgres.h"

#include "executor/spi.h"

#include "whatsapp_auth.h"

SPIPlanPtr
wa_kept_plan(WaStatement *stmt)
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
	int			rc = SPI_execute_plan(wa_kept_plan(stmt), values, nulls, read_only, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 stmt->sql, SPI_result_code_string(rc));
}

Datum
wa_first_value(bool *isnull)
{
	TupleDesc	tupdesc;
	Datum		d;

	if (SPI_processed == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	tupdesc = SPI_tuptable->tupdesc;
	d = SPI_getbinval(SPI_tuptable->vals[0], tupdesc, 1, isnull);
	if (*isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, TupleDescAttr(tupdesc, 0)->attbyval,
							 TupleDescAttr(tupdesc, 0)->attlen);
}
