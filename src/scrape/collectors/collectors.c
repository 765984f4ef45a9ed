/*-------------------------------------------------------------------------
 *
 * collectors.c
 *		The table of collectors the renderer runs, in output order.
 *
 * Names follow postgres_exporter's --collector.X names where one exists,
 * so pg_scrape_collector_success{collector} means the same thing.
 *
 * may_wait is false only for collectors that read nothing but shared and
 * process-local memory (they can wait for nothing but a lightweight lock):
 * before any other one the collector makes everything written so far
 * visible to the endpoint (stream.h), so that a collector that has to be
 * terminated while waiting takes no finished unit with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "backend/appmetrics.h"
#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "shmem.h"

const PromCollector pgprom_collectors[] = {
	{"static", pgprom_collect_static, false, true, false},
	{"postmaster", pgprom_collect_postmaster, false, true, false},
	{"database", pgprom_collect_database, false, true, true},
	{"stat_database", pgprom_collect_stat_database, false, true, false},
	{"stat_activity", pgprom_collect_stat_activity, false, true, false},
	{"locks", pgprom_collect_locks, false, true, false},
	{"settings", pgprom_collect_settings, false, true, false},
	{"stat_bgwriter", pgprom_collect_stat_bgwriter, false, true, false},
	{"stat_archiver", pgprom_collect_stat_archiver, false, true, false},
	/* beyond postgres_exporter, from the shared statistics */
	{"stat_wal", pgprom_collect_stat_wal, false, true, false},
	{"stat_io", pgprom_collect_stat_io, false, PGPROM_STAT_IO_DEFAULT, false},
	{"stat_lock", pgprom_collect_stat_lock, false, PGPROM_STAT_LOCK_DEFAULT, false},
	{"replication", pgprom_collect_replication, false, true, true},
	{"replication_slots", pgprom_collect_replication_slots, false, true, true},
	{"stat_replication", pgprom_collect_stat_replication, false, true, true},
	{"subscription", pgprom_collect_subscription, false, true, true},
	{"stat_recovery", pgprom_collect_stat_recovery, false, PGPROM_STAT_RECOVERY_DEFAULT, true},
	/* 19: computed per table on demand, so on the slow tier */
	{"autovacuum_scores", pgprom_collect_autovacuum_scores, true, PGPROM_AUTOVACUUM_SCORES_DEFAULT, true},
	{"roles", pgprom_collect_roles, false, true, true},
	{"wal", pgprom_collect_wal, false, true, true},
	{"stat_progress_vacuum", pgprom_collect_stat_progress_vacuum, false, true, true},
	{"stat_user_tables", pgprom_collect_stat_user_tables, false, true, true},
	{"statio_user_tables", pgprom_collect_statio_user_tables, false, true, true},
	{"table_sizes", pgprom_collect_table_sizes, false, true, true},
	{"stat_user_indexes", pgprom_collect_stat_user_indexes, false, true, true},
	/* what only an in-server exporter sees (hooks.c feeds the first three) */
	{"statements", pgprom_collect_statements, false, true, false},
	{"errors", pgprom_collect_errors, false, true, false},
	{"auth", pgprom_collect_auth, false, true, false},
	{"connections", pgprom_collect_connections, false, true, false},
	{"stat_statements", pgprom_collect_stat_statements, false, true, true},
	/* the endpoint's process_* and the instance's processes, from /proc */
	{"process", pgprom_collect_process, false, true, true},

	/*
	 * Queries registered with pg_prom_register_query (the renderer runs
	 * them), then what applications record from SQL (appmetrics.c): on a name
	 * clash the family written first stays, and registered queries are
	 * checked against application metrics when registered.
	 */
	{"custom_queries", NULL, false, true, true},
	{"app_metrics", pgprom_collect_app_metrics, false, true, false},
	/* opt-in in postgres_exporter, on here: the wraparound alert needs it */
	{"database_wraparound", pgprom_collect_database_wraparound, false, true, true},
	/* postgres_exporter's disabled-by-default collectors (opt_in.c) */
	{"long_running_transactions", pgprom_collect_long_running_transactions, false, false, true},
	{"statio_user_indexes", pgprom_collect_statio_user_indexes, false, false, true},
	{"stat_wal_receiver", pgprom_collect_stat_wal_receiver, false, false, true},
	{"xlog_location", pgprom_collect_xlog_location, false, false, true},
	{"process_idle", pgprom_collect_process_idle, false, false, true},
	{"buffercache_summary", pgprom_collect_buffercache_summary, false, false, true},
	/* checkpoint panels stay filled where the counters left pg_stat_bgwriter */
	{"stat_checkpointer", pgprom_collect_stat_checkpointer, false, PGPROM_STAT_CHECKPOINTER_DEFAULT, true},
	{"pg_prom", pgprom_collect_self, false, true, false},
};

const int	pgprom_num_collectors = lengthof(pgprom_collectors);

StaticAssertDecl(lengthof(pgprom_collectors) <= PGPROM_MAX_COLLECTORS,
				 "too many collectors for the shared counters");
StaticAssertDecl(PGPROM_MAX_COLLECTORS <= 64, "the collector mask is 64 bits");
