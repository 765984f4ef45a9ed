/*-------------------------------------------------------------------------
 *
 * stat_archiver.c
 *		pg_stat_archiver_*, with postgres_exporter's names.
 *
 * last_archive_age is left out while nothing was ever archived, as the
 * current postgres_exporter does (0.11 wrote NaN).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

static const PromColumn cols[] = {
	{"pg_stat_archiver_archived_count", "Number of WAL files that have been successfully archived", PROM_COUNTER, 1, false},
	{"pg_stat_archiver_failed_count", "Number of failed attempts for archiving WAL files", PROM_COUNTER, 1, false},
	{"pg_stat_archiver_last_archive_age", "Time in seconds since last WAL segment was successfully archived", PROM_GAUGE, 1, true},
};

void
pgprom_collect_stat_archiver(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT archived_count::pg_catalog.float8,"
					 " failed_count::pg_catalog.float8,"
					 " pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) last_archived_time)::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_archiver");
	pgprom_emit_columns(w, n, 0, NULL, cols, lengthof(cols));
}
