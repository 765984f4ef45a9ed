/*-------------------------------------------------------------------------
 *
 * custom.h
 *		Collector queries defined in SQL (pg_prom_register_query).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_CUSTOM_H
#define PG_PROM_CUSTOM_H

#include "nodes/pg_list.h"

#include "scrape/expo.h"

/* One registered query, as loaded for a render. */
typedef struct CustomQuery
{
	char	   *name;			/* metric name prefix */
	char	   *label;			/* "custom:<name>", its collector label */
	char	   *query;
	char	   *help;
	bool		counter;		/* else gauge */
	int			nlabels;
	char	  **labels;			/* label columns */
	int			nvalues;
	char	  **values;			/* value columns, one family each */
	int			min_interval_s; /* serve the cached output this long */
	uint64		definition_hash;	/* of everything above, for the cache */
} CustomQuery;

/* The custom_queries collector: loads the definitions for this render. */
extern void pgprom_collect_custom_queries(PromWriter *w);

/* The definitions the collector loaded in this render (NIL if none). */
extern List *pgprom_custom_queries_loaded(void);
extern void pgprom_custom_queries_forget(void);

/* Run one query and write its families (in the renderer's isolation). */
extern void pgprom_custom_query_run(PromWriter *w, void *arg);

#endif							/* PG_PROM_CUSTOM_H */
