/*-------------------------------------------------------------------------
 *
 * database.c
 *		pg_database_size_bytes and pg_database_connection_limit per database.
 *
 * pg_database_size() stats every file of every database, which is the bulk
 * of an external exporter's scrape cost on a schema with many tables.  The
 * collector is therefore marked slow: its output is refreshed at most every
 * pg_prom.slow_collector_interval seconds and replayed in between.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

void
pgprom_collect_database(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const char *const labels[] = {"datname"};
	static const PromColumn cols[] = {
		{"pg_database_size_bytes",
			"Disk space used by the database, in bytes (refreshed every pg_prom.slow_collector_interval seconds).",
		PROM_GAUGE, 1, false},
		{"pg_database_connection_limit",
			"Connection limit set for the database (-1: no limit).",
		PROM_GAUGE, 1, false},
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT datname::pg_catalog.text,"
					 " pg_catalog.pg_database_size(oid)::pg_catalog.float8,"
					 " datconnlimit::pg_catalog.float8"
					 " FROM pg_catalog.pg_database ORDER BY datname");
	pgprom_emit_columns(w, n, lengthof(labels), labels, cols, lengthof(cols));
}
