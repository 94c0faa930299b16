/*
 * schedule.c
 *	  schedule_purge() / unschedule_purge(): the purge as one pg_cron job.
 *
 * pg_cron is optional: nothing else in the extension needs it, and these
 * two functions say what to do when it is missing.  Its objects are looked
 * up at call time (it may be installed after this extension), always
 * schema-qualified.  pg_cron can only be created in the database named by
 * cron.database_name, so a job scheduled from here runs here, as the
 * calling role.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "args.h"
#include "spi_plans.h"
#include "tenant.h"

PG_FUNCTION_INFO_V1(wa_schedule_purge);
PG_FUNCTION_INFO_V1(wa_unschedule_purge);

/* One job per database and role; schedule_purge() updates it in place. */
#define PURGE_JOB_NAME "whatsapp_auth purge"

/* Refuse with directions when pg_cron is not installed in this database. */
static void
require_pg_cron(void)
{
	int			rc = SPI_execute("SELECT FROM pg_catalog.pg_extension e"
								 " WHERE e.extname " WA_OP("=") " 'pg_cron'",
								 true, 1);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_cron is not installed in database \"%s\"",
						get_database_name(MyDatabaseId)),
				 errhint("Add pg_cron to shared_preload_libraries, set cron.database_name = '%s', restart the server and run CREATE EXTENSION pg_cron; "
						 "or call purge() from any other scheduler.",
						 get_database_name(MyDatabaseId))));
}

/* SQL function: schedule_purge(schedule text, grace interval) returns bigint */
Datum
wa_schedule_purge(PG_FUNCTION_ARGS)
{
	Datum		args[3];
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	char	   *command;
	bool		isnull;
	int64		jobid;
	int			rc;

	wa_arg_not_null(fcinfo, 0, "schedule and grace", NULL);
	wa_arg_not_null(fcinfo, 1, "schedule and grace", NULL);

	wa_check_unpinned("schedule_purge()");
	command = psprintf("CALL whatsapp_auth.purge(grace => %s)",
					   quote_literal_cstr(DatumGetCString(DirectFunctionCall1(interval_out,
																			  PG_GETARG_DATUM(1)))));
	args[0] = CStringGetTextDatum(PURGE_JOB_NAME);
	args[1] = PG_GETARG_DATUM(0);
	args[2] = CStringGetTextDatum(command);

	wa_spi_connect(0);
	require_pg_cron();
	/* cron.schedule() with a job name inserts or updates that job */
	rc = SPI_execute_with_args("SELECT cron.schedule($1, $2, $3)",
							   3, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "cron.schedule failed: %s", SPI_result_code_string(rc));
	jobid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	wa_spi_finish();
	PG_RETURN_INT64(jobid);
}

/* SQL function: unschedule_purge() returns boolean */
Datum
wa_unschedule_purge(PG_FUNCTION_ARGS)
{
	Datum		arg = CStringGetTextDatum(PURGE_JOB_NAME);
	Oid			argtype = TEXTOID;
	bool		found;
	int			rc;

	wa_check_unpinned("unschedule_purge()");
	wa_spi_connect(0);
	require_pg_cron();
	rc = SPI_execute_with_args("SELECT cron.unschedule(j.jobid) FROM cron.job j"
							   " WHERE j.jobname " WA_OP("=") " $1"
							   " AND j.username " WA_OP("=") " CURRENT_USER",
							   1, &argtype, &arg, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "cron.unschedule failed: %s", SPI_result_code_string(rc));
	found = SPI_processed > 0;
	wa_spi_finish();
	PG_RETURN_BOOL(found);
}
