/*-------------------------------------------------------------------------
 *
 * stat_bgwriter.c
 *		pg_stat_bgwriter_*_total, with postgres_exporter's names.
 *
 * PostgreSQL 17 moved the checkpoint columns to pg_stat_checkpointer; there
 * only the bgwriter's own columns remain here.
 *
 * Read from the shared statistics (what the view's functions return, with
 * the same conversions) rather than through SQL: a query per scrape cost
 * more than everything else this collector does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"

static const PromColumn cols[] = {
	{"pg_stat_bgwriter_buffers_clean_total", "Number of buffers written by the background writer", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_maxwritten_clean_total", "Number of times the background writer stopped a cleaning scan because it had written too many buffers", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_buffers_alloc_total", "Number of buffers allocated", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_stats_reset_total", "Time at which these statistics were last reset, in seconds since the Unix epoch", PROM_COUNTER, 1, false},
#ifndef PGPROM_HAS_STAT_CHECKPOINTER
	{"pg_stat_bgwriter_checkpoints_timed_total", "Number of scheduled checkpoints that have been performed", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_checkpoints_req_total", "Number of requested checkpoints that have been performed", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_checkpoint_write_time_total", "Total amount of time that has been spent in the portion of checkpoint processing where files are written to disk, in milliseconds", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_checkpoint_sync_time_total", "Total amount of time that has been spent in the portion of checkpoint processing where files are synchronized to disk, in milliseconds", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_buffers_checkpoint_total", "Number of buffers written during checkpoints", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_buffers_backend_total", "Number of buffers written directly by a backend", PROM_COUNTER, 1, false},
	{"pg_stat_bgwriter_buffers_backend_fsync_total", "Number of times a backend had to execute its own fsync call", PROM_COUNTER, 1, false},
#endif
};

/*
 * As date_part('epoch', ts), to the last bit (one rounding of the exact
 * quotient); the view shows the zero timestamp as it is.
 */
static double
epoch_of(TimestampTz ts)
{
	return (double) (ts + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) /
		USECS_PER_SEC;
}

void
pgprom_collect_stat_bgwriter(PromWriter *w)
{
	PgStat_BgWriterStats *bg = pgstat_fetch_stat_bgwriter();
	double		values[lengthof(cols)];
	bool		nulls[lengthof(cols)] = {0};
	int			i = 0;

	values[i++] = (double) bg->buf_written_clean;
	values[i++] = (double) bg->maxwritten_clean;
	values[i++] = (double) bg->buf_alloc;
	values[i++] = epoch_of(bg->stat_reset_timestamp);
#ifndef PGPROM_HAS_STAT_CHECKPOINTER
	{
		PgStat_CheckpointerStats *cp = pgstat_fetch_stat_checkpointer();

		values[i++] = (double) cp->timed_checkpoints;
		values[i++] = (double) cp->requested_checkpoints;
		/* milliseconds, as the view shows them */
		values[i++] = (double) cp->checkpoint_write_time;
		values[i++] = (double) cp->checkpoint_sync_time;
		values[i++] = (double) cp->buf_written_checkpoints;
		values[i++] = (double) cp->buf_written_backend;
		values[i++] = (double) cp->buf_fsync_backend;
	}
#endif
	Assert(i == lengthof(cols));
	pgprom_expo_columns(w, cols, lengthof(cols), 1, 0, NULL, NULL, values,
						nulls);
}
