/*-------------------------------------------------------------------------
 *
 * tables.h
 *		Per-table statistics of every database: one row format, read in the
 *		worker's own database at scrape time and, for the other databases,
 *		by short-lived per-database workers whose rows the worker caches.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_TABLES_H
#define PG_PROM_TABLES_H

#include "compat.h"

#include "scrape/expo.h"

/* Values of one table, in the order of the families in tables.c. */
typedef enum TableValue
{
	TV_SEQ_SCAN, TV_SEQ_TUP_READ, TV_IDX_SCAN, TV_IDX_TUP_FETCH, TV_N_TUP_INS,
	TV_N_TUP_UPD, TV_N_TUP_DEL, TV_N_TUP_HOT_UPD, TV_N_LIVE_TUP, TV_N_DEAD_TUP,
	TV_N_MOD_SINCE_ANALYZE, TV_LAST_VACUUM, TV_LAST_AUTOVACUUM, TV_LAST_ANALYZE,
	TV_LAST_AUTOANALYZE, TV_VACUUM_COUNT, TV_AUTOVACUUM_COUNT, TV_ANALYZE_COUNT,
	TV_AUTOANALYZE_COUNT,
	TV_HEAP_BLKS_READ, TV_HEAP_BLKS_HIT, TV_IDX_BLKS_READ, TV_IDX_BLKS_HIT,
	TV_TOAST_BLKS_READ, TV_TOAST_BLKS_HIT, TV_TIDX_BLKS_READ, TV_TIDX_BLKS_HIT,
	TV_TABLE_SIZE, TV_INDEX_SIZE, TV_TOTAL_SIZE,
	TV_NUM_VALUES
} TableValue;

typedef struct TableRow
{
	NameData	schemaname;
	NameData	relname;
	Oid			relid;
	bool		have_size;		/* sizes read (the lock was free) */
	double		v[TV_NUM_VALUES];
} TableRow;

/* Which families a collector writes. */
typedef enum TableFamilies
{
	TABLE_FAMILIES_STAT,		/* pg_stat_user_tables_* counters and gauges */
	TABLE_FAMILIES_STATIO,		/* pg_statio_user_tables_* */
	TABLE_FAMILIES_SIZE			/* pg_stat_user_tables_*size_bytes */
} TableFamilies;

/* Both processes: read the current database's tables (SPI connected). */
extern int	pgprom_read_tables(TableRow **rows, int capacity, bool sizes,
							   int64 *total, int64 *skipped_locked);

/* Renderer: write the families of one kind for every database known. */
extern void pgprom_write_table_families(PromWriter *w, TableFamilies which);
extern char *pgprom_tables_relname(Oid dboid, Oid relid);

/* The worker's scheduler of per-database workers. */
extern void pgprom_tables_tick(void);
extern long pgprom_tables_wakeup_ms(void);

extern PGDLLEXPORT void pgprom_tables_worker_main(Datum main_arg);

#endif							/* PG_PROM_TABLES_H */
