/*-------------------------------------------------------------------------
 *
 * roles.c
 *		pg_roles_connection_limit{rolname}, as postgres_exporter's roles
 *		collector reports it (-1: no limit).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

void
pgprom_collect_roles(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec spec = {
		"pg_roles_connection_limit", "Connection limit set for the role",
		PROM_GAUGE, 2, 1, false, 1, {"rolname"}, {1}
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT rolname::pg_catalog.text, rolconnlimit::pg_catalog.float8"
					 " FROM pg_catalog.pg_roles ORDER BY rolname");
	pgprom_emit_family(w, n, &spec);
}
