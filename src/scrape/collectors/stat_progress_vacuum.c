/*-------------------------------------------------------------------------
 *
 * stat_progress_vacuum.c
 *		pg_stat_progress_vacuum_*: running VACUUMs of every database, with
 *		postgres_exporter's names.
 *
 * The progress array covers all databases.  relname is written as
 * postgres_exporter's relid::regclass shows it with the default search_path
 * (the bare name in schema public, else schema.name): from pg_class in the
 * worker's own database, from the per-database workers' cache for the
 * others (tables.c), and the relation's OID where neither knows it, as
 * postgres_exporter shows relations of other databases.  The phase family
 * has one series per phase, 1 for the current one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "scrape/query.h"
#include "scrape/tables.h"

static const char *const phases[] = {
	"initializing", "scanning heap", "vacuuming indexes", "vacuuming heap",
	"cleaning up indexes", "truncating heap", "performing final cleanup"
};

void
pgprom_collect_stat_progress_vacuum(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec specs[] = {
		{"pg_stat_progress_vacuum_heap_blks", "Total number of heap blocks in the table being vacuumed.", PROM_GAUGE, 4, 1, false},
		{"pg_stat_progress_vacuum_heap_blks_scanned", "Number of heap blocks scanned.", PROM_GAUGE, 5, 1, false},
		{"pg_stat_progress_vacuum_heap_blks_vacuumed", "Number of heap blocks vacuumed.", PROM_GAUGE, 6, 1, false},
		{"pg_stat_progress_vacuum_index_vacuums", "Number of completed index vacuum cycles.", PROM_GAUGE, 7, 1, false},
#ifdef PGPROM_VACUUM_PROGRESS_IN_BYTES
		/* 17 counts dead item identifiers and the bytes they take */
		{"pg_stat_progress_vacuum_num_dead_tuples", "Number of dead item identifiers collected since the last index vacuum cycle (num_dead_item_ids from PostgreSQL 17).", PROM_GAUGE, 8, 1, false},
		{"pg_stat_progress_vacuum_max_dead_tuple_bytes", "Amount of dead tuple data that can be stored before an index vacuum cycle is needed, in bytes (PostgreSQL 17+).", PROM_GAUGE, 12, 1, false},
		{"pg_stat_progress_vacuum_dead_tuple_bytes", "Amount of dead tuple data collected since the last index vacuum cycle, in bytes (PostgreSQL 17+).", PROM_GAUGE, 13, 1, false},
		{"pg_stat_progress_vacuum_indexes_total", "Number of indexes that will be vacuumed or cleaned up (PostgreSQL 17+).", PROM_GAUGE, 14, 1, false},
		{"pg_stat_progress_vacuum_indexes_processed", "Number of indexes already vacuumed or cleaned up in the current phase (PostgreSQL 17+).", PROM_GAUGE, 15, 1, false},
#else
		{"pg_stat_progress_vacuum_max_dead_tuples", "Number of dead tuples that can be stored before an index vacuum cycle is needed.", PROM_GAUGE, 8, 1, false},
		{"pg_stat_progress_vacuum_num_dead_tuples", "Number of dead tuples collected since the last index vacuum cycle.", PROM_GAUGE, 9, 1, false},
#endif
	};
	uint64		n;
	uint64		r;
	char	  **relnames;
	int			i;

	n = pgprom_query(&plan,
					 "SELECT d.datname::pg_catalog.text,"
					 " COALESCE(CASE WHEN n.nspname OPERATOR(pg_catalog.=) 'public' THEN c.relname::pg_catalog.text"
					 "   ELSE n.nspname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) c.relname END, ''),"
					 " s.phase,"
					 " s.heap_blks_total::pg_catalog.float8, s.heap_blks_scanned::pg_catalog.float8,"
					 " s.heap_blks_vacuumed::pg_catalog.float8, s.index_vacuum_count::pg_catalog.float8,"
#ifdef PGPROM_VACUUM_PROGRESS_IN_BYTES
					 " s.num_dead_item_ids::pg_catalog.float8, NULL::pg_catalog.float8,"
#else
					 " s.max_dead_tuples::pg_catalog.float8, s.num_dead_tuples::pg_catalog.float8,"
#endif
					 " s.datid::pg_catalog.int8::pg_catalog.float8, s.relid::pg_catalog.int8::pg_catalog.float8"
#ifdef PGPROM_VACUUM_PROGRESS_IN_BYTES
					 ", s.max_dead_tuple_bytes::pg_catalog.float8, s.dead_tuple_bytes::pg_catalog.float8,"
					 " s.indexes_total::pg_catalog.float8, s.indexes_processed::pg_catalog.float8"
#endif
					 " FROM pg_catalog.pg_stat_progress_vacuum s"
					 " JOIN pg_catalog.pg_database d ON s.datid OPERATOR(pg_catalog.=) d.oid"
					 " LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.relid"
					 "  AND s.datid OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database"
					 "   WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
					 " LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					 " ORDER BY 1, 2");

	/* name the relations of other databases from the per-database cache */
	relnames = palloc(sizeof(char *) * Max(n, 1));
	for (r = 0; r < n; r++)
	{
		char	   *name = pgprom_text(r, 2);

		if (name[0] == '\0')
			name = pgprom_tables_relname((Oid) pgprom_double(r, 10, 0),
										 (Oid) pgprom_double(r, 11, 0));
		relnames[r] = name;
	}

	if (pgprom_expo_family(w, "pg_stat_progress_vacuum_phase",
						   "Current vacuum phase (1 = active, 0 = inactive).", PROM_GAUGE))
	{
		static const char *const names[] = {"datname", "relname", "phase"};

		for (r = 0; r < n; r++)
		{
			char	   *current = pgprom_text(r, 3);
			int			p;

			for (p = 0; p < lengthof(phases); p++)
			{
				const char *values[3] = {pgprom_text(r, 1), relnames[r], phases[p]};

				pgprom_expo_sample(w, NULL, 3, names, values,
								   strcmp(current, phases[p]) == 0 ? 1 : 0);
			}
		}
	}
	for (i = 0; i < lengthof(specs); i++)
	{
		static const char *const names[] = {"datname", "relname"};

		if (!pgprom_expo_family(w, specs[i].name, specs[i].help, specs[i].type))
			continue;
		for (r = 0; r < n; r++)
		{
			const char *values[2] = {pgprom_text(r, 1), relnames[r]};

			pgprom_expo_sample(w, NULL, 2, names, values,
							   pgprom_double(r, specs[i].value_col, 0));
		}
	}
}
