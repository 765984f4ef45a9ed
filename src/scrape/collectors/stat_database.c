/*-------------------------------------------------------------------------
 *
 * stat_database.c
 *		pg_stat_database_* and pg_stat_database_conflicts_confl_* for every
 *		database, with postgres_exporter's names, types and labels.
 *
 * Read from the cumulative statistics in shared memory
 * (pgstat_fetch_stat_dbentry works for any database), with the same
 * arithmetic as the pg_stat_database view: blks_read is blocks fetched
 * minus hits, times are milliseconds (blk_read_time, blk_write_time, as
 * postgres_exporter keeps them) except active_time_seconds_total, and a
 * database without statistics yet reads as zeros.  numbackends counts the
 * backend-status array like pg_stat_get_db_numbackends().  Rows follow
 * pg_database, so the shared-objects row (datid 0) is left out as
 * postgres_exporter leaves it out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"
#include "utils/backend_status.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

static const char *const labels[] = {"datid", "datname"};

enum
{
	NUMBACKENDS, XACT_COMMIT, XACT_ROLLBACK, BLKS_READ, BLKS_HIT,
	TUP_RETURNED, TUP_FETCHED, TUP_INSERTED, TUP_UPDATED, TUP_DELETED,
	CONFLICTS, TEMP_FILES, TEMP_BYTES, DEADLOCKS, BLK_READ_TIME,
	BLK_WRITE_TIME, STATS_RESET, ACTIVE_TIME,
	CONFL_TABLESPACE, CONFL_LOCK, CONFL_SNAPSHOT, CONFL_BUFFERPIN,
	CONFL_DEADLOCK,
	NUM_COLUMNS
};

#define NUM_STAT_COLUMNS CONFL_TABLESPACE

static const PromColumn columns[NUM_COLUMNS] = {
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
	{"pg_stat_database_blk_read_time", "Time spent reading data file blocks by backends in this database, in milliseconds", PROM_COUNTER, 1000, false},
	{"pg_stat_database_blk_write_time", "Time spent writing data file blocks by backends in this database, in milliseconds", PROM_COUNTER, 1000, false},
	{"pg_stat_database_stats_reset", "Time at which these statistics were last reset, in seconds since the Unix epoch (0 if never)", PROM_COUNTER, 1, false},
	{"pg_stat_database_active_time_seconds_total", "Time spent executing SQL statements in this database, in seconds", PROM_COUNTER, 1000000, false},
	{"pg_stat_database_conflicts_confl_tablespace", "Number of queries in this database that have been canceled due to dropped tablespaces", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_lock", "Number of queries in this database that have been canceled due to lock timeouts", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_snapshot", "Number of queries in this database that have been canceled due to old snapshots", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_bufferpin", "Number of queries in this database that have been canceled due to pinned buffers", PROM_COUNTER, 1, false},
	{"pg_stat_database_conflicts_confl_deadlock", "Number of queries in this database that have been canceled due to deadlocks", PROM_COUNTER, 1, false},
};

/* One database's row, in column order. */
static void
fill_row(PgStat_StatDBEntry *e, double numbackends, double *row)
{
	row[NUMBACKENDS] = numbackends;
	if (e == NULL)
		return;					/* never used: zeros, as the view shows */

	row[XACT_COMMIT] = PGPROM_DBSTAT(e, xact_commit);
	row[XACT_ROLLBACK] = PGPROM_DBSTAT(e, xact_rollback);
	row[BLKS_READ] = PGPROM_DBSTAT(e, blocks_fetched) - PGPROM_DBSTAT(e, blocks_hit);
	row[BLKS_HIT] = PGPROM_DBSTAT(e, blocks_hit);
	row[TUP_RETURNED] = PGPROM_DBSTAT(e, tuples_returned);
	row[TUP_FETCHED] = PGPROM_DBSTAT(e, tuples_fetched);
	row[TUP_INSERTED] = PGPROM_DBSTAT(e, tuples_inserted);
	row[TUP_UPDATED] = PGPROM_DBSTAT(e, tuples_updated);
	row[TUP_DELETED] = PGPROM_DBSTAT(e, tuples_deleted);
	row[CONFL_TABLESPACE] = PGPROM_DBSTAT(e, conflict_tablespace);
	row[CONFL_LOCK] = PGPROM_DBSTAT(e, conflict_lock);
	row[CONFL_SNAPSHOT] = PGPROM_DBSTAT(e, conflict_snapshot);
	row[CONFL_BUFFERPIN] = PGPROM_DBSTAT(e, conflict_bufferpin);
	row[CONFL_DEADLOCK] = PGPROM_DBSTAT(e, conflict_startup_deadlock);
	row[CONFLICTS] = row[CONFL_TABLESPACE] + row[CONFL_LOCK] +
		row[CONFL_SNAPSHOT] + row[CONFL_BUFFERPIN] + row[CONFL_DEADLOCK];
	row[TEMP_FILES] = PGPROM_DBSTAT(e, temp_files);
	row[TEMP_BYTES] = PGPROM_DBSTAT(e, temp_bytes);
	row[DEADLOCKS] = PGPROM_DBSTAT(e, deadlocks);
	row[BLK_READ_TIME] = PGPROM_DBSTAT_BLK_READ_TIME(e);	/* microseconds */
	row[BLK_WRITE_TIME] = PGPROM_DBSTAT_BLK_WRITE_TIME(e);
	row[ACTIVE_TIME] = PGPROM_DBSTAT_ACTIVE_TIME(e);	/* microseconds */
	if (e->stat_reset_timestamp != 0)
		row[STATS_RESET] = (double) timestamptz_to_time_t(e->stat_reset_timestamp) +
			(double) (e->stat_reset_timestamp % USECS_PER_SEC) / USECS_PER_SEC;
}

void
pgprom_collect_stat_database(PromWriter *w)
{
	List	   *databases = pgprom_databases();
	int			ndb = list_length(databases);
	const char **labelvalues = palloc(sizeof(char *) * 2 * Max(ndb, 1));
	double	   *stat_rows = palloc0(sizeof(double) * NUM_STAT_COLUMNS * Max(ndb, 1));
	double	   *conflict_rows = palloc0(sizeof(double) * (NUM_COLUMNS - NUM_STAT_COLUMNS) * Max(ndb, 1));
	double	   *backends = palloc0(sizeof(double) * Max(ndb, 1));
	double		row[NUM_COLUMNS];
	ListCell   *lc;
	int			nbackends = pgstat_fetch_stat_numbackends();
	int			i;

	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *local = pgprom_local_beentry(i);
		int			d;

		if (local == NULL)
			continue;
		d = pgprom_database_index(databases, local->backendStatus.st_databaseid);
		if (d >= 0)
			backends[d] += 1;
	}

	foreach(lc, databases)
	{
		PromDatabase *db = lfirst(lc);
		int			d = foreach_current_index(lc);

		labelvalues[2 * d] = psprintf("%u", db->oid);
		labelvalues[2 * d + 1] = db->name;
		memset(row, 0, sizeof(row));
		fill_row(pgstat_fetch_stat_dbentry(db->oid), backends[d], row);
		memcpy(stat_rows + d * NUM_STAT_COLUMNS, row,
			   sizeof(double) * NUM_STAT_COLUMNS);
		memcpy(conflict_rows + d * (NUM_COLUMNS - NUM_STAT_COLUMNS),
			   row + NUM_STAT_COLUMNS,
			   sizeof(double) * (NUM_COLUMNS - NUM_STAT_COLUMNS));
	}

	pgprom_expo_columns(w, columns, NUM_STAT_COLUMNS, ndb, lengthof(labels), labels,
						labelvalues, stat_rows, NULL);
	pgprom_expo_columns(w, columns + NUM_STAT_COLUMNS, NUM_COLUMNS - NUM_STAT_COLUMNS,
						ndb, lengthof(labels), labels, labelvalues, conflict_rows,
						NULL);
}
