/*
 * spi_plans.h
 *	  Kept SPI plans and the SPI connection of an entry point.
 */
#ifndef WA_SPI_PLANS_H
#define WA_SPI_PLANS_H

#include "executor/spi.h"

/*
 * Statements are schema-qualified, operators included, so nothing on the
 * caller's search_path can stand in for them.  OPERATOR() forms all share
 * one precedence: parenthesise mixed ones.
 */
#define WA_OP(o) "OPERATOR(pg_catalog." o ")"

typedef struct WaStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[6];
	int			cursor_options; /* WA_GENERIC_PLAN: never planned per call */
	SPIPlanPtr	plan;			/* prepared on first use, kept */
} WaStatement;

/*
 * For the statements run on every key call, whose best plan does not depend
 * on the arguments: one plan per backend instead of the plan cache's first
 * five custom plans, each of which copies the arguments (a whole batch of
 * values) into the plan.
 */
#define WA_GENERIC_PLAN CURSOR_OPT_GENERIC_PLAN

extern void wa_spi_connect(int options);
extern void wa_spi_finish(void);
extern void wa_execute(WaStatement *stmt, Datum *values, const char *nulls,
					   bool read_only, int expected);
extern void wa_execute_snapshot(WaStatement *stmt, Datum *values, const char *nulls,
								Snapshot snapshot, int expected);
extern Datum wa_execute_value(WaStatement *stmt, Datum *values, const char *nulls,
							  bool read_only, bool *isnull);

#endif							/* WA_SPI_PLANS_H */
