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

#include "scrape/expo.h"

/* A database as seen in pg_database, listed once per render. */
typedef struct PromDatabase
{
	Oid			oid;
	char	   *name;
	int			connlimit;
	bool		allowconn;
	bool		istemplate;
	TransactionId frozenxid;
	MultiXactId minmxid;
} PromDatabase;

extern uint64 pgprom_query(SPIPlanPtr *plan, const char *sql);
extern uint64 pgprom_query_limit(SPIPlanPtr *plan, const char *sql, int limit);
extern char *pgprom_text(uint64 row, int col);
extern double pgprom_double(uint64 row, int col, double if_null);
extern bool pgprom_isnull(uint64 row, int col);
extern List *pgprom_databases(void);
extern int	pgprom_database_index(List *databases, Oid oid);

/* Objects of installed extensions, found through their membership. */
extern char *pgprom_extension_function(const char *extname,
									   const char *funcname);
extern char *pgprom_extension_relation(const char *extname,
									   const char *relname, Oid *relid);
extern char *pgprom_extension_version(const char *extname);

/*
 * One family from the last query's result: each row is a series whose
 * labels come from the given text columns and whose value comes from a
 * float8 column (divided by divisor; NULL rows left out when skip_null,
 * else 0).
 */
#define PGPROM_MAX_SPEC_LABELS 6
typedef struct PromFamilySpec
{
	const char *name;
	const char *help;
	PromType	type;
	int			value_col;
	double		divisor;
	bool		skip_null;
	int			nlabels;
	const char *labels[PGPROM_MAX_SPEC_LABELS];
	int			label_cols[PGPROM_MAX_SPEC_LABELS];
} PromFamilySpec;

extern void pgprom_emit_family(PromWriter *w, uint64 nrows,
							   const PromFamilySpec *spec);
extern void pgprom_emit_families(PromWriter *w, uint64 nrows,
								 const PromFamilySpec *specs, int nspecs);
extern void pgprom_emit_columns(PromWriter *w, uint64 nrows,
								int nlabels, const char *const *labels,
								const PromColumn *cols, int ncols);

#endif							/* PG_PROM_QUERY_H */
