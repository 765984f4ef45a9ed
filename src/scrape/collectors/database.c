/*-------------------------------------------------------------------------
 *
 * database.c
 *		pg_database_size_bytes and pg_database_connection_limit per database.
 *
 * pg_database_size() stats every file of every database, which is the bulk
 * of an external exporter's scrape cost on a schema with many tables.  The
 * sizes are therefore computed at most every pg_prom.slow_collector_interval
 * seconds (and at once for a database they do not cover yet) and kept
 * here; the list of databases, their names and connection limits are read
 * at every scrape, so a dropped database vanishes from both families at
 * the next scrape and a new one appears there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

typedef struct DatabaseSize
{
	Oid			oid;
	double		bytes;
} DatabaseSize;

static MemoryContext sizes_cxt = NULL;
static DatabaseSize *sizes = NULL;
static int	nsizes = 0;
static TimestampTz sizes_taken = 0;

static const DatabaseSize *
size_of(Oid oid)
{
	int			i;

	for (i = 0; i < nsizes; i++)
	{
		if (sizes[i].oid == oid)
			return &sizes[i];
	}
	return NULL;
}

/* Compute every database's size again. */
static void
read_sizes(void)
{
	static SPIPlanPtr plan = NULL;
	uint64		n;
	uint64		r;

	if (sizes_cxt == NULL)
		sizes_cxt = AllocSetContextCreate(TopMemoryContext, "pg_prom database sizes",
										  ALLOCSET_SMALL_SIZES);
	n = pgprom_query(&plan,
					 "SELECT oid::pg_catalog.int8::pg_catalog.float8,"
					 " pg_catalog.pg_database_size(oid)::pg_catalog.float8"
					 " FROM pg_catalog.pg_database");
	MemoryContextReset(sizes_cxt);
	sizes = MemoryContextAlloc(sizes_cxt, sizeof(DatabaseSize) * Max(n, 1));
	nsizes = 0;
	for (r = 0; r < n; r++)
	{
		if (pgprom_isnull(r, 2))
			continue;
		sizes[nsizes].oid = (Oid) pgprom_double(r, 1, 0);
		sizes[nsizes].bytes = pgprom_double(r, 2, 0);
		nsizes++;
	}
	sizes_taken = GetCurrentTimestamp();
}

void
pgprom_collect_database(PromWriter *w)
{
	List	   *databases = pgprom_databases();
	ListCell   *lc;
	bool		due = sizes == NULL || pgprom_slow_collector_interval_s <= 0 ||
		TimestampDifferenceExceeds(sizes_taken, GetCurrentTimestamp(),
								   pgprom_slow_collector_interval_s * 1000);

	/* a database the sizes do not cover yet: read them all now */
	foreach(lc, databases)
	{
		if (!due && size_of(((PromDatabase *) lfirst(lc))->oid) == NULL)
			due = true;
	}
	if (due)
		read_sizes();

	if (pgprom_expo_family(w, "pg_database_size_bytes",
						   "Disk space used by the database, in bytes (refreshed every pg_prom.slow_collector_interval seconds).",
						   PROM_GAUGE))
	{
		foreach(lc, databases)
		{
			PromDatabase *db = lfirst(lc);
			const DatabaseSize *s = size_of(db->oid);

			if (s)
				pgprom_expo_value1(w, "datname", db->name, s->bytes);
		}
	}
	if (pgprom_expo_family(w, "pg_database_connection_limit",
						   "Connection limit set for the database (-1: no limit).",
						   PROM_GAUGE))
	{
		foreach(lc, databases)
		{
			PromDatabase *db = lfirst(lc);

			pgprom_expo_value1(w, "datname", db->name, (double) db->connlimit);
		}
	}
}
