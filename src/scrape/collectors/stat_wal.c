/*-------------------------------------------------------------------------
 *
 * stat_wal.c
 *		pg_stat_wal_*: WAL generation as pg_stat_wal shows it, and, on
 *		PostgreSQL 19, pg_stat_lock_*{locktype}: the cumulative lock
 *		statistics.  Both read from the shared statistics, no SQL.
 *
 * pg_stat_wal: records, full-page images, bytes and "WAL buffers full"
 * events on every version; the write and sync counters and their times
 * (milliseconds in the view, seconds here) up to 17 only: 18 moved them to
 * pg_stat_io, object "wal" (stat_io.c).  19 adds the bytes of full-page
 * images.
 *
 * pg_stat_lock (19+): per lock type, the waits, the time waited (kept in
 * microseconds, seconds here) and the times the fast-path slots of a
 * backend were full; the lock types are named as pg_locks names them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"
#include "storage/lock.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"

void
pgprom_collect_stat_wal(PromWriter *w)
{
	PgStat_WalStats *wal = pgstat_fetch_stat_wal();

	pgprom_expo_single(w, "pg_stat_wal_records_total",
					   "WAL records generated (pg_stat_wal.wal_records)",
					   PROM_COUNTER, (double) PGPROM_WAL_COUNTERS(wal)->wal_records);
	pgprom_expo_single(w, "pg_stat_wal_fpi_total",
					   "WAL full-page images generated (pg_stat_wal.wal_fpi)",
					   PROM_COUNTER, (double) PGPROM_WAL_COUNTERS(wal)->wal_fpi);
	pgprom_expo_single(w, "pg_stat_wal_bytes_total",
					   "WAL generated, in bytes (pg_stat_wal.wal_bytes)",
					   PROM_COUNTER, (double) PGPROM_WAL_COUNTERS(wal)->wal_bytes);
#ifdef PGPROM_WAL_HAS_FPI_BYTES
	pgprom_expo_single(w, "pg_stat_wal_fpi_bytes_total",
					   "WAL full-page images generated, in bytes (pg_stat_wal.wal_fpi_bytes, PostgreSQL 19+)",
					   PROM_COUNTER, (double) PGPROM_WAL_COUNTERS(wal)->wal_fpi_bytes);
#endif
	pgprom_expo_single(w, "pg_stat_wal_buffers_full_total",
					   "Times WAL data was written to disk because WAL buffers became full (pg_stat_wal.wal_buffers_full)",
					   PROM_COUNTER, (double) PGPROM_WAL_COUNTERS(wal)->wal_buffers_full);
#ifdef PGPROM_WAL_HAS_WRITE_SYNC
	pgprom_expo_single(w, "pg_stat_wal_write_total",
					   "Times WAL buffers were written out to disk (pg_stat_wal.wal_write; up to PostgreSQL 17, then pg_stat_io object \"wal\")",
					   PROM_COUNTER, (double) wal->wal_write);
	pgprom_expo_single(w, "pg_stat_wal_sync_total",
					   "Times WAL files were synced to disk (pg_stat_wal.wal_sync; up to PostgreSQL 17)",
					   PROM_COUNTER, (double) wal->wal_sync);
	pgprom_expo_single(w, "pg_stat_wal_write_time_seconds_total",
					   "Time spent writing WAL buffers to disk, in seconds (needs track_wal_io_timing; up to PostgreSQL 17)",
					   PROM_COUNTER, (double) wal->wal_write_time / 1000000.0);
	pgprom_expo_single(w, "pg_stat_wal_sync_time_seconds_total",
					   "Time spent syncing WAL files to disk, in seconds (needs track_wal_io_timing; up to PostgreSQL 17)",
					   PROM_COUNTER, (double) wal->wal_sync_time / 1000000.0);
#endif
	pgprom_expo_single(w, "pg_stat_wal_stats_reset_timestamp_seconds",
					   "Time these statistics were last reset, in seconds since the Unix epoch (0: never)",
					   PROM_GAUGE,
					   pgprom_expo_epoch_seconds(wal->stat_reset_timestamp));
}

void
pgprom_collect_stat_lock(PromWriter *w)
{
#ifdef PGPROM_HAS_STAT_LOCK
	static const struct
	{
		const char *name;
		const char *help;
		int			which;
	}			families[] = {
		{"pg_stat_lock_waits_total", "Waits for a lock of this type that lasted past deadlock_timeout and ended with the lock granted (pg_stat_lock.waits)", 0},
		{"pg_stat_lock_wait_time_seconds_total", "Time spent in those waits, in seconds (pg_stat_lock.wait_time)", 1},
		{"pg_stat_lock_fastpath_exceeded_total", "Times a lock of this type could not use the fast path because the backend's slots were full (pg_stat_lock.fastpath_exceeded)", 2},
	};
	PgStat_Lock *locks = pgstat_fetch_stat_lock();
	int			i;

	for (i = 0; i < lengthof(families); i++)
	{
		int			t;

		if (!pgprom_expo_family(w, families[i].name, families[i].help,
								PROM_COUNTER))
			continue;
		for (t = 0; t <= LOCKTAG_LAST_TYPE; t++)
		{
			const PgStat_LockEntry *e = &locks->stats[t];
			double		v = families[i].which == 0 ? (double) e->waits :
				families[i].which == 1 ? (double) e->wait_time / 1000000.0 :
				(double) e->fastpath_exceeded;

			pgprom_expo_value1(w, "locktype", LockTagTypeNames[t], v);
		}
	}
#endif
}
