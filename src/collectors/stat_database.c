/*-------------------------------------------------------------------------
 *
 * stat_database.c
 *		pg_stat_database_* and pg_stat_database_conflicts_confl_* for every
 *		database, with postgres_exporter's names, types and labels.
 *
 * Times stay in PostgreSQL's milliseconds where postgres_exporter keeps
 * them (blk_read_time, blk_write_time); active_time is converted to
 * seconds as its active_time_seconds_total does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "collectors.h"
#include "../query.h"

static const char *const labels[] = {"datid", "datname"};

static const PromColumn stat_cols[] = {
	{"pg_stat_database_numbackends", "Number of backends currently connected to this database.", PROM_GAUGE, 1, false},
	{"pg_stat_database_xact_commit", "Number of transactions in this database that have been committed", PROM_COUNTER, 1, false},
	{"pg_stat_database_xact_rollback", "Number of transactions in this database that have been rolled back", PROM_COUNTER, 1, false},
	{"pg_stat_database_blks_read", "Number of disk blocks read in this database", PROM_COUNTER, 1, false},
	{"pg_stat_database_blks_hit", "Number of times disk blocks were found already in the buffer cache, so that a read was not necessary", PROM_COUNTER, 1, false},
	{"pg_stat_database_tup_returned", "Number of rows returned by queries in this database", PROM_COUNTER, 1, false},
	{"pg_stat_database_tup_fetched", "Number of rows fetched by queries in this database", PROM_COUNTER, 1, false},
	{"pg_stat_database_tup_inserted", "Number of rows inserted by queries in this database", PROM_COUNTER, 1, false},
	{"pg_stat_database_tup_updated", "Number of rows updated by queries in this database", PROM_COUNTER, 1, false},
	{"pg_stat_database_tup_deleted", "Number of rows deleted by queries in this database", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts", "Number of queries canceled due to conflicts with recovery in this database.", PROM_COUNTER, 1, false},
	{"pg_stat_database_temp_files", "Number of temporary files created by queries in this database.", PROM_COUNTER, 1, false},
	{"pg_stat_database_temp_bytes", "Total amount of data written to temporary files by queries in this database.", PROM_COUNTER, 1, false},
	{"pg_stat_database_deadlocks", "Number of deadlocks detected in this database", PROM_COUNTER, 1, false},
	{"pg_stat_database_blk_read_time", "Time spent reading data file blocks by backends in this database, in milliseconds", PROM_COUNTER, 1, false},
	{"pg_stat_database_blk_write_time", "Time spent writing data file blocks by backends in this database, in milliseconds", PROM_COUNTER, 1, false},
	{"pg_stat_database_stats_reset", "Time at which these statistics were last reset, in seconds since the Unix epoch (0 if never)", PROM_COUNTER, 1, false},
	{"pg_stat_database_active_time_seconds_total", "Time spent executing SQL statements in this database, in seconds", PROM_COUNTER, 0.001, false},
};

static const PromColumn conflict_cols[] = {
	{"pg_stat_database_conflicts_confl_tablespace", "Number of queries in this database that have been canceled due to dropped tablespaces", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_lock", "Number of queries in this database that have been canceled due to lock timeouts", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_snapshot", "Number of queries in this database that have been canceled due to old snapshots", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_bufferpin", "Number of queries in this database that have been canceled due to pinned buffers", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_deadlock", "Number of queries in this database that have been canceled due to deadlocks", PROM_COUNTER, 1, false},
};

void
pgprom_collect_stat_database(PromWriter *w)
{
	static SPIPlanPtr stat_plan = NULL;
	static SPIPlanPtr conflict_plan = NULL;
	uint64		n;

	n = pgprom_query(&stat_plan,
					 "SELECT datid::pg_catalog.text, datname::pg_catalog.text,"
					 " numbackends::pg_catalog.float8, xact_commit::pg_catalog.float8,"
					 " xact_rollback::pg_catalog.float8, blks_read::pg_catalog.float8,"
					 " blks_hit::pg_catalog.float8, tup_returned::pg_catalog.float8,"
					 " tup_fetched::pg_catalog.float8, tup_inserted::pg_catalog.float8,"
					 " tup_updated::pg_catalog.float8, tup_deleted::pg_catalog.float8,"
					 " conflicts::pg_catalog.float8, temp_files::pg_catalog.float8,"
					 " temp_bytes::pg_catalog.float8, deadlocks::pg_catalog.float8,"
					 " blk_read_time::pg_catalog.float8, blk_write_time::pg_catalog.float8,"
					 " pg_catalog.date_part('epoch', stats_reset)::pg_catalog.float8,"
					 " active_time::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_database WHERE datname IS NOT NULL"
					 " ORDER BY datname");
	pgprom_emit_columns(w, n, lengthof(labels), labels,
						stat_cols, lengthof(stat_cols));

	n = pgprom_query(&conflict_plan,
					 "SELECT datid::pg_catalog.text, datname::pg_catalog.text,"
					 " confl_tablespace::pg_catalog.float8, confl_lock::pg_catalog.float8,"
					 " confl_snapshot::pg_catalog.float8, confl_bufferpin::pg_catalog.float8,"
					 " confl_deadlock::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_database_conflicts ORDER BY datname");
	pgprom_emit_columns(w, n, lengthof(labels), labels,
						conflict_cols, lengthof(conflict_cols));
}
