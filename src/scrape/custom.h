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
#include "scrape/scrape.h"

#define CUSTOM_MAX_LABELS 16
#define CUSTOM_MAX_VALUES 16
/* Most definitions run per scrape. */
#define CUSTOM_MAX_QUERIES 200

/* One registered query, as loaded for a render. */
typedef struct CustomQuery
{
	char	   *name;			/* metric name prefix */
	char		label[PGPROM_LABEL_MAX];	/* "custom:<name>", its unit label */
	char	   *query;
	char	   *help;
	bool		counter;		/* else gauge */
	int			nlabels;
	char	  **labels;			/* label columns */
	int			nvalues;
	char	  **values;			/* value columns, one family each */
	int			min_interval_s; /* serve the cached output this long */
	char	   *registrant;		/* role that registered it (pg_prom_queries) */
	uint64		definition_hash;	/* of everything above, for the cache */
} CustomQuery;

/* The enabled definitions of this database (SPI connected). */
extern List *pgprom_custom_queries_load(void);

/* The role custom queries run as; errors when it is unusable. */
extern Oid	pgprom_custom_role(void);
extern const char *pgprom_custom_role_problem(Oid *roleid);

/*
 * Execute a query's text as the custom role, read-only; SPI connected, in
 * a (sub)transaction an error aborts.  Results in SPI_tuptable.
 */
extern void pgprom_custom_execute(const char *query, Oid roleid, bool limit0,
								  uint64 tcount);

/* Execute q as roleid and write its families (at most max_rows rows). */
extern void pgprom_custom_query_write(PromWriter *w, const CustomQuery *q,
									  Oid roleid, int max_rows);

extern bool pgprom_custom_numeric_type(Oid type);

#endif							/* PG_PROM_CUSTOM_H */
