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

#include "backend/appmetrics.h"
#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "shmem.h"

const PromCollector pgprom_collectors[] = {
	{"static", pgprom_collect_static, false, true},
	{"postmaster", pgprom_collect_postmaster, false, true},
	{"database", pgprom_collect_database, false, true},
	{"stat_database", pgprom_collect_stat_database, false, true},
	{"stat_activity", pgprom_collect_stat_activity, false, true},
	{"locks", pgprom_collect_locks, false, true},
	{"settings", pgprom_collect_settings, false, true},
	{"stat_bgwriter", pgprom_collect_stat_bgwriter, false, true},
	{"stat_archiver", pgprom_collect_stat_archiver, false, true},
	/* beyond postgres_exporter, from the shared statistics */
	{"stat_wal", pgprom_collect_stat_wal, false, true},
	{"stat_io", pgprom_collect_stat_io, false, PGPROM_STAT_IO_DEFAULT},
	{"stat_lock", pgprom_collect_stat_lock, false, PGPROM_STAT_LOCK_DEFAULT},
	{"replication", pgprom_collect_replication, false, true},
	{"replication_slots", pgprom_collect_replication_slots, false, true},
	{"stat_replication", pgprom_collect_stat_replication, false, true},
	{"subscription", pgprom_collect_subscription, false, true},
	{"stat_recovery", pgprom_collect_stat_recovery, false, PGPROM_STAT_RECOVERY_DEFAULT},
	{"roles", pgprom_collect_roles, false, true},
	{"wal", pgprom_collect_wal, false, true},
	{"stat_progress_vacuum", pgprom_collect_stat_progress_vacuum, false, true},
	{"stat_user_tables", pgprom_collect_stat_user_tables, false, true},
	{"statio_user_tables", pgprom_collect_statio_user_tables, false, true},
	{"table_sizes", pgprom_collect_table_sizes, false, true},
	{"stat_user_indexes", pgprom_collect_stat_user_indexes, false, true},
	/* what only an in-server exporter sees (hooks.c feeds the first three) */
	{"statements", pgprom_collect_statements, false, true},
	{"errors", pgprom_collect_errors, false, true},
	{"auth", pgprom_collect_auth, false, true},
	{"connections", pgprom_collect_connections, false, true},
	{"stat_statements", pgprom_collect_stat_statements, false, true},
	/* the endpoint's process_* and the instance's processes, from /proc */
	{"process", pgprom_collect_process, false, true},

	/*
	 * Queries registered with pg_prom_register_query (the renderer runs
	 * them), then what applications record from SQL (appmetrics.c): on a name
	 * clash the family written first stays, and registered queries are
	 * checked against application metrics when registered.
	 */
	{"custom_queries", NULL, false, true},
	{"app_metrics", pgprom_collect_app_metrics, false, true},
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
	{"stat_checkpointer", pgprom_collect_stat_checkpointer, false, PGPROM_STAT_CHECKPOINTER_DEFAULT},
	{"pg_prom", pgprom_collect_self, false, true},
};

const int	pgprom_num_collectors = lengthof(pgprom_collectors);

StaticAssertDecl(lengthof(pgprom_collectors) <= PGPROM_MAX_COLLECTORS,
				 "too many collectors for the shared counters");
StaticAssertDecl(PGPROM_MAX_COLLECTORS <= 64, "the collector mask is 64 bits");
