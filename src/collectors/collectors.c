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

#include "utils/varlena.h"

#include "../appmetrics.h"
#include "../custom.h"
#include "collectors.h"
#include "../compat.h"
#include "../shmem.h"

const PromCollector pgprom_collectors[] = {
	{"static", pgprom_collect_static, false, true},
	{"postmaster", pgprom_collect_postmaster, false, true},
	{"database", pgprom_collect_database, true, true},
	{"stat_database", pgprom_collect_stat_database, false, true},
	{"stat_activity", pgprom_collect_stat_activity, false, true},
	{"locks", pgprom_collect_locks, false, true},
	{"settings", pgprom_collect_settings, false, true},
	{"stat_bgwriter", pgprom_collect_stat_bgwriter, false, true},
	{"stat_archiver", pgprom_collect_stat_archiver, false, true},
	{"replication", pgprom_collect_replication, false, true},
	{"replication_slots", pgprom_collect_replication_slots, false, true},
	{"stat_replication", pgprom_collect_stat_replication, false, true},
	{"roles", pgprom_collect_roles, false, true},
	{"wal", pgprom_collect_wal, false, true},
	{"stat_progress_vacuum", pgprom_collect_stat_progress_vacuum, false, true},
	{"stat_user_tables", pgprom_collect_stat_user_tables, false, true},
	{"statio_user_tables", pgprom_collect_statio_user_tables, false, true},
	{"table_sizes", pgprom_collect_table_sizes, true, true},
	/* what only an in-server exporter sees (hooks.c feeds the first three) */
	{"statements", pgprom_collect_statements, false, true},
	{"errors", pgprom_collect_errors, false, true},
	{"auth", pgprom_collect_auth, false, true},
	{"connections", pgprom_collect_connections, false, true},
	{"stat_statements", pgprom_collect_stat_statements, false, true},
	/* what applications record from SQL (appmetrics.c) */
	{"app_metrics", pgprom_collect_app_metrics, false, true},
	/* queries registered with pg_prom_register_query (custom.c) */
	{"custom_queries", pgprom_collect_custom_queries, false, true},
	/* opt-in in postgres_exporter, on here: the wraparound alert needs it */
	{"database_wraparound", pgprom_collect_database_wraparound, false, true},
	/* postgres_exporter's disabled-by-default collectors (opt_in.c) */
	{"long_running_transactions", pgprom_collect_long_running_transactions, false, false},
	{"statio_user_indexes", pgprom_collect_statio_user_indexes, false, false},
	{"stat_wal_receiver", pgprom_collect_stat_wal_receiver, false, false},
	{"xlog_location", pgprom_collect_xlog_location, false, false},
	{"process_idle", pgprom_collect_process_idle, false, false},
	{"buffercache_summary", pgprom_collect_buffercache_summary, false, false},
	/* checkpoint panels stay filled where the counters left pg_stat_bgwriter */
	{"stat_checkpointer", pgprom_collect_stat_checkpointer, false, PG_VERSION_NUM >= 170000},
	{"pg_prom", pgprom_collect_self, false, true},
};

const int	pgprom_num_collectors = lengthof(pgprom_collectors);

StaticAssertDecl(lengthof(pgprom_collectors) <= PGPROM_MAX_COLLECTORS,
				 "too many collectors for the shared counters");
StaticAssertDecl(PGPROM_MAX_COLLECTORS <= 64, "the collector mask is 64 bits");

uint64		pgprom_collector_mask = ~UINT64CONST(0);

static uint64
default_mask(void)
{
	uint64		mask = 0;
	int			i;

	for (i = 0; i < pgprom_num_collectors; i++)
		if (pgprom_collectors[i].default_on)
			mask |= UINT64CONST(1) << i;
	return mask;
}

/*
 * Check hook of pg_prom.collectors: a comma-separated list read left to
 * right, where "default" adds the default set, "all" every collector, a
 * name adds that collector and "-name" removes it.  The resulting mask is
 * handed to the assign hook.
 */
bool
pgprom_check_collectors(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *items;
	ListCell   *lc;
	uint64		mask = 0;
	uint64	   *result;

	if (!SplitIdentifierString(raw, ',', &items))
	{
		GUC_check_errdetail("List syntax is invalid.");
		return false;
	}
	foreach(lc, items)
	{
		const char *item = lfirst(lc);
		bool		remove = (item[0] == '-');
		const char *name = remove ? item + 1 : item;
		uint64		bits = 0;
		int			i;

		if (strcmp(name, "default") == 0)
			bits = default_mask();
		else if (strcmp(name, "all") == 0)
			bits = ~UINT64CONST(0);
		else
		{
			for (i = 0; i < pgprom_num_collectors; i++)
				if (strcmp(pgprom_collectors[i].name, name) == 0)
					bits = UINT64CONST(1) << i;
			if (bits == 0)
			{
				StringInfoData names;

				initStringInfo(&names);
				for (i = 0; i < pgprom_num_collectors; i++)
					appendStringInfo(&names, "%s%s", i ? ", " : "",
									 pgprom_collectors[i].name);
				GUC_check_errdetail("Unknown collector \"%s\".", name);
				GUC_check_errhint("Known collectors: %s; \"default\" and \"all\" name sets, \"-name\" removes one.",
								  names.data);
				return false;
			}
		}
		if (remove)
			mask &= ~bits;
		else
			mask |= bits;
	}

	result = pgprom_guc_malloc(sizeof(uint64));
	if (result == NULL)
		return false;
	*result = mask;
	*extra = result;
	return true;
}

void
pgprom_assign_collectors(const char *newval, void *extra)
{
	pgprom_collector_mask = *((uint64 *) extra);
}
