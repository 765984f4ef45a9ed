/*-------------------------------------------------------------------------
 *
 * stat_archiver.c
 *		pg_stat_archiver_*, with postgres_exporter's names.
 *
 * last_archive_age is left out while nothing was ever archived, as the
 * current postgres_exporter does (0.11 wrote NaN).  Read from the shared
 * statistics, as the view's function does, rather than through SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"
#include "utils/timestamp.h"

#include "scrape/collectors/collectors.h"

static const PromColumn cols[] = {
	{"pg_stat_archiver_archived_count", "Number of WAL files that have been successfully archived", PROM_COUNTER, 1, false},
	{"pg_stat_archiver_failed_count", "Number of failed attempts for archiving WAL files", PROM_COUNTER, 1, false},
	{"pg_stat_archiver_last_archive_age", "Time in seconds since last WAL segment was successfully archived", PROM_GAUGE, 1, true},
};

void
pgprom_collect_stat_archiver(PromWriter *w)
{
	PgStat_ArchiverStats *st = pgstat_fetch_stat_archiver();
	double		values[lengthof(cols)];
	bool		nulls[lengthof(cols)] = {0};

	values[0] = (double) st->archived_count;
	values[1] = (double) st->failed_count;
	/* the view's last_archived_time is NULL while it is 0 */
	nulls[2] = st->last_archived_timestamp == 0;
	values[2] = nulls[2] ? 0 :
		(double) (GetCurrentTimestamp() - st->last_archived_timestamp) / USECS_PER_SEC;
	pgprom_expo_columns(w, cols, lengthof(cols), 1, 0, NULL, NULL, values,
						nulls);
}
