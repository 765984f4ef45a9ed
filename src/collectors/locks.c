/*-------------------------------------------------------------------------
 *
 * locks.c
 *		pg_locks_count{datname, mode}: held and awaited locks per database
 *		and mode, zero-filled for every database and the nine modes, exactly
 *		as postgres_exporter reports them.
 *
 * pg_locks reads the lock manager's shared memory; it takes no
 * heavyweight lock, so it cannot queue behind anyone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "collectors.h"
#include "../query.h"

void
pgprom_collect_locks(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const char *const labels[] = {"datname", "mode"};
	static const PromColumn cols[] = {
		{"pg_locks_count", "Number of locks", PROM_GAUGE, 1, false},
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT d.datname::pg_catalog.text, m.mode,"
					 " COALESCE(l.count, 0)::pg_catalog.float8"
					 " FROM (VALUES ('accesssharelock'), ('rowsharelock'),"
					 "  ('rowexclusivelock'), ('shareupdateexclusivelock'),"
					 "  ('sharelock'), ('sharerowexclusivelock'), ('exclusivelock'),"
					 "  ('accessexclusivelock'), ('sireadlock')) AS m(mode)"
					 " CROSS JOIN pg_catalog.pg_database d"
					 " LEFT JOIN (SELECT database, pg_catalog.lower(mode) AS mode,"
					 "   pg_catalog.count(*) AS count FROM pg_catalog.pg_locks"
					 "   WHERE database IS NOT NULL GROUP BY 1, 2) l"
					 "  ON l.mode OPERATOR(pg_catalog.=) m.mode"
					 "  AND l.database OPERATOR(pg_catalog.=) d.oid"
					 " ORDER BY 1, 2");
	pgprom_emit_columns(w, n, lengthof(labels), labels, cols, lengthof(cols));
}
