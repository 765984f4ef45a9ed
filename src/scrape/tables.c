/*-------------------------------------------------------------------------
 *
 * tables.c
 *		The relation catalogs of every database, kept by the collector,
 *		and the scheduler of the per-database workers that read them.
 *
 * A table's name lives in its own database's pg_class, so no process
 * connected to one database can name the tables of another; their numbers,
 * though, are all in the shared statistics (tables_render.c reads them at
 * every scrape).  So only names, and sizes, are cached here:
 *
 *	- the collector's own database (pg_prom.database): read in process,
 *	  again when its catalog changed (a syscache invalidation of pg_class or
 *	  pg_namespace, at most every OWN_REFRESH_MS) and, with sizes, every
 *	  pg_prom.slow_collector_interval;
 *	- every other database that accepts connections (templates aside): a
 *	  short-lived per-database worker (tables_worker.c) reads its catalog,
 *	  sizes included, into a dynamic shared memory segment and exits.  One
 *	  runs at a time: for each database every
 *	  pg_prom.other_databases_interval seconds, and at once (at most every
 *	  REFRESH_MIN_MS per database) when a scrape meets a database or a
 *	  relation it cannot name.
 *
 * Outside the collector (pg_prom_metrics() in a backend) nothing is kept:
 * the current database's catalog is read for the scrape and forgotten.
 *
 * Background workers use max_worker_processes slots, never max_connections
 * ones.  A per-database worker holds its database for tens of
 * milliseconds: DROP DATABASE, ALTER DATABASE RENAME and CREATE DATABASE
 * ... TEMPLATE wait up to five seconds for other sessions, and it is long
 * gone by then; a database that vanished or refuses the connection is
 * skipped until the next round.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"	/* get_database_name() from 19 on */
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "commands/dbcommands.h"
#include "guc.h"
#include "scrape/query.h"
#include "scrape/scrape.h"
#include "scrape/tables.h"
#include "txn.h"
#include "workers.h"

/* Longest a per-database worker may run before it is terminated. */
#define JOB_TIMEOUT_MS 30000
/* Least time between two reads of one database's catalog on demand. */
#define REFRESH_MIN_MS 2000
/* Least time between two reads of the own catalog after invalidations. */
#define OWN_REFRESH_MS 2000
/* The first segment for a database never read, and the largest. */
#define JOB_FIRST_CAPACITY (1024 * 1024)
#define JOB_MAX_CAPACITY ((uint32) (MaxAllocSize / 2))

/*---- Collector-process state ----*/

static bool is_collector = false;
static MemoryContext tables_cxt = NULL;
static DbCatalog *own = NULL;	/* pg_prom.database */
static List *others = NIL;		/* DbCatalog *, the other databases */
static bool own_invalidated = true;

static List *queue = NIL;		/* Oids still to visit */
static Oid	round_roleoid = InvalidOid;
static TimestampTz next_round = 0;
static int	round_interval_s = 0;	/* the interval next_round was set with */
static BackgroundWorkerHandle *job_handle = NULL;
static dsm_segment *job_segment = NULL;
static Oid	job_dboid = InvalidOid;
static TimestampTz job_started = 0;

static DbCatalog *find_other(Oid dboid);
static void remember_other(DbCatalog *db);
static DbCatalog *new_catalog(MemoryContext parent, Oid dboid, const char *datname);
static void install(DbCatalog *db, const char *buf, uint32 len, bool names, bool sizes);
static void read_own(DbCatalog *db, bool sizes);
static void start_job(void);
static void finish_job(bool harvest);

/* Outside the collector: the current database's catalog, for one scrape. */
static DbCatalog *scrape_own = NULL;

static void
forget_scrape_own(void *arg)
{
	scrape_own = NULL;			/* it lived in the scrape's memory */
}

/* pg_class or pg_namespace changed in our database: names may have. */
static void
own_catalog_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	own_invalidated = true;
}

void
pgprom_tables_collector_init(void)
{
	is_collector = true;
	tables_cxt = AllocSetContextCreate(TopMemoryContext, "pg_prom catalogs",
									   ALLOCSET_DEFAULT_SIZES);
	CacheRegisterSyscacheCallback(RELOID, own_catalog_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, own_catalog_changed, (Datum) 0);
}

static DbCatalog *
new_catalog(MemoryContext parent, Oid dboid, const char *datname)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "pg_prom catalog",
											  ALLOCSET_DEFAULT_SIZES);
	DbCatalog  *db = MemoryContextAllocZero(cxt, sizeof(DbCatalog));

	db->cxt = cxt;
	db->dboid = dboid;
	db->datname = MemoryContextStrdup(cxt, datname ? datname : "");
	return db;
}

/* The lists above live in tables_cxt, whatever context their callers run in. */
static void
remember_other(DbCatalog *db)
{
	MemoryContext old = MemoryContextSwitchTo(tables_cxt);

	others = lappend(others, db);
	MemoryContextSwitchTo(old);
}

static DbCatalog *
find_other(Oid dboid)
{
	ListCell   *lc;

	foreach(lc, others)
	{
		if (((DbCatalog *) lfirst(lc))->dboid == dboid)
			return lfirst(lc);
	}
	return NULL;
}

uint64
pgprom_tables_new_generation(void)
{
	static uint64 last = 0;

	return ++last;
}

bool
pgprom_tables_in_collector(void)
{
	return is_collector;
}

/*
 * Make buf (len bytes, a catalog) db's names (names) and/or its sizes
 * (sizes).  The buffers it replaces are freed unless still in use.
 */
static void
install(DbCatalog *db, const char *buf, uint32 len, bool names, bool sizes)
{
	RelCatHeader *copy = MemoryContextAlloc(db->cxt, len);
	RelCatHeader *old_cat = db->cat;
	RelCatHeader *old_sizes = db->sizes;
	TimestampTz now = GetCurrentTimestamp();

	memcpy(copy, buf, len);
	if (names)
	{
		db->cat = copy;
		db->taken = now;
		db->last_len = len;
		db->generation = pgprom_tables_new_generation();
	}
	if (sizes)
	{
		db->sizes = copy;
		db->sizes_taken = now;
	}
	if (old_cat && old_cat != db->cat && old_cat != db->sizes)
		pfree(old_cat);
	if (old_sizes && old_sizes != old_cat && old_sizes != db->cat && old_sizes != db->sizes)
		pfree(old_sizes);
}

/*
 * Read the current database's catalog into db (SPI connected): its names,
 * or (with sizes) its sizes only, which leaves the names and everything
 * the renderer keeps for them as they are.
 */
static void
read_own(DbCatalog *db, bool sizes)
{
	StringInfoData buf;

	initStringInfo(&buf);
	pgprom_relcat_read(&buf, sizes);
	install(db, buf.data, buf.len, !sizes, sizes);
	pfree(buf.data);
}

/*
 * The catalogs to render: the current database's first (read now when
 * needed), then, in the collector, those of the other live databases it
 * has.  A live database without one is asked for; the catalogs of
 * databases no longer in the list are dropped.
 */
List *
pgprom_tables_catalogs(List *databases)
{
	List	   *result = NIL;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	const char *own_name = get_database_name(MyDatabaseId);

	if (!is_collector)
	{
		/* a backend: the current database only, for this scrape */
		if (scrape_own == NULL)
		{
			/*
			 * Remembered only once read: a read cut short (a cancel, a
			 * timeout caught by the renderer) leaves nothing half-made, and
			 * the memory it used goes with the scrape.
			 */
			DbCatalog  *db = new_catalog(pgprom_scrape_context(), MyDatabaseId,
										 own_name);

			read_own(db, false);
			pgprom_scrape_on_end(forget_scrape_own);
			scrape_own = db;
		}
		return list_make1(scrape_own);
	}

	if (own == NULL)
		own = new_catalog(tables_cxt, MyDatabaseId, own_name);
	/* (names only: the sizes come on their own schedule) */
	if (own->cat == NULL ||
		(own_invalidated &&
		 TimestampDifferenceExceeds(own->taken, now, OWN_REFRESH_MS)))
	{
		own_invalidated = false;
		read_own(own, false);
	}
	if (own_name && strcmp(own->datname, own_name) != 0)
	{
		pfree(own->datname);
		own->datname = MemoryContextStrdup(own->cxt, own_name);
		own->generation = pgprom_tables_new_generation();
	}
	if (own->cat)
		result = lappend(result, own);

	/* forget the databases that are gone */
	foreach(lc, others)
	{
		DbCatalog  *db = lfirst(lc);

		if (pgprom_database_index(databases, db->dboid) < 0)
		{
			MemoryContext old = MemoryContextSwitchTo(tables_cxt);

			others = foreach_delete_current(others, lc);
			MemoryContextSwitchTo(old);
			MemoryContextDelete(db->cxt);
		}
	}

	if (pgprom_other_databases_interval_s <= 0)
		return result;
	foreach(lc, databases)
	{
		PromDatabase *d = lfirst(lc);
		DbCatalog  *db;

		if (d->oid == MyDatabaseId || !d->allowconn || d->istemplate)
			continue;
		db = find_other(d->oid);
		if (db == NULL)
		{
			/* a database we have never read: ask for it at once */
			db = new_catalog(tables_cxt, d->oid, d->name);
			remember_other(db);
			pgprom_tables_want_refresh(db);
		}
		if (strcmp(db->datname, d->name) != 0)
		{
			pfree(db->datname);
			db->datname = MemoryContextStrdup(db->cxt, d->name);
			db->generation = pgprom_tables_new_generation();
		}
		if (db->cat)
			result = lappend(result, db);
	}
	return result;
}

/*
 * The sizes of db's tables, read now for the own database when they are
 * older than pg_prom.slow_collector_interval (with them, the names).
 */
RelCatHeader *
pgprom_tables_sizes(DbCatalog *db)
{
	if (db->dboid != MyDatabaseId)
		return db->sizes;
	if (db->sizes == NULL ||
		(is_collector &&
		 (pgprom_slow_collector_interval_s <= 0 ||
		  TimestampDifferenceExceeds(db->sizes_taken, GetCurrentTimestamp(),
									 pgprom_slow_collector_interval_s * 1000))))
		read_own(db, true);
	return db->sizes;
}

void
pgprom_tables_want_refresh(DbCatalog *db)
{
	if (!is_collector)
		return;
	if (db == own)
	{
		own_invalidated = true;
		return;
	}
	if (db->refresh_wanted)
		return;
	db->refresh_wanted = true;
	if (!list_member_oid(queue, db->dboid))
	{
		MemoryContext old = MemoryContextSwitchTo(tables_cxt);

		queue = lcons_oid(db->dboid, queue);
		MemoryContextSwitchTo(old);
	}
}

/*
 * The name of a relation of another database as postgres_exporter's
 * relid::regclass would show it (bare in schema public), from the
 * catalogs; its OID when they do not know it.
 */
char *
pgprom_tables_relname(Oid dboid, Oid relid)
{
	DbCatalog  *db = dboid == MyDatabaseId ? own : find_other(dboid);
	int			i;

	if (db && db->cat)
	{
		RelCatTable *tables = pgprom_relcat_tables(db->cat);

		for (i = 0; i < db->cat->ntables; i++)
		{
			const char *schema = pgprom_relcat_str(db->cat, tables[i].schemaname);
			const char *name = pgprom_relcat_str(db->cat, tables[i].relname);

			if (tables[i].relid != relid)
				continue;
			if (strcmp(schema, "public") == 0)
				return pstrdup(name);
			return psprintf("%s.%s", schema, name);
		}
	}
	return psprintf("%u", relid);
}

/*---- The collector's scheduler of per-database workers ----*/

/* What one round's listing produced. */
typedef struct RoundListing
{
	List	   *targets;		/* Oids of the databases to visit */
	Oid			roleoid;
} RoundListing;

static void
list_databases(void *arg)
{
	static SPIPlanPtr plan = NULL;
	RoundListing *listing = (RoundListing *) arg;
	MemoryContext old;
	uint64		n;
	uint64		r;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_prom: SPI_connect failed");
	n = pgprom_query(&plan,
					 "SELECT oid::pg_catalog.int8::pg_catalog.float8 FROM pg_catalog.pg_database"
					 " WHERE datallowconn AND NOT datistemplate ORDER BY datname");
	old = MemoryContextSwitchTo(tables_cxt);
	for (r = 0; r < n; r++)
	{
		Oid			oid = (Oid) pgprom_double(r, 1, 0);

		if (oid != MyDatabaseId)
			listing->targets = lappend_oid(listing->targets, oid);
	}
	MemoryContextSwitchTo(old);
	listing->roleoid = pgprom_worker_role();
	SPI_finish();
}

/*
 * Called by the collector on every loop iteration: start a round when one
 * is due, start the next database's job, harvest or stop a finished or
 * overdue one.  Never throws: a failure is logged and skips a database or
 * a round.
 */
void
pgprom_tables_tick(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (pgprom_other_databases_interval_s <= 0)
	{
		if (job_handle)
		{
			TerminateBackgroundWorker(job_handle);
			finish_job(false);
		}
		list_free(queue);
		queue = NIL;
		return;
	}

	if (job_handle)
	{
		pid_t		pid;
		BgwHandleStatus st = GetBackgroundWorkerPid(job_handle, &pid);

		if (st == BGWH_STOPPED)
			finish_job(true);
		else if (st == BGWH_POSTMASTER_DIED)
			proc_exit(1);
		else if (TimestampDifferenceExceeds(job_started, now, JOB_TIMEOUT_MS))
		{
			ereport(LOG,
					(errmsg("pg_prom: per-database worker for database %u did not finish in %d seconds; stopping it",
							job_dboid, JOB_TIMEOUT_MS / 1000)));
			TerminateBackgroundWorker(job_handle);
			finish_job(false);
		}
		else
			return;
	}

	/* a changed interval takes effect at once */
	if (round_interval_s != pgprom_other_databases_interval_s)
	{
		round_interval_s = pgprom_other_databases_interval_s;
		next_round = now;
	}

	if (now >= next_round)
	{
		RoundListing listing = {NIL, InvalidOid};
		ListCell   *lc;

		next_round = TimestampTzPlusMilliseconds(now,
												 pgprom_other_databases_interval_s * 1000);
		if (pgprom_in_transaction("pg_prom: listing databases", list_databases,
								  &listing))
		{
			MemoryContext old = MemoryContextSwitchTo(tables_cxt);

			round_roleoid = listing.roleoid;
			foreach(lc, listing.targets)
			{
				if (!list_member_oid(queue, lfirst_oid(lc)))
					queue = lappend_oid(queue, lfirst_oid(lc));
			}
			list_free(listing.targets);
			MemoryContextSwitchTo(old);
		}
	}
	if (queue != NIL && job_handle == NULL)
		start_job();
}

/* Milliseconds until the scheduler needs the collector again, or -1. */
long
pgprom_tables_wakeup_ms(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (pgprom_other_databases_interval_s <= 0)
		return -1;
	if (job_handle)
		return 100;				/* poll; a stop also sets our latch */
	if (queue != NIL)
		return 0;
	if (next_round <= now)
		return 0;
	return (long) ((next_round - now + 999) / 1000);
}

/* Start the per-database worker for the next database of the queue. */
static void
start_job(void)
{
	BackgroundWorker worker;
	char		name[BGW_MAXLEN];
	TablesJob  *job;
	Oid			dboid = linitial_oid(queue);
	DbCatalog  *db = find_other(dboid);
	uint32		capacity = JOB_FIRST_CAPACITY;
	ResourceOwner oldowner = CurrentResourceOwner;
	MemoryContext old;

	old = MemoryContextSwitchTo(tables_cxt);
	queue = list_delete_first(queue);
	MemoryContextSwitchTo(old);
	if (db)
	{
		/*
		 * On demand at most every REFRESH_MIN_MS, doubled after each job that
		 * brought nothing (a database whose lock someone holds: up to a
		 * minute apart); rounds always.
		 */
		if (db->refresh_wanted && db->refreshed_at != 0 &&
			!TimestampDifferenceExceeds(db->refreshed_at, GetCurrentTimestamp(),
										REFRESH_MIN_MS << Min(db->failures, 5)))
		{
			old = MemoryContextSwitchTo(tables_cxt);
			queue = lappend_oid(queue, dboid);	/* later */
			MemoryContextSwitchTo(old);
			return;
		}
		db->refresh_wanted = false;
		db->refreshed_at = GetCurrentTimestamp();
		if (db->last_len > 0)
			capacity = Min((uint64) db->last_len + db->last_len / 4 + 65536,
						   JOB_MAX_CAPACITY);
	}

	CurrentResourceOwner = NULL;	/* the segment lives until finish_job */
	job_segment = dsm_create(offsetof(TablesJob, data) + capacity,
							 DSM_CREATE_NULL_IF_MAXSEGMENTS);
	CurrentResourceOwner = oldowner;
	if (job_segment == NULL)
	{
		ereport(LOG,
				(errmsg("pg_prom: no dynamic shared memory segment left for the per-database worker")));
		return;
	}
	job = dsm_segment_address(job_segment);
	memset(job, 0, offsetof(TablesJob, data));
	job->dboid = dboid;
	job->roleoid = round_roleoid;
	job->lock_timeout_ms = pgprom_lock_timeout_ms;
	job->capacity = capacity;
	job->status = JOB_PENDING;

	snprintf(name, sizeof(name), "pg_prom tables of database %u", dboid);
	pgprom_worker_record(&worker, "pgprom_tables_worker_main", name,
						 "pg_prom tables", BGW_NEVER_RESTART, MyProcPid,
						 UInt32GetDatum(dsm_segment_handle(job_segment)));

	old = MemoryContextSwitchTo(tables_cxt);
	if (!RegisterDynamicBackgroundWorker(&worker, &job_handle))
	{
		MemoryContextSwitchTo(old);
		ereport(LOG,
				(errmsg("pg_prom: no background worker slot free for the per-database worker"),
				 errhint("Raise max_worker_processes; the database is tried again next round.")));
		job_handle = NULL;
		dsm_detach(job_segment);
		job_segment = NULL;
		list_free(queue);
		queue = NIL;			/* no slot: wait for the next round */
		return;
	}
	MemoryContextSwitchTo(old);
	job_dboid = dboid;
	job_started = GetCurrentTimestamp();
}

/* Take the catalog of a finished job, and release it. */
static void
finish_job(bool harvest)
{
	TablesJob  *job = dsm_segment_address(job_segment);
	int			status;

	pg_read_barrier();
	status = job->status;
	if (status != JOB_DONE)
	{
		DbCatalog  *db = find_other(job->dboid);

		if (db && status != JOB_TOO_SMALL)
			db->failures++;
	}
	if (harvest && status == JOB_DONE)
	{
		DbCatalog  *db = find_other(job->dboid);

		if (job->len > job->capacity ||
			!pgprom_relcat_valid((RelCatHeader *) job->data, job->len))
			ereport(LOG,
					(errmsg("pg_prom: the per-database worker of database %u returned a malformed catalog; ignored",
							job->dboid)));
		else
		{
			if (db == NULL)
			{
				/* not listed by a scrape yet: the next one names it */
				db = new_catalog(tables_cxt, job->dboid, "");
				remember_other(db);
			}
			install(db, job->data, job->len, true, true);
			db->failures = 0;
		}
	}
	else if (harvest && status == JOB_TOO_SMALL)
	{
		DbCatalog  *db = find_other(job->dboid);

		if (db == NULL)
		{
			db = new_catalog(tables_cxt, job->dboid, "");
			remember_other(db);
		}
		/* again at once, with room for it */
		if (job->needed <= JOB_MAX_CAPACITY)
		{
			MemoryContext old = MemoryContextSwitchTo(tables_cxt);

			db->last_len = job->needed;
			db->refreshed_at = 0;
			queue = lcons_oid(job->dboid, queue);
			MemoryContextSwitchTo(old);
		}
	}
	dsm_detach(job_segment);
	job_segment = NULL;
	pfree(job_handle);
	job_handle = NULL;
	job_dboid = InvalidOid;
}
