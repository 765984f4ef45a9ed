/*-------------------------------------------------------------------------
 *
 * custom_worker.h
 *		Custom queries run in a short-lived worker of their own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_CUSTOM_WORKER_H
#define PG_PROM_CUSTOM_WORKER_H

#include "compat.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "scrape/custom.h"
#include "scrape/scrape.h"

/* What one query produced, as the renderer receives it. */
typedef struct CustomOutcome
{
	CustomQuery *query;
	ScrapeResult result;
	char	   *message;		/* why it failed, or NULL */
	char	   *text;			/* its families' text when it succeeded */
	int			len;
	List	   *families;		/* PromFamilyRef *, the families in text */
} CustomOutcome;

/* Run queries in workers, never past deadline; an outcome per query. */
extern List *pgprom_custom_run(List *queries, TimestampTz deadline);

extern PGDLLEXPORT void pgprom_custom_worker_main(Datum main_arg);

#endif							/* PG_PROM_CUSTOM_WORKER_H */
