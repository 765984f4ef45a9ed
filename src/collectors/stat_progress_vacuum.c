/*-------------------------------------------------------------------------
 *
 * stat_progress_vacuum.c
 *		pg_stat_progress_vacuum_*: running VACUUMs of every database, with
 *		postgres_exporter's names.
 *
 * The progress array covers all databases; relname is resolved for the
 * worker's own database and is the relation's OID elsewhere, as
 * postgres_exporter shows it.  The phase family has one series per phase,
 * 1 for the current one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "collectors.h"
#include "../query.h"

static const char *const phases[] = {
	"initializing", "scanning heap", "vacuuming indexes", "vacuuming heap",
	"cleaning up indexes", "truncating heap", "performing final cleanup"
};

void
pgprom_collect_stat_progress_vacuum(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
#define BY_REL 2, {"datname", "relname"}, {1, 2}
	static const PromFamilySpec specs[] = {
		{"pg_stat_progress_vacuum_heap_blks", "Total number of heap blocks in the table being vacuumed.", PROM_GAUGE, 4, 1, false, BY_REL},
		{"pg_stat_progress_vacuum_heap_blks_scanned", "Number of heap blocks scanned.", PROM_GAUGE, 5, 1, false, BY_REL},
		{"pg_stat_progress_vacuum_heap_blks_vacuumed", "Number of heap blocks vacuumed.", PROM_GAUGE, 6, 1, false, BY_REL},
		{"pg_stat_progress_vacuum_index_vacuums", "Number of completed index vacuum cycles.", PROM_GAUGE, 7, 1, false, BY_REL},
		{"pg_stat_progress_vacuum_max_dead_tuples", "Number of dead tuples that can be stored before an index vacuum cycle is needed.", PROM_GAUGE, 8, 1, false, BY_REL},
		{"pg_stat_progress_vacuum_num_dead_tuples", "Number of dead tuples collected since the last index vacuum cycle.", PROM_GAUGE, 9, 1, false, BY_REL},
	};
#undef BY_REL
	uint64		n;
	uint64		r;

	n = pgprom_query(&plan,
					 "SELECT d.datname::pg_catalog.text,"
					 " CASE WHEN s.datid OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database"
					 "   WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
					 "  THEN s.relid::pg_catalog.regclass::pg_catalog.text ELSE s.relid::pg_catalog.text END,"
					 " s.phase,"
					 " s.heap_blks_total::pg_catalog.float8, s.heap_blks_scanned::pg_catalog.float8,"
					 " s.heap_blks_vacuumed::pg_catalog.float8, s.index_vacuum_count::pg_catalog.float8,"
					 " s.max_dead_tuples::pg_catalog.float8, s.num_dead_tuples::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_progress_vacuum s"
					 " JOIN pg_catalog.pg_database d ON s.datid OPERATOR(pg_catalog.=) d.oid"
					 " ORDER BY 1, 2");

	if (expo_family(w, "pg_stat_progress_vacuum_phase",
					"Current vacuum phase (1 = active, 0 = inactive).", PROM_GAUGE))
	{
		static const char *const names[] = {"datname", "relname", "phase"};

		for (r = 0; r < n; r++)
		{
			char	   *current = pgprom_text(r, 3);
			int			p;

			for (p = 0; p < lengthof(phases); p++)
			{
				const char *values[3] = {pgprom_text(r, 1), pgprom_text(r, 2), phases[p]};

				expo_sample(w, NULL, 3, names, values,
							strcmp(current, phases[p]) == 0 ? 1 : 0);
			}
		}
	}
	pgprom_emit_families(w, n, specs, lengthof(specs));
}
