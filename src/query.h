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

#include "expo.h"

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
extern int	pgprom_database_index(List *databases, Oid oid);
extern void pgprom_forget_databases(void);
extern void pgprom_emit_columns(PromWriter *w, uint64 nrows,
								int nlabels, const char *const *labels,
								const PromColumn *cols, int ncols);

#endif							/* PG_PROM_QUERY_H */
