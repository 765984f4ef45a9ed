/*-------------------------------------------------------------------------
 *
 * tables.c
 *		Per-table statistics for every database, without a client
 *		connection per database.
 *
 * A table's name lives in its own database's pg_class, so no process
 * connected to one database can name the tables of another.  pg_prom
 * therefore works in two places:
 *
 *	- at scrape time, for the worker's own database (pg_prom.database), the
 *	  rows are read live through pg_stat_user_tables and
 *	  pg_statio_user_tables;
 *	- for every other database that accepts connections (templates are
 *	  skipped), the worker starts one short-lived dynamic background worker
 *	  at a time, every pg_prom.other_databases_interval seconds.  It
 *	  connects to that database, reads the same rows (sizes included, with
 *	  the same lock-skipping), writes them to a dynamic shared memory
 *	  segment and exits, normally within tens of milliseconds.  The worker
 *	  keeps the last rows of each database and serves them with their age
 *	  (pg_prom_database_tables_age_seconds{datname}).
 *
 * Background workers use max_worker_processes slots, never max_connections
 * ones.  A per-database worker holds its database for its short life only:
 * DROP DATABASE, ALTER DATABASE RENAME and CREATE DATABASE ... TEMPLATE
 * wait for other sessions up to five seconds, and it is long gone by then;
 * a database that vanished or refuses the connection is simply skipped
 * until the next round.  The SQL function, which runs in an ordinary
 * backend, has no such cache and shows the current database only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"	/* get_database_name() from 19 on */
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "backend/hooks.h"
#include "guc.h"
#include "scrape/query.h"
#include "scrape/scrape.h"
#include "scrape/tables.h"
#include "txn.h"

/* Longest a per-database worker may run before it is terminated. */
#define JOB_TIMEOUT_MS 30000
/* Statement timeout inside a per-database worker. */
#define JOB_STATEMENT_TIMEOUT_MS 20000

typedef enum JobStatus
{
	JOB_PENDING = 0,
	JOB_DONE
} JobStatus;

/* The dynamic shared memory a per-database worker fills. */
typedef struct TablesJob
{
	Oid			dboid;
	Oid			roleoid;
	int			capacity;
	int			lock_timeout_ms;
	int			nrows;
	int64		total;
	int64		skipped_locked;
	volatile int status;
	TableRow	rows[FLEXIBLE_ARRAY_MEMBER];
} TablesJob;

/* The last rows of another database, kept by the worker. */
typedef struct DatabaseTables
{
	Oid			dboid;
	char	   *datname;
	TableRow   *rows;
	int			nrows;
	int64		left_out;
	int64		skipped_locked;
	TimestampTz taken;
} DatabaseTables;

/* One family of the per-table collectors. */
typedef struct TableFamily
{
	TableFamilies which;
	const char *name;
	const char *help;
	PromType	type;
	TableValue	value;
} TableFamily;

static const TableFamily families[] = {
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_seq_scan", "Number of sequential scans initiated on this table", PROM_COUNTER, TV_SEQ_SCAN},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_seq_tup_read", "Number of live rows fetched by sequential scans", PROM_COUNTER, TV_SEQ_TUP_READ},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_idx_scan", "Number of index scans initiated on this table", PROM_COUNTER, TV_IDX_SCAN},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_idx_tup_fetch", "Number of live rows fetched by index scans", PROM_COUNTER, TV_IDX_TUP_FETCH},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_n_tup_ins", "Number of rows inserted", PROM_COUNTER, TV_N_TUP_INS},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_n_tup_upd", "Number of rows updated", PROM_COUNTER, TV_N_TUP_UPD},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_n_tup_del", "Number of rows deleted", PROM_COUNTER, TV_N_TUP_DEL},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_n_tup_hot_upd", "Number of rows HOT updated (i.e., with no separate index update required)", PROM_COUNTER, TV_N_TUP_HOT_UPD},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_n_live_tup", "Estimated number of live rows", PROM_GAUGE, TV_N_LIVE_TUP},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_n_dead_tup", "Estimated number of dead rows", PROM_GAUGE, TV_N_DEAD_TUP},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_n_mod_since_analyze", "Estimated number of rows changed since last analyze", PROM_GAUGE, TV_N_MOD_SINCE_ANALYZE},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_last_vacuum", "Last time at which this table was manually vacuumed (not counting VACUUM FULL), in seconds since the Unix epoch (0 if never)", PROM_GAUGE, TV_LAST_VACUUM},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_last_autovacuum", "Last time at which this table was vacuumed by the autovacuum daemon, in seconds since the Unix epoch (0 if never)", PROM_GAUGE, TV_LAST_AUTOVACUUM},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_last_analyze", "Last time at which this table was manually analyzed, in seconds since the Unix epoch (0 if never)", PROM_GAUGE, TV_LAST_ANALYZE},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_last_autoanalyze", "Last time at which this table was analyzed by the autovacuum daemon, in seconds since the Unix epoch (0 if never)", PROM_GAUGE, TV_LAST_AUTOANALYZE},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_vacuum_count", "Number of times this table has been manually vacuumed (not counting VACUUM FULL)", PROM_COUNTER, TV_VACUUM_COUNT},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_autovacuum_count", "Number of times this table has been vacuumed by the autovacuum daemon", PROM_COUNTER, TV_AUTOVACUUM_COUNT},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_analyze_count", "Number of times this table has been manually analyzed", PROM_COUNTER, TV_ANALYZE_COUNT},
	{TABLE_FAMILIES_STAT, "pg_stat_user_tables_autoanalyze_count", "Number of times this table has been analyzed by the autovacuum daemon", PROM_COUNTER, TV_AUTOANALYZE_COUNT},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_heap_blocks_read", "Number of disk blocks read from this table", PROM_COUNTER, TV_HEAP_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_heap_blocks_hit", "Number of buffer hits in this table", PROM_COUNTER, TV_HEAP_BLKS_HIT},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_idx_blocks_read", "Number of disk blocks read from all indexes on this table", PROM_COUNTER, TV_IDX_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_idx_blocks_hit", "Number of buffer hits in all indexes on this table", PROM_COUNTER, TV_IDX_BLKS_HIT},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_toast_blocks_read", "Number of disk blocks read from this table's TOAST table (if any)", PROM_COUNTER, TV_TOAST_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_toast_blocks_hit", "Number of buffer hits in this table's TOAST table (if any)", PROM_COUNTER, TV_TOAST_BLKS_HIT},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_tidx_blocks_read", "Number of disk blocks read from this table's TOAST table indexes (if any)", PROM_COUNTER, TV_TIDX_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_tidx_blocks_hit", "Number of buffer hits in this table's TOAST table indexes (if any)", PROM_COUNTER, TV_TIDX_BLKS_HIT},
	/* the classic example queries.yaml named these after the view's columns */
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_heap_blks_read", "Number of disk blocks read from this table (classic queries.yaml name)", PROM_COUNTER, TV_HEAP_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_heap_blks_hit", "Number of buffer hits in this table (classic queries.yaml name)", PROM_COUNTER, TV_HEAP_BLKS_HIT},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_idx_blks_read", "Number of disk blocks read from all indexes on this table (classic queries.yaml name)", PROM_COUNTER, TV_IDX_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_idx_blks_hit", "Number of buffer hits in all indexes on this table (classic queries.yaml name)", PROM_COUNTER, TV_IDX_BLKS_HIT},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_toast_blks_read", "Number of disk blocks read from this table's TOAST table (classic queries.yaml name)", PROM_COUNTER, TV_TOAST_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_toast_blks_hit", "Number of buffer hits in this table's TOAST table (classic queries.yaml name)", PROM_COUNTER, TV_TOAST_BLKS_HIT},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_tidx_blks_read", "Number of disk blocks read from this table's TOAST table indexes (classic queries.yaml name)", PROM_COUNTER, TV_TIDX_BLKS_READ},
	{TABLE_FAMILIES_STATIO, "pg_statio_user_tables_tidx_blks_hit", "Number of buffer hits in this table's TOAST table indexes (classic queries.yaml name)", PROM_COUNTER, TV_TIDX_BLKS_HIT},
	{TABLE_FAMILIES_SIZE, "pg_stat_user_tables_table_size_bytes", "Total disk space used by this table, in bytes, excluding indexes (refreshed every pg_prom.slow_collector_interval seconds)", PROM_GAUGE, TV_TABLE_SIZE},
	{TABLE_FAMILIES_SIZE, "pg_stat_user_tables_index_size_bytes", "Total disk space used by the indexes on this table, in bytes (refreshed every pg_prom.slow_collector_interval seconds)", PROM_GAUGE, TV_INDEX_SIZE},
	{TABLE_FAMILIES_SIZE, "pg_stat_user_tables_size_bytes", "Total disk space used by this table and its indexes, in bytes (postgres_exporter 0.17 name; refreshed every pg_prom.slow_collector_interval seconds)", PROM_GAUGE, TV_TOTAL_SIZE},
};

/*---- Worker-process state ----*/

static MemoryContext cache_cxt = NULL;
static List *other_databases = NIL;	/* DatabaseTables * */

static List *round_targets = NIL;	/* Oids still to visit this round */
static Oid	round_roleoid = InvalidOid;
static TimestampTz next_round = 0;
static int	round_interval_s = 0;	/* the interval next_round was set with */
static BackgroundWorkerHandle *job_handle = NULL;
static dsm_segment *job_segment = NULL;
static Oid	job_dboid = InvalidOid;
static TimestampTz job_started = 0;

/*---- Render-time state (the worker's own database) ----*/

static TableRow *own_rows = NULL;
static int	own_nrows = 0;
static int64 own_total = 0;
static bool own_valid = false;

static DatabaseTables *find_database(Oid dboid);
static void forget_own_rows(void *arg);
static void start_round(void);
static void start_job(void);
static void finish_job(bool harvest);

#define EPOCH(col) "COALESCE(pg_catalog.date_part('epoch', " col "), 0)::pg_catalog.float8"
#define F8(col) "COALESCE(" col ", 0)::pg_catalog.float8"

/*
 * Read up to capacity tables of the current database, in schema and name
 * order, into *rows (allocated here in CurrentMemoryContext when NULL);
 * *total is how many there are.  With sizes, each table is first locked
 * with a conditional lock: one whose lock is not free at once is counted
 * in *skipped_locked and keeps have_size false.  SPI must be connected.
 */
int
pgprom_read_tables(TableRow **rows, int capacity, bool sizes,
				   int64 *total, int64 *skipped_locked)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr count_plan = NULL;
	uint64		n;
	uint64		r;
	int			v;

	*total = 0;
	*skipped_locked = 0;
	if (capacity <= 0)
	{
		/* nothing to show: only count what is left out */
		if (pgprom_query(&count_plan,
						 "SELECT pg_catalog.count(*)::pg_catalog.float8 FROM pg_catalog.pg_stat_user_tables s"
						 " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.relid"
						 " WHERE c.relpersistence OPERATOR(pg_catalog.<>) 't'") == 1)
			*total = (int64) pgprom_double(0, 1, 0);
		return 0;
	}

	n = pgprom_query_limit(&plan,
						   "SELECT s.schemaname::pg_catalog.text, s.relname::pg_catalog.text,"
						   " s.relid::pg_catalog.int8::pg_catalog.float8, "
						   F8("s.seq_scan") ", " F8("s.seq_tup_read") ", " F8("s.idx_scan") ", "
						   F8("s.idx_tup_fetch") ", " F8("s.n_tup_ins") ", " F8("s.n_tup_upd") ", "
						   F8("s.n_tup_del") ", " F8("s.n_tup_hot_upd") ", " F8("s.n_live_tup") ", "
						   F8("s.n_dead_tup") ", " F8("s.n_mod_since_analyze") ", "
						   EPOCH("s.last_vacuum") ", " EPOCH("s.last_autovacuum") ", "
						   EPOCH("s.last_analyze") ", " EPOCH("s.last_autoanalyze") ", "
						   F8("s.vacuum_count") ", " F8("s.autovacuum_count") ", "
						   F8("s.analyze_count") ", " F8("s.autoanalyze_count") ", "
						   F8("io.heap_blks_read") ", " F8("io.heap_blks_hit") ", "
						   F8("io.idx_blks_read") ", " F8("io.idx_blks_hit") ", "
						   F8("io.toast_blks_read") ", " F8("io.toast_blks_hit") ", "
						   F8("io.tidx_blks_read") ", " F8("io.tidx_blks_hit") ","
						   " pg_catalog.count(*) OVER ()::pg_catalog.float8"
						   " FROM pg_catalog.pg_stat_user_tables s"
						   " JOIN pg_catalog.pg_statio_user_tables io"
						   "  ON io.relid OPERATOR(pg_catalog.=) s.relid"
						   " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.relid"
						   " WHERE c.relpersistence OPERATOR(pg_catalog.<>) 't'"
						   " ORDER BY s.schemaname, s.relname",
						   capacity);
	if (*rows == NULL)
		*rows = palloc(sizeof(TableRow) * Max(n, 1));

	for (r = 0; r < n; r++)
	{
		TableRow   *row = &(*rows)[r];

		memset(row, 0, sizeof(TableRow));
		namestrcpy(&row->schemaname, pgprom_text(r, 1));
		namestrcpy(&row->relname, pgprom_text(r, 2));
		row->relid = (Oid) pgprom_double(r, 3, 0);
		for (v = 0; v < TV_TABLE_SIZE; v++)
			row->v[v] = pgprom_double(r, 4 + v, 0);
		*total = (int64) pgprom_double(r, 4 + TV_TABLE_SIZE, 0);
	}

	if (!sizes)
		return (int) n;

	for (r = 0; r < n; r++)
	{
		TableRow   *row = &(*rows)[r];

		CHECK_FOR_INTERRUPTS();
		if (!ConditionalLockRelationOid(row->relid, AccessShareLock))
		{
			(*skipped_locked)++;
			continue;
		}
		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(row->relid)))
		{
			Datum		relid = ObjectIdGetDatum(row->relid);

			row->v[TV_TABLE_SIZE] = (double) DatumGetInt64(DirectFunctionCall1(pg_table_size, relid));
			row->v[TV_INDEX_SIZE] = (double) DatumGetInt64(DirectFunctionCall1(pg_indexes_size, relid));
			row->v[TV_TOTAL_SIZE] = (double) DatumGetInt64(DirectFunctionCall1(pg_total_relation_size, relid));
			row->have_size = true;
		}
		UnlockRelationOid(row->relid, AccessShareLock);
	}
	return (int) n;
}

/* The scrape is over: the own-database rows lived in its memory. */
static void
forget_own_rows(void *arg)
{
	own_rows = NULL;
	own_nrows = 0;
	own_total = 0;
	own_valid = false;
}

static void
write_rows(PromWriter *w, const TableFamily *f, const char *datname,
		   const TableRow *rows, int nrows)
{
	static const char *const names[] = {"datname", "schemaname", "relname"};
	int			r;

	for (r = 0; r < nrows; r++)
	{
		const char *values[3];

		if (f->which == TABLE_FAMILIES_SIZE && !rows[r].have_size)
			continue;
		values[0] = datname;
		values[1] = NameStr(rows[r].schemaname);
		values[2] = NameStr(rows[r].relname);
		expo_sample(w, NULL, 3, names, values, rows[r].v[f->value]);
	}
}

/*
 * Write the families of one kind: the worker's own database read now (for
 * sizes with lock-skipping, else shared between the stat and statio
 * collectors of this render), then every other database from the cache.
 */
void
pgprom_write_table_families(PromWriter *w, TableFamilies which)
{
	const char *own_name = get_database_name(MyDatabaseId);
	TableRow   *rows;
	int			nrows;
	int64		total;
	int64		skipped = 0;
	ListCell   *lc;
	int			f;

	if (which == TABLE_FAMILIES_SIZE || !own_valid)
	{
		/* the stat and statio collectors share one read per render */
		MemoryContext old = MemoryContextSwitchTo(which == TABLE_FAMILIES_SIZE ?
												  CurrentMemoryContext :
												  pgprom_scrape_context());

		rows = NULL;
		nrows = pgprom_read_tables(&rows, pgprom_max_tables,
								   which == TABLE_FAMILIES_SIZE,
								   &total, &skipped);
		MemoryContextSwitchTo(old);
		if (which != TABLE_FAMILIES_SIZE)
		{
			own_rows = rows;
			own_nrows = nrows;
			own_total = total;
			own_valid = true;
			pgprom_scrape_on_end(forget_own_rows);
		}
	}
	else
	{
		rows = own_rows;
		nrows = own_nrows;
		total = own_total;
	}

	pgprom_note_left_out(total - nrows);
	pgprom_note_skipped_locked(skipped);
	foreach(lc, other_databases)
	{
		DatabaseTables *db = lfirst(lc);

		pgprom_note_left_out(db->left_out);
		if (which == TABLE_FAMILIES_SIZE)
			pgprom_note_skipped_locked(db->skipped_locked);
	}

	for (f = 0; f < lengthof(families); f++)
	{
		if (families[f].which != which)
			continue;
		if (!expo_family(w, families[f].name, families[f].help, families[f].type))
			continue;
		write_rows(w, &families[f], own_name ? own_name : "", rows, nrows);
		foreach(lc, other_databases)
		{
			DatabaseTables *db = lfirst(lc);

			write_rows(w, &families[f], db->datname, db->rows, db->nrows);
		}
	}

	/* how old the other databases' rows are, written once */
	if (which == TABLE_FAMILIES_STAT &&
		expo_family(w, "pg_prom_database_tables_age_seconds",
					"Age of the per-table rows of a database other than pg_prom.database, read by a short-lived per-database worker every pg_prom.other_databases_interval seconds.",
					PROM_GAUGE))
	{
		TimestampTz now = GetCurrentTimestamp();

		foreach(lc, other_databases)
		{
			DatabaseTables *db = lfirst(lc);

			if (db->taken != 0)
				expo_value1(w, "datname", db->datname,
							(double) (now - db->taken) / USECS_PER_SEC);
		}
	}
}

/*
 * The name of a relation of another database as postgres_exporter's
 * relid::regclass would show it (bare in schema public), from the cache;
 * its OID when the cache does not know it.
 */
char *
pgprom_tables_relname(Oid dboid, Oid relid)
{
	DatabaseTables *db = find_database(dboid);
	int			i;

	for (i = 0; db != NULL && i < db->nrows; i++)
	{
		TableRow   *row = &db->rows[i];

		if (row->relid != relid)
			continue;
		if (strcmp(NameStr(row->schemaname), "public") == 0)
			return pstrdup(NameStr(row->relname));
		return psprintf("%s.%s", NameStr(row->schemaname), NameStr(row->relname));
	}
	return psprintf("%u", relid);
}

/*---- The worker's scheduler ----*/

/*
 * Called by the worker on every loop iteration: start a round when one is
 * due, start the next database's job, harvest or stop a finished or
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
		round_targets = NIL;
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

	if (round_targets == NIL && now >= next_round)
	{
		next_round = TimestampTzPlusMilliseconds(now,
												 pgprom_other_databases_interval_s * 1000);
		start_round();
	}
	if (round_targets != NIL && job_handle == NULL)
		start_job();
}

/* Milliseconds until the scheduler needs the worker again, or -1. */
long
pgprom_tables_wakeup_ms(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (pgprom_other_databases_interval_s <= 0)
		return -1;
	if (job_handle)
		return 100;				/* poll; a stop also sets our latch */
	if (round_targets != NIL)
		return 0;
	if (next_round <= now)
		return 0;
	return (long) ((next_round - now + 999) / 1000);
}

/* The cache entry of a database, or NULL. */
static DatabaseTables *
find_database(Oid dboid)
{
	ListCell   *lc;

	foreach(lc, other_databases)
	{
		if (((DatabaseTables *) lfirst(lc))->dboid == dboid)
			return lfirst(lc);
	}
	return NULL;
}

/*
 * List the databases to visit: every one that accepts connections except
 * templates and our own.  Entries of databases that are gone are dropped,
 * new ones get an empty entry, renamed ones their new name.  Runs a short
 * transaction of its own; a failure is logged and skips the round.
 */
/* What one round's listing produced. */
typedef struct RoundListing
{
	List	   *kept;			/* DatabaseTables * to keep, in order */
	List	   *targets;		/* their Oids */
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
					 "SELECT oid::pg_catalog.int8::pg_catalog.float8, datname::pg_catalog.text"
					 " FROM pg_catalog.pg_database"
					 " WHERE datallowconn AND NOT datistemplate"
					 " ORDER BY datname");
	old = MemoryContextSwitchTo(cache_cxt);
	for (r = 0; r < n; r++)
	{
		Oid			oid = (Oid) pgprom_double(r, 1, 0);
		char	   *name = pgprom_text(r, 2);
		DatabaseTables *db;

		if (oid == MyDatabaseId)
			continue;
		db = find_database(oid);
		if (db == NULL)
		{
			db = palloc0(sizeof(DatabaseTables));
			db->dboid = oid;
			db->datname = pstrdup(name);
		}
		else if (strcmp(db->datname, name) != 0)
		{
			pfree(db->datname);
			db->datname = pstrdup(name);
		}
		listing->kept = lappend(listing->kept, db);
		listing->targets = lappend_oid(listing->targets, oid);
	}
	MemoryContextSwitchTo(old);
	listing->roleoid = pgprom_role[0] ? get_role_oid(pgprom_role, false) : InvalidOid;
	SPI_finish();
}

/*
 * List the databases to visit: every one that accepts connections except
 * templates and our own.  Entries of databases that are gone are dropped,
 * new ones get an empty entry, renamed ones their new name.  A failure is
 * logged and skips the round.
 */
static void
start_round(void)
{
	RoundListing listing = {NIL, NIL, InvalidOid};
	ListCell   *lc;

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext,
										  "pg_prom other databases",
										  ALLOCSET_DEFAULT_SIZES);

	if (!pgprom_in_transaction("pg_prom: listing databases", list_databases,
							   &listing))
		return;					/* keep what we had; try again next round */

	foreach(lc, other_databases)
	{
		DatabaseTables *db = lfirst(lc);

		if (!list_member_ptr(listing.kept, db))
		{
			if (db->rows)
				pfree(db->rows);
			pfree(db->datname);
			pfree(db);
		}
	}
	list_free(other_databases);
	other_databases = listing.kept;
	round_targets = listing.targets;
	round_roleoid = listing.roleoid;
}

/* Start the per-database worker for the next database of the round. */
static void
start_job(void)
{
	BackgroundWorker worker;
	TablesJob  *job;
	Size		size;
	int			capacity = Max(pgprom_max_tables, 1);
	Oid			dboid = linitial_oid(round_targets);

	/* with pg_prom.max_tables = 0 the child only counts */
	ResourceOwner oldowner = CurrentResourceOwner;
	MemoryContext old;

	round_targets = list_delete_first(round_targets);

	size = add_size(offsetof(TablesJob, rows),
					mul_size(sizeof(TableRow), capacity));
	CurrentResourceOwner = NULL;	/* the segment lives until finish_job */
	job_segment = dsm_create(size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	CurrentResourceOwner = oldowner;
	if (job_segment == NULL)
	{
		ereport(LOG,
				(errmsg("pg_prom: no dynamic shared memory segment left for the per-database worker")));
		return;
	}
	job = dsm_segment_address(job_segment);
	memset(job, 0, offsetof(TablesJob, rows));
	job->dboid = dboid;
	job->roleoid = round_roleoid;
	job->capacity = pgprom_max_tables > 0 ? capacity : 0;
	job->lock_timeout_ms = pgprom_lock_timeout_ms;
	job->status = JOB_PENDING;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_prom");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgprom_tables_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_prom tables of database %u", dboid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_prom tables");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(job_segment));
	worker.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(cache_cxt);
	if (!RegisterDynamicBackgroundWorker(&worker, &job_handle))
	{
		MemoryContextSwitchTo(old);
		ereport(LOG,
				(errmsg("pg_prom: no background worker slot free for the per-database worker"),
				 errhint("Raise max_worker_processes; the database is tried again next round.")));
		job_handle = NULL;
		dsm_detach(job_segment);
		job_segment = NULL;
		round_targets = NIL;	/* no slot: wait for the next round */
		return;
	}
	MemoryContextSwitchTo(old);
	job_dboid = dboid;
	job_started = GetCurrentTimestamp();
}

/* Take the rows of a finished job into the cache, and release it. */
static void
finish_job(bool harvest)
{
	TablesJob  *job = dsm_segment_address(job_segment);

	pg_read_barrier();
	if (harvest && job->status == JOB_DONE)
	{
		DatabaseTables *db = find_database(job->dboid);
		int			nrows = Min(job->nrows, job->capacity);

		if (db == NULL)			/* dropped since the round began */
			goto release;
		if (db->rows)
			pfree(db->rows);
		db->rows = MemoryContextAlloc(cache_cxt, sizeof(TableRow) * Max(nrows, 1));
		memcpy(db->rows, job->rows, sizeof(TableRow) * nrows);
		db->nrows = nrows;
		db->left_out = job->total - nrows;
		db->skipped_locked = job->skipped_locked;
		db->taken = GetCurrentTimestamp();
	}
release:
	dsm_detach(job_segment);
	job_segment = NULL;
	pfree(job_handle);
	job_handle = NULL;
	job_dboid = InvalidOid;
}

/*
 * Main of a per-database worker: connect to the database named in the
 * segment, read its tables into the segment, exit.  Any error ends the
 * process (it is logged); the scheduler then skips the database.
 */
void
pgprom_tables_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	TablesJob  *job;
	int64		total;
	int64		skipped;
	int			nrows;
	char		buf[32];

	pgprom_in_own_process = true;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_prom tables");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_prom: could not attach the per-database segment")));
	job = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(job->dboid, job->roleoid, 0);
	pgstat_report_appname("pg_prom tables");
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("pg_stat_statements.track", "none", PGC_SUSET, PGC_S_SESSION);
	snprintf(buf, sizeof(buf), "%d", job->lock_timeout_ms);
	SetConfigOption("lock_timeout", buf, PGC_USERSET, PGC_S_SESSION);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_prom: reading table statistics");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_prom: SPI_connect failed");
	enable_timeout_after(STATEMENT_TIMEOUT, JOB_STATEMENT_TIMEOUT_MS);

	{
		TableRow   *rows = job->rows;

		nrows = pgprom_read_tables(&rows, job->capacity, true, &total, &skipped);
	}

	disable_timeout(STATEMENT_TIMEOUT, false);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	job->nrows = nrows;
	job->total = total;
	job->skipped_locked = skipped;
	pg_write_barrier();
	job->status = JOB_DONE;

	dsm_detach(seg);
	proc_exit(0);
}
