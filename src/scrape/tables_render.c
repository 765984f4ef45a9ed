/*-------------------------------------------------------------------------
 *
 * tables_render.c
 *		The per-table and per-index families of every database, with the
 *		numbers read live from the shared statistics at every scrape.
 *
 * Since PostgreSQL 15 the cumulative statistics of every relation of
 * every database are in one shared hash.  For each catalog (tables.c) the
 * renderer fetches, once per scrape, the entry of each table, of its
 * indexes, of its TOAST table and TOAST index, and computes what
 * pg_stat_user_tables, pg_statio_user_tables and pg_stat_user_indexes
 * would show (idx_scan and idx_tup_fetch summed over the indexes, blocks
 * read as fetched minus hit, times as Unix seconds, 0 for never).  Entries
 * are fetched one by one through pgstat_fetch_entry(), whose interface is
 * stable across minor releases, with stats_fetch_consistency = none in the
 * collector.  One pass over the shared hash's keys finds relations no
 * catalog can name yet, and asks for those catalogs again.
 *
 * Cardinality: in each database at most pg_prom.max_tables tables have
 * series of their own, the same ones in every family: half chosen by
 * activity (scans and row changes), half by size, plus every table that is
 * an alert candidate (more than 100,000 dead rows making 20%, or older than
 * autovacuum_freeze_max_age); the choice is made again every minute and
 * kept in between.  Every other table is folded into one series per
 * database and family with schemaname and relname "[other]" (sums; the
 * latest time for the last_* families), so totals still add up; indexes
 * follow their table.  A table named "[other]" in a schema named "[other]"
 * is left out rather than mistaken for the fold.
 *
 * Writing is the other cost: each table's label text is escaped once per
 * catalog and reused, and samples go out through pgprom_expo_sample_raw()
 * without a duplicate check, which these families do not need (one series
 * per table or index of one database, plus the fold).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "lib/dshash.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "utils/builtins.h"		/* oid_cmp() */
#include "utils/memutils.h"
#include "utils/pgstat_internal.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "guc.h"
#include "scrape/query.h"
#include "scrape/scrape.h"
#include "scrape/tables.h"

/* How often the tables with their own series are chosen again. */
#define SELECT_INTERVAL_MS 60000
/* Alert candidates: PostgresDeadTuples' thresholds. */
#define DEAD_ROWS_ALERT 100000
#define DEAD_SHARE_ALERT 0.2
#define OTHER "[other]"

/* The numbers of one table. */
typedef enum TableValue
{
	TV_SEQ_SCAN, TV_SEQ_TUP_READ, TV_IDX_SCAN, TV_IDX_TUP_FETCH, TV_N_TUP_INS,
	TV_N_TUP_UPD, TV_N_TUP_DEL, TV_N_TUP_HOT_UPD, TV_N_LIVE_TUP, TV_N_DEAD_TUP,
	TV_N_MOD_SINCE_ANALYZE, TV_LAST_VACUUM, TV_LAST_AUTOVACUUM, TV_LAST_ANALYZE,
	TV_LAST_AUTOANALYZE, TV_VACUUM_COUNT, TV_AUTOVACUUM_COUNT, TV_ANALYZE_COUNT,
	TV_AUTOANALYZE_COUNT,
	TV_HEAP_BLKS_READ, TV_HEAP_BLKS_HIT, TV_IDX_BLKS_READ, TV_IDX_BLKS_HIT,
	TV_TOAST_BLKS_READ, TV_TOAST_BLKS_HIT, TV_TIDX_BLKS_READ, TV_TIDX_BLKS_HIT,
	TV_NUM
} TableValue;

/* The numbers of one index. */
typedef enum IndexValue
{
	IV_IDX_SCAN, IV_IDX_TUP_READ, IV_IDX_TUP_FETCH, IV_LAST_IDX_SCAN,
	IV_IDX_BLKS_READ, IV_IDX_BLKS_HIT,
	IV_NUM
} IndexValue;

/* The sizes of one table (relcat.h's RelCatSize). */
typedef enum SizeValue
{
	SV_TABLE, SV_INDEX, SV_TOTAL
} SizeValue;

typedef enum Fold
{
	FOLD_SUM,					/* counts, rows, blocks, bytes */
	FOLD_MAX					/* times: the latest */
} Fold;

/* One family of the per-table and per-index collectors. */
typedef struct TableFamily
{
	TableFamilies which;
	const char *name;
	const char *help;
	PromType	type;
	int			value;			/* TableValue, IndexValue or SizeValue */
	Fold		fold;
	bool		since16;		/* PostgreSQL 16 and later only */
} TableFamily;

#define STAT(n, h, t, v) {TABLE_FAMILIES_STAT, "pg_stat_user_tables_" n, h, t, v, FOLD_SUM, false}
#define STAT_TIME(n, h, v) {TABLE_FAMILIES_STAT, "pg_stat_user_tables_" n, h, PROM_GAUGE, v, FOLD_MAX, false}
#define STATIO(n, h, v) {TABLE_FAMILIES_STATIO, "pg_statio_user_tables_" n, h, PROM_COUNTER, v, FOLD_SUM, false}
#define SIZE(n, h, v) {TABLE_FAMILIES_SIZE, "pg_stat_user_tables_" n, h, PROM_GAUGE, v, FOLD_SUM, false}

static const TableFamily families[] = {
	STAT("seq_scan", "Number of sequential scans initiated on this table", PROM_COUNTER, TV_SEQ_SCAN),
	STAT("seq_tup_read", "Number of live rows fetched by sequential scans", PROM_COUNTER, TV_SEQ_TUP_READ),
	STAT("idx_scan", "Number of index scans initiated on this table", PROM_COUNTER, TV_IDX_SCAN),
	STAT("idx_tup_fetch", "Number of live rows fetched by index scans", PROM_COUNTER, TV_IDX_TUP_FETCH),
	STAT("n_tup_ins", "Number of rows inserted", PROM_COUNTER, TV_N_TUP_INS),
	STAT("n_tup_upd", "Number of rows updated", PROM_COUNTER, TV_N_TUP_UPD),
	STAT("n_tup_del", "Number of rows deleted", PROM_COUNTER, TV_N_TUP_DEL),
	STAT("n_tup_hot_upd", "Number of rows HOT updated (i.e., with no separate index update required)", PROM_COUNTER, TV_N_TUP_HOT_UPD),
	STAT("n_live_tup", "Estimated number of live rows", PROM_GAUGE, TV_N_LIVE_TUP),
	STAT("n_dead_tup", "Estimated number of dead rows", PROM_GAUGE, TV_N_DEAD_TUP),
	STAT("n_mod_since_analyze", "Estimated number of rows changed since last analyze", PROM_GAUGE, TV_N_MOD_SINCE_ANALYZE),
	STAT_TIME("last_vacuum", "Last time at which this table was manually vacuumed (not counting VACUUM FULL), in seconds since the Unix epoch (0 if never)", TV_LAST_VACUUM),
	STAT_TIME("last_autovacuum", "Last time at which this table was vacuumed by the autovacuum daemon, in seconds since the Unix epoch (0 if never)", TV_LAST_AUTOVACUUM),
	STAT_TIME("last_analyze", "Last time at which this table was manually analyzed, in seconds since the Unix epoch (0 if never)", TV_LAST_ANALYZE),
	STAT_TIME("last_autoanalyze", "Last time at which this table was analyzed by the autovacuum daemon, in seconds since the Unix epoch (0 if never)", TV_LAST_AUTOANALYZE),
	STAT("vacuum_count", "Number of times this table has been manually vacuumed (not counting VACUUM FULL)", PROM_COUNTER, TV_VACUUM_COUNT),
	STAT("autovacuum_count", "Number of times this table has been vacuumed by the autovacuum daemon", PROM_COUNTER, TV_AUTOVACUUM_COUNT),
	STAT("analyze_count", "Number of times this table has been manually analyzed", PROM_COUNTER, TV_ANALYZE_COUNT),
	STAT("autoanalyze_count", "Number of times this table has been analyzed by the autovacuum daemon", PROM_COUNTER, TV_AUTOANALYZE_COUNT),
	STATIO("heap_blocks_read", "Number of disk blocks read from this table", TV_HEAP_BLKS_READ),
	STATIO("heap_blocks_hit", "Number of buffer hits in this table", TV_HEAP_BLKS_HIT),
	STATIO("idx_blocks_read", "Number of disk blocks read from all indexes on this table", TV_IDX_BLKS_READ),
	STATIO("idx_blocks_hit", "Number of buffer hits in all indexes on this table", TV_IDX_BLKS_HIT),
	STATIO("toast_blocks_read", "Number of disk blocks read from this table's TOAST table (if any)", TV_TOAST_BLKS_READ),
	STATIO("toast_blocks_hit", "Number of buffer hits in this table's TOAST table (if any)", TV_TOAST_BLKS_HIT),
	STATIO("tidx_blocks_read", "Number of disk blocks read from this table's TOAST table indexes (if any)", TV_TIDX_BLKS_READ),
	STATIO("tidx_blocks_hit", "Number of buffer hits in this table's TOAST table indexes (if any)", TV_TIDX_BLKS_HIT),
	/* the classic example queries.yaml named these after the view's columns */
	STATIO("heap_blks_read", "Number of disk blocks read from this table (classic queries.yaml name)", TV_HEAP_BLKS_READ),
	STATIO("heap_blks_hit", "Number of buffer hits in this table (classic queries.yaml name)", TV_HEAP_BLKS_HIT),
	STATIO("idx_blks_read", "Number of disk blocks read from all indexes on this table (classic queries.yaml name)", TV_IDX_BLKS_READ),
	STATIO("idx_blks_hit", "Number of buffer hits in all indexes on this table (classic queries.yaml name)", TV_IDX_BLKS_HIT),
	STATIO("toast_blks_read", "Number of disk blocks read from this table's TOAST table (classic queries.yaml name)", TV_TOAST_BLKS_READ),
	STATIO("toast_blks_hit", "Number of buffer hits in this table's TOAST table (classic queries.yaml name)", TV_TOAST_BLKS_HIT),
	STATIO("tidx_blks_read", "Number of disk blocks read from this table's TOAST table indexes (classic queries.yaml name)", TV_TIDX_BLKS_READ),
	STATIO("tidx_blks_hit", "Number of buffer hits in this table's TOAST table indexes (classic queries.yaml name)", TV_TIDX_BLKS_HIT),
	SIZE("table_size_bytes", "Total disk space used by this table, in bytes, excluding indexes (refreshed every pg_prom.slow_collector_interval seconds; other databases every pg_prom.other_databases_interval)", SV_TABLE),
	SIZE("index_size_bytes", "Total disk space used by the indexes on this table, in bytes (refreshed like table_size_bytes)", SV_INDEX),
	SIZE("size_bytes", "Total disk space used by this table and its indexes, in bytes (postgres_exporter 0.17 name; refreshed like table_size_bytes)", SV_TOTAL),
	{TABLE_FAMILIES_INDEX_STAT, "pg_stat_user_indexes_idx_scan_total", "Number of index scans initiated on this index", PROM_COUNTER, IV_IDX_SCAN, FOLD_SUM, false},
	{TABLE_FAMILIES_INDEX_STAT, "pg_stat_user_indexes_idx_tup_read_total", "Number of index entries returned by scans on this index", PROM_COUNTER, IV_IDX_TUP_READ, FOLD_SUM, false},
	{TABLE_FAMILIES_INDEX_STAT, "pg_stat_user_indexes_idx_tup_fetch_total", "Number of live table rows fetched by simple index scans using this index", PROM_COUNTER, IV_IDX_TUP_FETCH, FOLD_SUM, false},
	{TABLE_FAMILIES_INDEX_STAT, "pg_stat_user_indexes_last_idx_scan_timestamp_seconds", "Last time this index was scanned, in seconds since the Unix epoch (0 if never; PostgreSQL 16+)", PROM_GAUGE, IV_LAST_IDX_SCAN, FOLD_MAX, true},
	{TABLE_FAMILIES_INDEX_STATIO, "pg_statio_user_indexes_idx_blks_read_total", "Number of disk blocks read from this index", PROM_COUNTER, IV_IDX_BLKS_READ, FOLD_SUM, false},
	{TABLE_FAMILIES_INDEX_STATIO, "pg_statio_user_indexes_idx_blks_hit_total", "Number of buffer hits in this index", PROM_COUNTER, IV_IDX_BLKS_HIT, FOLD_SUM, false},
};

/* A series' label text, with its length (the writer's hot path). */
typedef struct LabelText
{
	int			len;
	char		str[FLEXIBLE_ARRAY_MEMBER];
} LabelText;

/* The numbers of one catalog, fetched once per scrape. */
typedef struct Numbers
{
	DbCatalog  *db;
	uint64		generation;

	/*
	 * By column (a family's values one after the other: the writer reads them
	 * in order, not a cache line per table): TABV() and IDXV().
	 */
	double	   *tv;				/* TV_NUM x ntables */
	double	   *iv;				/* IV_NUM x nindexes */
	int			nt;
	int			ni;
	bool	   *skip;			/* per table: left out (dropped, or "[other]") */
	bool	   *partitioned;	/* per table: not in pg_statio_user_tables */
	int64		folded_tables;
	int64		folded_indexes;
} Numbers;

#define TABV(n, tab, col) ((n)->tv[(Size) (col) * (n)->nt + (tab)])
#define IDXV(n, idx, col) ((n)->iv[(Size) (col) * (n)->ni + (idx)])

/* This scrape's numbers (in its memory), and whether the keys were scanned. */
static List *scrape_numbers = NIL;
static bool scrape_scanned = false;

static void
forget_numbers(void *arg)
{
	scrape_numbers = NIL;
	scrape_scanned = false;
}

/* The statistics entry of a relation of database dboid; false if none. */
static bool
fetch(Oid dboid, Oid relid, PgStat_StatTabEntry *out)
{
	PgStat_StatTabEntry *e;
	bool		may_free = false;

	if (!OidIsValid(relid))
		return false;
	e = (PgStat_StatTabEntry *) PGPROM_PGSTAT_FETCH(PGSTAT_KIND_RELATION, dboid,
													relid, &may_free);
	if (e == NULL)
		return false;
	memcpy(out, e, sizeof(PgStat_StatTabEntry));
	/* without a snapshot the copy is ours; with one it belongs to it */
	if (may_free)
		pfree(e);
	return true;
}

static void
blocks(const PgStat_StatTabEntry *e, double *read, double *hit)
{
	*read += (double) (e->blocks_fetched - e->blocks_hit);
	*hit += (double) e->blocks_hit;
}

/*
 * The OIDs of the tables of db's catalog for which which[] is true, sorted,
 * in db->cxt (to outlive the catalog); *relids is freed first.
 */
static void
keep_relids(DbCatalog *db, const bool *which, Oid **relids, int *nrelids)
{
	RelCatHeader *h = db->cat;
	RelCatTable *tables = pgprom_relcat_tables(h);
	int			t;

	if (*relids)
		pfree(*relids);
	*relids = MemoryContextAlloc(db->cxt, sizeof(Oid) * Max(h->ntables, 1));
	*nrelids = 0;
	for (t = 0; t < h->ntables; t++)
	{
		if (which[t])
			(*relids)[(*nrelids)++] = tables[t].relid;
	}
	qsort(*relids, *nrelids, sizeof(Oid), oid_cmp);
}

static bool
in_relids(Oid relid, const Oid *relids, int nrelids)
{
	return relids != NULL &&
		bsearch(&relid, relids, nrelids, sizeof(Oid), oid_cmp) != NULL;
}

/*
 * The numbers of every table and index of db, as the views compute them.
 * A table whose entry vanished since a scrape saw it was dropped: left
 * out, and its catalog asked for again.  Which tables had an entry is kept
 * by OID too (seen_relids), and carried into the next catalog: one read
 * just before a DROP and installed after it still lists the dropped table,
 * which must not come back with zeros.  A table carried over that way that
 * has no entry in its new catalog's time is not carried again: the catalog
 * after shows whether it is really there.
 */
static void
compute(Numbers *n)
{
	DbCatalog  *db = n->db;
	RelCatHeader *h = db->cat;
	RelCatTable *tables = pgprom_relcat_tables(h);
	RelCatIndex *indexes = pgprom_relcat_indexes(h);
	bool		seen_changed = false;
	int			t;

	n->nt = h->ntables;
	n->ni = h->nindexes;
	n->tv = palloc0(sizeof(double) * TV_NUM * Max(h->ntables, 1));
	n->iv = palloc0(sizeof(double) * IV_NUM * Max(h->nindexes, 1));
	n->skip = palloc0(sizeof(bool) * Max(h->ntables, 1));
	n->partitioned = palloc0(sizeof(bool) * Max(h->ntables, 1));
	for (t = 0; t < h->ntables; t++)
	{
		PgStat_StatTabEntry e;
		int			k;

		if ((t & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		if (strcmp(pgprom_relcat_str(h, tables[t].schemaname), OTHER) == 0 &&
			strcmp(pgprom_relcat_str(h, tables[t].relname), OTHER) == 0)
		{
			n->skip[t] = true;	/* its series would be the fold's */
			continue;
		}
		n->partitioned[t] = tables[t].relkind == 'p';
		if (fetch(db->dboid, tables[t].relid, &e))
		{
			if (!db->seen[t])
			{
				db->seen[t] = true;
				seen_changed = true;
			}
			db->carried[t] = false;
			TABV(n, t, TV_SEQ_SCAN) = (double) e.numscans;
			TABV(n, t, TV_SEQ_TUP_READ) = (double) e.tuples_returned;
			TABV(n, t, TV_IDX_TUP_FETCH) = (double) e.tuples_fetched;
			TABV(n, t, TV_N_TUP_INS) = (double) e.tuples_inserted;
			TABV(n, t, TV_N_TUP_UPD) = (double) e.tuples_updated;
			TABV(n, t, TV_N_TUP_DEL) = (double) e.tuples_deleted;
			TABV(n, t, TV_N_TUP_HOT_UPD) = (double) e.tuples_hot_updated;
			TABV(n, t, TV_N_LIVE_TUP) = (double) PGPROM_TAB_LIVE(&e);
			TABV(n, t, TV_N_DEAD_TUP) = (double) PGPROM_TAB_DEAD(&e);
			TABV(n, t, TV_N_MOD_SINCE_ANALYZE) = (double) PGPROM_TAB_MOD_SINCE_ANALYZE(&e);
			TABV(n, t, TV_LAST_VACUUM) = pgprom_expo_epoch_seconds(PGPROM_TAB_LAST_VACUUM(&e));
			TABV(n, t, TV_LAST_AUTOVACUUM) = pgprom_expo_epoch_seconds(PGPROM_TAB_LAST_AUTOVACUUM(&e));
			TABV(n, t, TV_LAST_ANALYZE) = pgprom_expo_epoch_seconds(PGPROM_TAB_LAST_ANALYZE(&e));
			TABV(n, t, TV_LAST_AUTOANALYZE) = pgprom_expo_epoch_seconds(PGPROM_TAB_LAST_AUTOANALYZE(&e));
			TABV(n, t, TV_VACUUM_COUNT) = (double) e.vacuum_count;
			TABV(n, t, TV_AUTOVACUUM_COUNT) = (double) PGPROM_TAB_AUTOVACUUM_COUNT(&e);
			TABV(n, t, TV_ANALYZE_COUNT) = (double) e.analyze_count;
			TABV(n, t, TV_AUTOANALYZE_COUNT) = (double) PGPROM_TAB_AUTOANALYZE_COUNT(&e);
			blocks(&e, &TABV(n, t, TV_HEAP_BLKS_READ), &TABV(n, t, TV_HEAP_BLKS_HIT));
		}
		else if (db->seen[t])
		{
			/* dropped since: gone from the scrape, and from the catalog soon */
			n->skip[t] = true;
			pgprom_tables_want_refresh(db);
			if (db->carried[t] &&
				in_relids(tables[t].relid, db->seen_relids, db->nseen_relids))
				seen_changed = true;
			continue;
		}
		for (k = tables[t].first_index; k < tables[t].first_index + tables[t].nindexes; k++)
		{
			if (!fetch(db->dboid, indexes[k].indexrelid, &e))
				continue;
			IDXV(n, k, IV_IDX_SCAN) = (double) e.numscans;
			IDXV(n, k, IV_IDX_TUP_READ) = (double) e.tuples_returned;
			IDXV(n, k, IV_IDX_TUP_FETCH) = (double) e.tuples_fetched;
			IDXV(n, k, IV_LAST_IDX_SCAN) = pgprom_expo_epoch_seconds(PGPROM_TAB_LASTSCAN(&e));
			blocks(&e, &IDXV(n, k, IV_IDX_BLKS_READ), &IDXV(n, k, IV_IDX_BLKS_HIT));
			TABV(n, t, TV_IDX_SCAN) += IDXV(n, k, IV_IDX_SCAN);
			TABV(n, t, TV_IDX_TUP_FETCH) += IDXV(n, k, IV_IDX_TUP_FETCH);
			TABV(n, t, TV_IDX_BLKS_READ) += IDXV(n, k, IV_IDX_BLKS_READ);
			TABV(n, t, TV_IDX_BLKS_HIT) += IDXV(n, k, IV_IDX_BLKS_HIT);
		}
		if (fetch(db->dboid, tables[t].toastrelid, &e))
			blocks(&e, &TABV(n, t, TV_TOAST_BLKS_READ), &TABV(n, t, TV_TOAST_BLKS_HIT));
		if (fetch(db->dboid, tables[t].toastidxid, &e))
			blocks(&e, &TABV(n, t, TV_TIDX_BLKS_READ), &TABV(n, t, TV_TIDX_BLKS_HIT));
	}
	if (seen_changed)
	{
		/* had an entry in this catalog's time, even if dropped since */
		bool	   *keep = palloc(sizeof(bool) * Max(h->ntables, 1));

		for (t = 0; t < h->ntables; t++)
			keep[t] = db->seen[t] && !db->carried[t];
		keep_relids(db, keep, &db->seen_relids, &db->nseen_relids);
		pfree(keep);
	}
}

/* Scores for the choice: one array sorted by, descending. */
static double *sort_scores;

static int
score_cmp(const void *a, const void *b)
{
	double		x = sort_scores[*(const int *) a];
	double		y = sort_scores[*(const int *) b];

	if (x != y)
		return x > y ? -1 : 1;
	return *(const int *) a - *(const int *) b;
}

static bool
alert_candidate(const RelCatTable *table, double dead, double live)
{
	if (dead > DEAD_ROWS_ALERT && dead > DEAD_SHARE_ALERT * (live + dead))
		return true;
	return table->xid_age >= 0 && table->xid_age > autovacuum_freeze_max_age;
}

/*
 * The tables of db with their own series: all when they fit; else the
 * choice made at most SELECT_INTERVAL_MS ago (kept by OID across catalog
 * reads), made again when due; alert candidates always.
 */
static void
select_tables(Numbers *n)
{
	DbCatalog  *db = n->db;
	RelCatHeader *h = db->cat;
	RelCatTable *tables = pgprom_relcat_tables(h);
	int			limit = pgprom_max_tables;
	int			t;
	TimestampTz now = GetCurrentTimestamp();

	if (h->ntables <= limit)
	{
		for (t = 0; t < h->ntables; t++)
			db->selected[t] = true;
		db->selected_limit = limit;
		return;
	}

	/* again when due, and at once when pg_prom.max_tables changed */
	if (db->selected_at == 0 || db->selected_limit != limit ||
		TimestampDifferenceExceeds(db->selected_at, now, SELECT_INTERVAL_MS))
	{
		RelCatHeader *sizes = pgprom_tables_sizes(db);
		double	   *activity = palloc(sizeof(double) * h->ntables);
		double	   *bytes = palloc(sizeof(double) * h->ntables);
		int		   *by_activity = palloc(sizeof(int) * h->ntables);
		int		   *by_size = palloc(sizeof(int) * h->ntables);
		int			a = 0,
					b = 0,
					count = 0;

		for (t = 0; t < h->ntables; t++)
		{
			const RelCatSize *s = sizes ? pgprom_relcat_size(sizes, tables[t].relid) : NULL;

			activity[t] = TABV(n, t, TV_SEQ_SCAN) + TABV(n, t, TV_IDX_SCAN) +
				TABV(n, t, TV_N_TUP_INS) + TABV(n, t, TV_N_TUP_UPD) +
				TABV(n, t, TV_N_TUP_DEL);
			bytes[t] = s ? s->total_bytes : 0;
			by_activity[t] = by_size[t] = t;
			db->selected[t] = false;
		}
		sort_scores = activity;
		qsort(by_activity, h->ntables, sizeof(int), score_cmp);
		sort_scores = bytes;
		qsort(by_size, h->ntables, sizeof(int), score_cmp);
		while (count < limit && (a < h->ntables || b < h->ntables))
		{
			while (a < h->ntables && db->selected[by_activity[a]])
				a++;
			if (a < h->ntables)
			{
				db->selected[by_activity[a++]] = true;
				count++;
			}
			while (b < h->ntables && db->selected[by_size[b]])
				b++;
			if (count < limit && b < h->ntables)
			{
				db->selected[by_size[b++]] = true;
				count++;
			}
		}

		keep_relids(db, db->selected, &db->selected_relids, &db->nselected_relids);
		db->selected_at = now;
		db->selected_limit = limit;
		pfree(activity);
		pfree(bytes);
		pfree(by_activity);
		pfree(by_size);
	}

	for (t = 0; t < h->ntables; t++)
	{
		if (!db->selected[t] &&
			alert_candidate(&tables[t], TABV(n, t, TV_N_DEAD_TUP),
							TABV(n, t, TV_N_LIVE_TUP)))
			db->selected[t] = true;
	}
}

/*
 * The render state of db for its current catalog: made again when the
 * catalog changed, with the choice of tables carried over by OID.
 */
static void
prepare(DbCatalog *db)
{
	RelCatHeader *h = db->cat;
	RelCatTable *tables = pgprom_relcat_tables(h);
	MemoryContext old;
	int			t;

	if (db->render_generation == db->generation && db->selected != NULL)
		return;
	if (db->render_cxt == NULL)
	{
		db->render_cxt = AllocSetContextCreate(db->cxt, "pg_prom catalog render",
											   ALLOCSET_DEFAULT_SIZES);
		db->labels_cxt = AllocSetContextCreate(db->cxt, "pg_prom catalog labels",
											   ALLOCSET_DEFAULT_SIZES);
	}
	MemoryContextReset(db->render_cxt);
	MemoryContextReset(db->labels_cxt);
	old = MemoryContextSwitchTo(db->render_cxt);
	db->selected = palloc0(sizeof(bool) * Max(h->ntables, 1));
	db->seen = palloc0(sizeof(bool) * Max(h->ntables, 1));
	db->carried = palloc0(sizeof(bool) * Max(h->ntables, 1));
	db->table_labels = palloc0(sizeof(LabelText *) * Max(h->ntables, 1));
	db->index_labels = palloc0(sizeof(LabelText *) * Max(h->nindexes, 1));
	MemoryContextSwitchTo(old);
	db->other_table_labels = NULL;
	db->other_index_labels = NULL;
	db->labels_server = NULL;
	for (t = 0; t < h->ntables; t++)
	{
		db->selected[t] = in_relids(tables[t].relid, db->selected_relids,
									db->nselected_relids);
		db->seen[t] = db->carried[t] =
			in_relids(tables[t].relid, db->seen_relids, db->nseen_relids);
	}
	db->render_generation = db->generation;
}

/*
 * One pass over the keys of the shared statistics (collector only): a
 * relation of a database whose catalog does not know it was created since
 * the catalog was read.  Only the key and the dropped flag of each entry
 * are read, which sit at the same place in every minor release.
 */
static void
scan_unknown(List *catalogs)
{
	dshash_seq_status hstat;
	PgStatShared_HashEntry *p;
	DbCatalog  *last = NULL;

	if (pgStatLocal.shared_hash == NULL)
		return;
	dshash_seq_init(&hstat, pgStatLocal.shared_hash, false);
	while ((p = dshash_seq_next(&hstat)) != NULL)
	{
		DbCatalog  *db = last;
		ListCell   *lc;

		if (p->key.kind != PGSTAT_KIND_RELATION || p->dropped ||
			PGPROM_PGSTAT_OBJID(p->key) < FirstNormalObjectId)
			continue;
		if (db == NULL || db->dboid != p->key.dboid)
		{
			db = NULL;
			foreach(lc, catalogs)
			{
				if (((DbCatalog *) lfirst(lc))->dboid == p->key.dboid)
					db = lfirst(lc);
			}
			if (db == NULL)
				continue;
			last = db;
		}
		if (!db->refresh_wanted &&
			!pgprom_relcat_knows(db->cat, (Oid) PGPROM_PGSTAT_OBJID(p->key)))
			db->refresh_wanted = true;	/* asked for below, outside the scan */
	}
	dshash_seq_term(&hstat);
}

/* This scrape's numbers of db: fetched, and the tables chosen, once. */
static Numbers *
numbers_of(DbCatalog *db, List *catalogs)
{
	ListCell   *lc;
	Numbers    *n;
	MemoryContext old;

	foreach(lc, scrape_numbers)
	{
		n = lfirst(lc);
		if (n->db == db && n->generation == db->generation)
			return n;
	}
	old = MemoryContextSwitchTo(pgprom_scrape_context());
	if (scrape_numbers == NIL && !scrape_scanned)
		pgprom_scrape_on_end(forget_numbers);
	if (!scrape_scanned && pgprom_tables_in_collector())
	{
		scrape_scanned = true;
		scan_unknown(catalogs);
		foreach(lc, catalogs)
		{
			DbCatalog  *c = lfirst(lc);

			if (c->refresh_wanted)
			{
				c->refresh_wanted = false;
				pgprom_tables_want_refresh(c);
			}
		}
	}
	prepare(db);
	n = palloc0(sizeof(Numbers));
	n->db = db;
	n->generation = db->generation;
	compute(n);
	select_tables(n);
	scrape_numbers = lappend(scrape_numbers, n);
	MemoryContextSwitchTo(old);
	return n;
}

/* The label text of those labels, in CurrentMemoryContext; NULL if invalid. */
static LabelText *
label_text(PromWriter *w, int nlabels, const char *const *names,
		   const char *const *values)
{
	char	   *text = pgprom_expo_label_text(w, nlabels, names, values);
	LabelText  *l;
	int			len;

	if (text == NULL)
		return NULL;
	len = strlen(text);
	l = palloc(offsetof(LabelText, str) + len + 1);
	l->len = len;
	memcpy(l->str, text, len + 1);
	pfree(text);
	return l;
}

/* The label texts of db, made with this writer's server label. */
static void
labels_for(PromWriter *w, DbCatalog *db)
{
	static const char *const names[] = {"datname", "schemaname", "relname", "indexrelname"};
	const char *values[4] = {db->datname, OTHER, OTHER, OTHER};
	const char *server = pgprom_expo_server_label(w);
	RelCatHeader *h = db->cat;
	MemoryContext old;

	if (db->labels_server != NULL && strcmp(db->labels_server, server) == 0)
		return;
	/* new, or the server label changed (a reload): every text again */
	MemoryContextReset(db->labels_cxt);
	memset(db->table_labels, 0, sizeof(LabelText *) * Max(h->ntables, 1));
	memset(db->index_labels, 0, sizeof(LabelText *) * Max(h->nindexes, 1));
	old = MemoryContextSwitchTo(db->labels_cxt);
	db->other_table_labels = label_text(w, 3, names, values);
	db->other_index_labels = label_text(w, 4, names, values);
	db->labels_server = pstrdup(server);
	MemoryContextSwitchTo(old);
}

static const LabelText *
table_labels(PromWriter *w, DbCatalog *db, int t)
{
	if (db->table_labels[t] == NULL)
	{
		static const char *const names[] = {"datname", "schemaname", "relname"};
		RelCatTable *table = &pgprom_relcat_tables(db->cat)[t];
		const char *values[3] = {db->datname,
			pgprom_relcat_str(db->cat, table->schemaname),
		pgprom_relcat_str(db->cat, table->relname)};
		MemoryContext old = MemoryContextSwitchTo(db->labels_cxt);

		db->table_labels[t] = label_text(w, 3, names, values);
		MemoryContextSwitchTo(old);
	}
	return db->table_labels[t];
}

static const LabelText *
index_labels(PromWriter *w, DbCatalog *db, int k)
{
	if (db->index_labels[k] == NULL)
	{
		static const char *const names[] = {"datname", "schemaname", "relname", "indexrelname"};
		RelCatIndex *index = &pgprom_relcat_indexes(db->cat)[k];
		RelCatTable *table = &pgprom_relcat_tables(db->cat)[index->table];
		const char *values[4] = {db->datname,
			pgprom_relcat_str(db->cat, table->schemaname),
			pgprom_relcat_str(db->cat, table->relname),
		pgprom_relcat_str(db->cat, index->indexrelname)};
		MemoryContext old = MemoryContextSwitchTo(db->labels_cxt);

		db->index_labels[k] = label_text(w, 4, names, values);
		MemoryContextSwitchTo(old);
	}
	return db->index_labels[k];
}

static inline void
fold(double *acc, double v, Fold how)
{
	if (how == FOLD_SUM)
		*acc += v;
	else if (v > *acc)
		*acc = v;
}

static inline void
raw(PromWriter *w, const LabelText *labels, double v)
{
	if (labels)
		pgprom_expo_sample_raw(w, labels->str, labels->len, v);
}

/* The samples of one family for one database. */
static void
write_family(PromWriter *w, const TableFamily *f, DbCatalog *db, Numbers *n)
{
	RelCatHeader *h = db->cat;
	RelCatTable *tables = pgprom_relcat_tables(h);
	double		other = 0;
	bool		folded = false;

	if (f->which == TABLE_FAMILIES_INDEX_STAT || f->which == TABLE_FAMILIES_INDEX_STATIO)
	{
		RelCatIndex *indexes = pgprom_relcat_indexes(h);
		int			k;

		for (k = 0; k < h->nindexes; k++)
		{
			int			t = indexes[k].table;
			double		v = IDXV(n, k, f->value);

			if (n->skip[t])
				continue;
			if (db->selected[t])
				raw(w, index_labels(w, db, k), v);
			else
			{
				fold(&other, v, f->fold);
				folded = true;
			}
		}
		if (folded)
			raw(w, db->other_index_labels, other);
	}
	else
	{
		RelCatHeader *sizes = f->which == TABLE_FAMILIES_SIZE ? pgprom_tables_sizes(db) : NULL;
		int			t;

		for (t = 0; t < h->ntables; t++)
		{
			double		v;

			if (n->skip[t])
				continue;
			/* like pg_statio_user_tables, no partitioned tables there */
			if (f->which == TABLE_FAMILIES_STATIO && n->partitioned[t])
				continue;
			if (f->which == TABLE_FAMILIES_SIZE)
			{
				const RelCatSize *s = sizes ? pgprom_relcat_size(sizes, tables[t].relid) : NULL;

				if (s == NULL)
					continue;
				v = f->value == SV_TABLE ? s->table_bytes :
					f->value == SV_INDEX ? s->index_bytes : s->total_bytes;
			}
			else
				v = TABV(n, t, f->value);
			if (db->selected[t])
				raw(w, table_labels(w, db, t), v);
			else
			{
				fold(&other, v, f->fold);
				folded = true;
			}
		}
		if (folded)
			raw(w, db->other_table_labels, other);
	}
}

/* What the unit running now left out: folded tables or indexes. */
static void
note_folded(DbCatalog *db, Numbers *n, bool indexes)
{
	RelCatHeader *h = db->cat;
	RelCatIndex *ix = pgprom_relcat_indexes(h);
	int64		folded = 0;
	int			k;

	if (indexes)
	{
		for (k = 0; k < h->nindexes; k++)
			folded += !n->skip[ix[k].table] && !db->selected[ix[k].table];
	}
	else
	{
		for (k = 0; k < h->ntables; k++)
			folded += !n->skip[k] && !db->selected[k];
	}
	pgprom_note_left_out(folded);
}

void
pgprom_write_table_families(PromWriter *w, TableFamilies which)
{
	List	   *catalogs = pgprom_tables_catalogs(pgprom_databases());
	List	   *numbers = NIL;
	ListCell   *lc;
	ListCell   *ln;
	int			f;
	bool		indexes = which == TABLE_FAMILIES_INDEX_STAT ||
		which == TABLE_FAMILIES_INDEX_STATIO;

	foreach(lc, catalogs)
	{
		DbCatalog  *db = lfirst(lc);
		Numbers    *n = numbers_of(db, catalogs);

		numbers = lappend(numbers, n);
		labels_for(w, db);
		note_folded(db, n, indexes);
		if (which == TABLE_FAMILIES_SIZE)
		{
			RelCatHeader *sizes = pgprom_tables_sizes(db);

			if (sizes)
				pgprom_note_skipped_locked(sizes->skipped_locked);
		}
	}

	for (f = 0; f < lengthof(families); f++)
	{
		if (families[f].which != which)
			continue;
#if PG_VERSION_NUM < 160000
		if (families[f].since16)
			continue;
#endif
		if (!pgprom_expo_family(w, families[f].name, families[f].help, families[f].type))
			continue;
		forboth(lc, catalogs, ln, numbers)
			write_family(w, &families[f], lfirst(lc), lfirst(ln));
	}

	/* how old the other databases' names are, written once */
	if (which == TABLE_FAMILIES_STAT &&
		pgprom_expo_family(w, "pg_prom_database_tables_age_seconds",
						   "Age of the relation names (and sizes) of a database other than pg_prom.database, read by a short-lived per-database worker every pg_prom.other_databases_interval seconds and when new relations appear; the numbers are live.",
						   PROM_GAUGE))
	{
		TimestampTz now = GetCurrentTimestamp();

		foreach(lc, catalogs)
		{
			DbCatalog  *db = lfirst(lc);

			if (db->dboid != MyDatabaseId && db->taken != 0)
				pgprom_expo_value1(w, "datname", db->datname,
								   (double) (now - db->taken) / USECS_PER_SEC);
		}
	}
	list_free(numbers);
}
