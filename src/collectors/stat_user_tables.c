/*-------------------------------------------------------------------------
 *
 * stat_user_tables.c
 *		Per-table statistics of the worker's database, with
 *		postgres_exporter's names: pg_stat_user_tables_* (collector
 *		"stat_user_tables"), pg_statio_user_tables_* ("statio_user_tables")
 *		and the table and index sizes ("table_sizes").
 *
 * Bounded: at most pg_prom.max_tables tables per database, in a stable
 * order (schema, name) so series do not flap; how many were left out is
 * reported in pg_prom_collector_objects_left_out{collector}.
 *
 * Sizes are the part of postgres_exporter's scrape that queues behind an
 * ACCESS EXCLUSIVE lock (pg_table_size() opens the relation).  Here each
 * relation is locked with ConditionalLockRelationOid first: a relation
 * whose lock is not free at once is skipped for this scrape and counted in
 * pg_prom_collector_relations_skipped_locked{collector}.  Sizes change
 * slowly and cost a stat() per file, so they are on the slow tier.
 *
 * The classic example queries.yaml exported the statio families with the
 * view's column names (heap_blks_read); those are served too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "collectors.h"
#include "../pg_prom.h"
#include "../query.h"
#include "../render.h"

#define BY_TABLE 3, {"datname", "schemaname", "relname"}, {1, 2, 3}

static const PromFamilySpec stat_specs[] = {
	{"pg_stat_user_tables_seq_scan", "Number of sequential scans initiated on this table", PROM_COUNTER, 4, 1, false, BY_TABLE},
	{"pg_stat_user_tables_seq_tup_read", "Number of live rows fetched by sequential scans", PROM_COUNTER, 5, 1, false, BY_TABLE},
	{"pg_stat_user_tables_idx_scan", "Number of index scans initiated on this table", PROM_COUNTER, 6, 1, false, BY_TABLE},
	{"pg_stat_user_tables_idx_tup_fetch", "Number of live rows fetched by index scans", PROM_COUNTER, 7, 1, false, BY_TABLE},
	{"pg_stat_user_tables_n_tup_ins", "Number of rows inserted", PROM_COUNTER, 8, 1, false, BY_TABLE},
	{"pg_stat_user_tables_n_tup_upd", "Number of rows updated", PROM_COUNTER, 9, 1, false, BY_TABLE},
	{"pg_stat_user_tables_n_tup_del", "Number of rows deleted", PROM_COUNTER, 10, 1, false, BY_TABLE},
	{"pg_stat_user_tables_n_tup_hot_upd", "Number of rows HOT updated (i.e., with no separate index update required)", PROM_COUNTER, 11, 1, false, BY_TABLE},
	{"pg_stat_user_tables_n_live_tup", "Estimated number of live rows", PROM_GAUGE, 12, 1, false, BY_TABLE},
	{"pg_stat_user_tables_n_dead_tup", "Estimated number of dead rows", PROM_GAUGE, 13, 1, false, BY_TABLE},
	{"pg_stat_user_tables_n_mod_since_analyze", "Estimated number of rows changed since last analyze", PROM_GAUGE, 14, 1, false, BY_TABLE},
	{"pg_stat_user_tables_last_vacuum", "Last time at which this table was manually vacuumed (not counting VACUUM FULL), in seconds since the Unix epoch (0 if never)", PROM_GAUGE, 15, 1, false, BY_TABLE},
	{"pg_stat_user_tables_last_autovacuum", "Last time at which this table was vacuumed by the autovacuum daemon, in seconds since the Unix epoch (0 if never)", PROM_GAUGE, 16, 1, false, BY_TABLE},
	{"pg_stat_user_tables_last_analyze", "Last time at which this table was manually analyzed, in seconds since the Unix epoch (0 if never)", PROM_GAUGE, 17, 1, false, BY_TABLE},
	{"pg_stat_user_tables_last_autoanalyze", "Last time at which this table was analyzed by the autovacuum daemon, in seconds since the Unix epoch (0 if never)", PROM_GAUGE, 18, 1, false, BY_TABLE},
	{"pg_stat_user_tables_vacuum_count", "Number of times this table has been manually vacuumed (not counting VACUUM FULL)", PROM_COUNTER, 19, 1, false, BY_TABLE},
	{"pg_stat_user_tables_autovacuum_count", "Number of times this table has been vacuumed by the autovacuum daemon", PROM_COUNTER, 20, 1, false, BY_TABLE},
	{"pg_stat_user_tables_analyze_count", "Number of times this table has been manually analyzed", PROM_COUNTER, 21, 1, false, BY_TABLE},
	{"pg_stat_user_tables_autoanalyze_count", "Number of times this table has been analyzed by the autovacuum daemon", PROM_COUNTER, 22, 1, false, BY_TABLE},
};

static const PromFamilySpec statio_specs[] = {
	{"pg_statio_user_tables_heap_blocks_read", "Number of disk blocks read from this table", PROM_COUNTER, 4, 1, false, BY_TABLE},
	{"pg_statio_user_tables_heap_blocks_hit", "Number of buffer hits in this table", PROM_COUNTER, 5, 1, false, BY_TABLE},
	{"pg_statio_user_tables_idx_blocks_read", "Number of disk blocks read from all indexes on this table", PROM_COUNTER, 6, 1, false, BY_TABLE},
	{"pg_statio_user_tables_idx_blocks_hit", "Number of buffer hits in all indexes on this table", PROM_COUNTER, 7, 1, false, BY_TABLE},
	{"pg_statio_user_tables_toast_blocks_read", "Number of disk blocks read from this table's TOAST table (if any)", PROM_COUNTER, 8, 1, false, BY_TABLE},
	{"pg_statio_user_tables_toast_blocks_hit", "Number of buffer hits in this table's TOAST table (if any)", PROM_COUNTER, 9, 1, false, BY_TABLE},
	{"pg_statio_user_tables_tidx_blocks_read", "Number of disk blocks read from this table's TOAST table indexes (if any)", PROM_COUNTER, 10, 1, false, BY_TABLE},
	{"pg_statio_user_tables_tidx_blocks_hit", "Number of buffer hits in this table's TOAST table indexes (if any)", PROM_COUNTER, 11, 1, false, BY_TABLE},
	/* the classic queries.yaml names */
	{"pg_statio_user_tables_heap_blks_read", "Number of disk blocks read from this table (classic queries.yaml name)", PROM_COUNTER, 4, 1, false, BY_TABLE},
	{"pg_statio_user_tables_heap_blks_hit", "Number of buffer hits in this table (classic queries.yaml name)", PROM_COUNTER, 5, 1, false, BY_TABLE},
	{"pg_statio_user_tables_idx_blks_read", "Number of disk blocks read from all indexes on this table (classic queries.yaml name)", PROM_COUNTER, 6, 1, false, BY_TABLE},
	{"pg_statio_user_tables_idx_blks_hit", "Number of buffer hits in all indexes on this table (classic queries.yaml name)", PROM_COUNTER, 7, 1, false, BY_TABLE},
	{"pg_statio_user_tables_toast_blks_read", "Number of disk blocks read from this table's TOAST table (classic queries.yaml name)", PROM_COUNTER, 8, 1, false, BY_TABLE},
	{"pg_statio_user_tables_toast_blks_hit", "Number of buffer hits in this table's TOAST table (classic queries.yaml name)", PROM_COUNTER, 9, 1, false, BY_TABLE},
	{"pg_statio_user_tables_tidx_blks_read", "Number of disk blocks read from this table's TOAST table indexes (classic queries.yaml name)", PROM_COUNTER, 10, 1, false, BY_TABLE},
	{"pg_statio_user_tables_tidx_blks_hit", "Number of buffer hits in this table's TOAST table indexes (classic queries.yaml name)", PROM_COUNTER, 11, 1, false, BY_TABLE},
};

#define EPOCH(col) "COALESCE(pg_catalog.date_part('epoch', " col "), 0)::pg_catalog.float8"
#define F8(col) "COALESCE(" col ", 0)::pg_catalog.float8"

/*
 * Run a per-table query limited to pg_prom.max_tables rows; its last
 * column is count(*) OVER (), the number of tables before the limit.
 */
static uint64
limited_query(SPIPlanPtr *plan, const char *sql, int total_col)
{
	uint64		n = pgprom_query_limit(plan, sql, pgprom_max_tables);

	if (n > 0)
		pgprom_note_left_out((int64) pgprom_double(0, total_col, 0) - (int64) n);
	return n;
}

void
pgprom_collect_stat_user_tables(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	uint64		n;

	n = limited_query(&plan,
					  "SELECT pg_catalog.current_database()::pg_catalog.text, schemaname::pg_catalog.text,"
					  " relname::pg_catalog.text, "
					  F8("seq_scan") ", " F8("seq_tup_read") ", " F8("idx_scan") ", "
					  F8("idx_tup_fetch") ", " F8("n_tup_ins") ", " F8("n_tup_upd") ", "
					  F8("n_tup_del") ", " F8("n_tup_hot_upd") ", " F8("n_live_tup") ", "
					  F8("n_dead_tup") ", " F8("n_mod_since_analyze") ", "
					  EPOCH("last_vacuum") ", " EPOCH("last_autovacuum") ", "
					  EPOCH("last_analyze") ", " EPOCH("last_autoanalyze") ", "
					  F8("vacuum_count") ", " F8("autovacuum_count") ", "
					  F8("analyze_count") ", " F8("autoanalyze_count") ","
					  " pg_catalog.count(*) OVER ()::pg_catalog.float8"
					  " FROM pg_catalog.pg_stat_user_tables ORDER BY schemaname, relname",
					  23);
	pgprom_emit_families(w, n, stat_specs, lengthof(stat_specs));
}

void
pgprom_collect_statio_user_tables(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	uint64		n;

	n = limited_query(&plan,
					  "SELECT pg_catalog.current_database()::pg_catalog.text, schemaname::pg_catalog.text,"
					  " relname::pg_catalog.text, "
					  F8("heap_blks_read") ", " F8("heap_blks_hit") ", "
					  F8("idx_blks_read") ", " F8("idx_blks_hit") ", "
					  F8("toast_blks_read") ", " F8("toast_blks_hit") ", "
					  F8("tidx_blks_read") ", " F8("tidx_blks_hit") ","
					  " pg_catalog.count(*) OVER ()::pg_catalog.float8"
					  " FROM pg_catalog.pg_statio_user_tables ORDER BY schemaname, relname",
					  12);
	pgprom_emit_families(w, n, statio_specs, lengthof(statio_specs));
}

/* A size function called on a relation we hold a lock on. */
static double
relation_size(PGFunction fn, Oid relid)
{
	return (double) DatumGetInt64(DirectFunctionCall1(fn, ObjectIdGetDatum(relid)));
}

void
pgprom_collect_table_sizes(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const char *const names[] = {"datname", "schemaname", "relname"};
	static const char *const family[3] = {
		"pg_stat_user_tables_table_size_bytes",
		"pg_stat_user_tables_index_size_bytes",
		"pg_stat_user_tables_size_bytes"
	};
	static const char *const help[3] = {
		"Total disk space used by this table, in bytes, excluding indexes (refreshed every pg_prom.slow_collector_interval seconds)",
		"Total disk space used by the indexes on this table, in bytes (refreshed every pg_prom.slow_collector_interval seconds)",
		"Total disk space used by this table and its indexes, in bytes (postgres_exporter 0.17 name; refreshed every pg_prom.slow_collector_interval seconds)"
	};
	uint64		n;
	uint64		r;
	double	   *sizes;
	bool	   *have;
	int			skipped = 0;
	int			f;

	n = limited_query(&plan,
					  "SELECT pg_catalog.current_database()::pg_catalog.text, schemaname::pg_catalog.text,"
					  " relname::pg_catalog.text, relid::pg_catalog.int8::pg_catalog.float8,"
					  " pg_catalog.count(*) OVER ()::pg_catalog.float8"
					  " FROM pg_catalog.pg_stat_user_tables ORDER BY schemaname, relname",
					  5);
	sizes = palloc0(sizeof(double) * 3 * Max(n, 1));
	have = palloc0(sizeof(bool) * Max(n, 1));

	for (r = 0; r < n; r++)
	{
		Oid			relid = (Oid) pgprom_double(r, 4, 0);

		CHECK_FOR_INTERRUPTS();
		if (!ConditionalLockRelationOid(relid, AccessShareLock))
		{
			skipped++;
			continue;
		}
		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		{
			sizes[3 * r] = relation_size(pg_table_size, relid);
			sizes[3 * r + 1] = relation_size(pg_indexes_size, relid);
			sizes[3 * r + 2] = relation_size(pg_total_relation_size, relid);
			have[r] = true;
		}
		UnlockRelationOid(relid, AccessShareLock);
	}
	pgprom_note_skipped_locked(skipped);

	for (f = 0; f < 3; f++)
	{
		if (!expo_family(w, family[f], help[f], PROM_GAUGE))
			continue;
		for (r = 0; r < n; r++)
		{
			const char *values[3];

			if (!have[r])
				continue;
			values[0] = pgprom_text(r, 1);
			values[1] = pgprom_text(r, 2);
			values[2] = pgprom_text(r, 3);
			expo_sample(w, NULL, 3, names, values, sizes[3 * r + f]);
		}
	}
}
