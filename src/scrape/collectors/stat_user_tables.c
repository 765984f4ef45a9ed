/*-------------------------------------------------------------------------
 *
 * stat_user_tables.c
 *		Per-table and per-index statistics of every database, with
 *		postgres_exporter's names: pg_stat_user_tables_* (collector
 *		"stat_user_tables"), pg_statio_user_tables_* ("statio_user_tables"),
 *		the table and index sizes ("table_sizes"), pg_stat_user_indexes_*
 *		("stat_user_indexes") and the opt-in pg_statio_user_indexes_*
 *		("statio_user_indexes").
 *
 * The numbers are live from the shared statistics, the names from each
 * database's relation catalog (tables_render.c, tables.c).  Sizes are read
 * with conditional locks, every pg_prom.slow_collector_interval for
 * pg_prom.database and with the names for the others, so a relation held
 * by a migration is skipped and counted, never waited for.
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

void
pgprom_collect_stat_user_indexes(PromWriter *w)
{
	pgprom_write_table_families(w, TABLE_FAMILIES_INDEX_STAT);
}

void
pgprom_collect_statio_user_indexes(PromWriter *w)
{
	pgprom_write_table_families(w, TABLE_FAMILIES_INDEX_STATIO);
}
