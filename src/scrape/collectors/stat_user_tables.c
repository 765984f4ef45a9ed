/*-------------------------------------------------------------------------
 *
 * stat_user_tables.c
 *		Per-table statistics with postgres_exporter's names, for every
 *		database: pg_stat_user_tables_* (collector "stat_user_tables"),
 *		pg_statio_user_tables_* ("statio_user_tables") and the table and
 *		index sizes ("table_sizes", on the slow tier).
 *
 * The rows come from tables.c: read live for the worker's database, and
 * from the per-database workers' cache for the others.  Sizes are read
 * with conditional locks, so a relation held by a migration is skipped
 * and counted, never waited for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/collectors/collectors.h"
#include "scrape/tables.h"

void
pgprom_collect_stat_user_tables(PromWriter *w)
{
	pgprom_write_table_families(w, TABLE_FAMILIES_STAT);
}

void
pgprom_collect_statio_user_tables(PromWriter *w)
{
	pgprom_write_table_families(w, TABLE_FAMILIES_STATIO);
}

void
pgprom_collect_table_sizes(PromWriter *w)
{
	pgprom_write_table_families(w, TABLE_FAMILIES_SIZE);
}
