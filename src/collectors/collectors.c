/*-------------------------------------------------------------------------
 *
 * collectors.c
 *		The table of collectors the renderer runs, in output order.
 *
 * Names follow postgres_exporter's --collector.X names where one exists,
 * so pg_scrape_collector_success{collector} means the same thing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "collectors.h"
#include "../shmem.h"

const PromCollector pgprom_collectors[] = {
	{"static", pgprom_collect_static, false},
	{"postmaster", pgprom_collect_postmaster, false},
	{"database", pgprom_collect_database, true},
	{"stat_database", pgprom_collect_stat_database, false},
	{"stat_activity", pgprom_collect_stat_activity, false},
	{"locks", pgprom_collect_locks, false},
	{"settings", pgprom_collect_settings, false},
	{"stat_bgwriter", pgprom_collect_stat_bgwriter, false},
	{"stat_archiver", pgprom_collect_stat_archiver, false},
	{"pg_prom", pgprom_collect_self, false},
};

const int	pgprom_num_collectors = lengthof(pgprom_collectors);

StaticAssertDecl(lengthof(pgprom_collectors) <= PGPROM_MAX_COLLECTORS,
				 "too many collectors for the shared counters");
