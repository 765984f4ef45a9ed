/*-------------------------------------------------------------------------
 *
 * stat_bgwriter.c
 *		pg_stat_bgwriter_*_total, with postgres_exporter's names.
 *
 * PostgreSQL 17 moved the checkpoint columns to pg_stat_checkpointer; there
 * only the bgwriter's own columns remain here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

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

void
pgprom_collect_stat_bgwriter(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT buffers_clean::pg_catalog.float8,"
					 " maxwritten_clean::pg_catalog.float8,"
					 " buffers_alloc::pg_catalog.float8,"
					 " pg_catalog.date_part('epoch', stats_reset)::pg_catalog.float8"
#ifndef PGPROM_HAS_STAT_CHECKPOINTER
					 ", checkpoints_timed::pg_catalog.float8,"
					 " checkpoints_req::pg_catalog.float8,"
					 " checkpoint_write_time::pg_catalog.float8,"
					 " checkpoint_sync_time::pg_catalog.float8,"
					 " buffers_checkpoint::pg_catalog.float8,"
					 " buffers_backend::pg_catalog.float8,"
					 " buffers_backend_fsync::pg_catalog.float8"
#endif
					 " FROM pg_catalog.pg_stat_bgwriter");
	pgprom_emit_columns(w, n, 0, NULL, cols, lengthof(cols));
}
