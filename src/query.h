/*-------------------------------------------------------------------------
 *
 * query.h
 *		SPI helpers for collectors that read catalog and statistics views.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_QUERY_H
#define PG_PROM_QUERY_H

#include "executor/spi.h"
#include "nodes/pg_list.h"

/* A database as seen in pg_database, listed once per render. */
typedef struct PromDatabase
{
	Oid			oid;
	char	   *name;
	int			connlimit;
	bool		allowconn;
} PromDatabase;

extern uint64 pgprom_query(SPIPlanPtr *plan, const char *sql);
extern char *pgprom_text(uint64 row, int col);
extern double pgprom_double(uint64 row, int col, double if_null);
extern bool pgprom_isnull(uint64 row, int col);
extern List *pgprom_databases(void);
extern void pgprom_forget_databases(void);



/*
 * A value column of a "one family per column" query: the result has the
 * label columns first (text), then one float8 column per PromColumn.
 */
typedef struct PromColumn
{
	const char *name;			/* full metric name */
	const char *help;
	int			type;			/* PromType */
	double		scale;			/* multiply the value by this */
	bool		skip_null;		/* leave NULL rows out instead of 0 */
} PromColumn;

struct PromWriter;
extern void pgprom_emit_columns(struct PromWriter *w, uint64 nrows,
								int nlabels, const char *const *labels,
								const PromColumn *cols, int ncols);
#endif							/* PG_PROM_QUERY_H */
