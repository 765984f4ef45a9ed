/*-------------------------------------------------------------------------
 *
 * wal.c
 *		pg_wal_segments and pg_wal_size_bytes: the WAL segment files in
 *		pg_wal, as postgres_exporter's wal collector counts them.
 *
 * pg_ls_waldir() needs pg_monitor (or EXECUTE on it); without it this
 * collector alone fails and says so.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

void
pgprom_collect_wal(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec specs[] = {
		{"pg_wal_segments", "Number of WAL segments", PROM_GAUGE, 1, 1, false},
		{"pg_wal_size_bytes", "Total size of WAL segments", PROM_GAUGE, 2, 1, false},
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT pg_catalog.count(*)::pg_catalog.float8,"
					 " COALESCE(pg_catalog.sum(size), 0)::pg_catalog.float8"
					 " FROM pg_catalog.pg_ls_waldir()"
					 " WHERE name OPERATOR(pg_catalog.~) '^[0-9A-F]{24}$'");
	pgprom_emit_families(w, n, specs, lengthof(specs));
}
