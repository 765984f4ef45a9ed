/*-------------------------------------------------------------------------
 *
 * locks.c
 *		pg_locks_count{datname, mode}: held and awaited locks per database
 *		and mode, zero-filled for every database and the nine modes, exactly
 *		as postgres_exporter reports them from pg_locks.
 *
 * Read from the lock manager's shared memory with the same functions that
 * back pg_locks (GetLockStatusData and GetPredicateLockStatusData), so the
 * counts match the view row for row: one row per mode a process holds, one
 * per mode it waits for, one per predicate (SIRead) lock.  Transaction,
 * virtual-transaction and speculative-token locks have no database, and
 * shared objects have database 0; neither is counted, as in the view's
 * join with pg_database.  No heavyweight lock is taken.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/lock.h"
#include "storage/predicate_internals.h"

#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

#define NUM_MODES 9
#define SIREAD_INDEX 8

/* Lock modes 1..8 of the default and user lock methods, then SIRead. */
static const char *const mode_labels[NUM_MODES] = {
	"accesssharelock", "rowsharelock", "rowexclusivelock",
	"shareupdateexclusivelock", "sharelock", "sharerowexclusivelock",
	"exclusivelock", "accessexclusivelock", "sireadlock"
};

/* The database of a lock tag as pg_locks shows it; false for NULL. */
static bool
lock_database(const LOCKTAG *tag, Oid *dboid)
{
	switch ((LockTagType) tag->locktag_type)
	{
		case LOCKTAG_TRANSACTION:
		case LOCKTAG_VIRTUALTRANSACTION:
		case LOCKTAG_SPECULATIVE_TOKEN:
			return false;
		default:
			*dboid = tag->locktag_field1;
			return true;
	}
}

static void
count_mode(double *counts, List *databases, Oid dboid, int mode_index)
{
	int			d = pgprom_database_index(databases, dboid);

	if (d >= 0 && mode_index >= 0 && mode_index < NUM_MODES)
		counts[d * NUM_MODES + mode_index] += 1;
}

void
pgprom_collect_locks(PromWriter *w)
{
	List	   *databases = pgprom_databases();
	double	   *counts = palloc0(sizeof(double) * NUM_MODES * Max(list_length(databases), 1));
	LockData   *locks = GetLockStatusData();
	PredicateLockData *predicates = GetPredicateLockStatusData();
	ListCell   *lc;
	int			i;

	for (i = 0; i < locks->nelements; i++)
	{
		LockInstanceData *lock = &locks->locks[i];
		Oid			dboid;
		LOCKMODE	mode;

		if (!lock_database(&lock->locktag, &dboid))
			continue;
		for (mode = 1; mode < NUM_MODES; mode++)
			if (lock->holdMask & LOCKBIT_ON(mode))
				count_mode(counts, databases, dboid, mode - 1);
		if (lock->waitLockMode != NoLock)
			count_mode(counts, databases, dboid, lock->waitLockMode - 1);
	}
	for (i = 0; i < predicates->nelements; i++)
		count_mode(counts, databases,
				   GET_PREDICATELOCKTARGETTAG_DB(predicates->locktags[i]),
				   SIREAD_INDEX);

	if (!pgprom_expo_family(w, "pg_locks_count", "Number of locks", PROM_GAUGE))
		return;
	foreach(lc, databases)
	{
		PromDatabase *db = lfirst(lc);
		int			d = foreach_current_index(lc);
		int			m;

		for (m = 0; m < NUM_MODES; m++)
			pgprom_expo_value2(w, "datname", db->name, "mode", mode_labels[m],
							   counts[d * NUM_MODES + m]);
	}
}
