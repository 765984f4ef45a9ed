/*-------------------------------------------------------------------------
 *
 * opt_in.c
 *		The collectors postgres_exporter ships disabled, with its names:
 *		long_running_transactions, database_wraparound,
 *		stat_wal_receiver, xlog_location,
 *		stat_statements, stat_checkpointer, process_idle and
 *		buffercache_summary.
 *
 * They are off in pg_prom's default set too (stat_checkpointer excepted
 * on PostgreSQL 17+, where the checkpoint columns left pg_stat_bgwriter
 * and dashboards would otherwise go blank); turn them on with
 * pg_prom.collectors, e.g. 'default, stat_statements, process_idle'.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/multixact.h"
#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "guc.h"
#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

/*---- long_running_transactions ----*/

void
pgprom_collect_long_running_transactions(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec specs[] = {
		{"pg_long_running_transactions", "Current number of long running transactions", PROM_GAUGE, 1, 1, false},
		{"pg_long_running_transactions_oldest_timestamp_seconds", "The current maximum transaction age in seconds", PROM_GAUGE, 2, 1, false},
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT pg_catalog.count(*)::pg_catalog.float8,"
					 " COALESCE(pg_catalog.max(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) xact_start)), 0)::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_activity"
					 " WHERE (state IS NULL OR state OPERATOR(pg_catalog.<>) 'idle')"
					 " AND NOT (query OPERATOR(pg_catalog.~~) 'autovacuum:%')"
					 " AND xact_start OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 minute'::pg_catalog.interval)");
	pgprom_emit_families(w, n, specs, lengthof(specs));
}

/*---- database_wraparound ----*/

/* age() and mxid_age() of a database's horizons, as the SQL functions. */
void
pgprom_collect_database_wraparound(PromWriter *w)
{
	List	   *databases = pgprom_databases();
	TransactionId now_xid = GetStableLatestTransactionId();
	MultiXactId now_mxid = ReadNextMultiXactId();
	ListCell   *lc;

	if (pgprom_expo_family(w, "pg_database_wraparound_age_datfrozenxid_seconds",
						   "Age of the oldest transaction ID that has not been frozen (a transaction count, despite the name).",
						   PROM_GAUGE))
	{
		foreach(lc, databases)
		{
			PromDatabase *db = lfirst(lc);

			if (db->allowconn)
				pgprom_expo_value1(w, "datname", db->name,
								   TransactionIdIsNormal(db->frozenxid) ?
								   (double) (int32) (now_xid - db->frozenxid) :
								   (double) PG_INT32_MAX);
		}
	}
	if (pgprom_expo_family(w, "pg_database_wraparound_age_datminmxid_seconds",
						   "Age of the oldest multi-transaction ID that has been replaced with a transaction ID (a count, despite the name).",
						   PROM_GAUGE))
	{
		foreach(lc, databases)
		{
			PromDatabase *db = lfirst(lc);

			if (db->allowconn)
				pgprom_expo_value1(w, "datname", db->name,
								   MultiXactIdIsValid(db->minmxid) ?
								   (double) (int32) (now_mxid - db->minmxid) :
								   (double) PG_INT32_MAX);
		}
	}
}

/*---- autovacuum_scores ----*/

/* Tables written: those autovacuum would pick first. */
#define AUTOVACUUM_SCORES_TOP 50

/*
 * pg_stat_autovacuum_scores (PostgreSQL 19): autovacuum's priority score of
 * the tables of pg_prom.database, and its parts, for the
 * AUTOVACUUM_SCORES_TOP tables with the highest score.  The server computes
 * them for every table when asked, so this collector is on the slow tier
 * (pg_prom.slow_collector_interval).  Before 19 it writes nothing.
 */
void
pgprom_collect_autovacuum_scores(PromWriter *w)
{
#ifdef PGPROM_HAS_AUTOVACUUM_SCORES
	static SPIPlanPtr plan = NULL;
#define BY_TABLE 3, {"datname", "schemaname", "relname"}, {1, 2, 3}
	static const PromFamilySpec specs[] = {
		{"pg_stat_autovacuum_scores_score", "Autovacuum's priority score of the table (the largest of the scores below); at 1 or more autovacuum processes it.", PROM_GAUGE, 4, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_xid_score", "Score from the age of the table's oldest unfrozen transaction ID.", PROM_GAUGE, 5, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_mxid_score", "Score from the age of the table's oldest multixact ID.", PROM_GAUGE, 6, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_vacuum_score", "Score from the table's dead tuples against its vacuum threshold.", PROM_GAUGE, 7, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_vacuum_insert_score", "Score from the tuples inserted since the last vacuum against the insert threshold.", PROM_GAUGE, 8, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_analyze_score", "Score from the tuples changed since the last analyze against its threshold.", PROM_GAUGE, 9, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_do_vacuum", "1 when autovacuum would vacuum the table now.", PROM_GAUGE, 10, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_do_analyze", "1 when autovacuum would analyze the table now.", PROM_GAUGE, 11, 1, false, BY_TABLE},
		{"pg_stat_autovacuum_scores_for_wraparound", "1 when that vacuum would be to prevent transaction ID wraparound.", PROM_GAUGE, 12, 1, false, BY_TABLE},
	};
#undef BY_TABLE
	uint64		n;

	n = pgprom_query_limit(&plan,
						   "SELECT pg_catalog.current_database()::pg_catalog.text,"
						   " COALESCE(schemaname, '')::pg_catalog.text, relname::pg_catalog.text,"
						   " score::pg_catalog.float8, xid_score::pg_catalog.float8,"
						   " mxid_score::pg_catalog.float8, vacuum_score::pg_catalog.float8,"
						   " vacuum_insert_score::pg_catalog.float8, analyze_score::pg_catalog.float8,"
						   " do_vacuum::pg_catalog.int4::pg_catalog.float8,"
						   " do_analyze::pg_catalog.int4::pg_catalog.float8,"
						   " for_wraparound::pg_catalog.int4::pg_catalog.float8"
						   " FROM pg_catalog.pg_stat_autovacuum_scores"
						   " ORDER BY score DESC, relid",
						   AUTOVACUUM_SCORES_TOP);
	pgprom_emit_families(w, n, specs, lengthof(specs));
#endif
}

/*---- stat_wal_receiver ----*/

void
pgprom_collect_stat_wal_receiver(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
#define BY_RECEIVER 3, {"upstream_host", "slot_name", "status"}, {1, 2, 3}
	static const PromFamilySpec specs[] = {
		{"pg_stat_wal_receiver_receive_start_lsn", "First write-ahead log location used when WAL receiver is started represented as a decimal", PROM_COUNTER, 4, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_receive_start_tli", "First timeline number used when WAL receiver is started", PROM_GAUGE, 5, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_flushed_lsn", "Last write-ahead log location already received and flushed to disk, the initial value of this field being the first log location used when WAL receiver is started represented as a decimal", PROM_COUNTER, 6, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_received_tli", "Timeline number of last write-ahead log location received and flushed to disk", PROM_GAUGE, 7, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_last_msg_send_time", "Send time of last message received from origin WAL sender", PROM_COUNTER, 8, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_last_msg_receipt_time", "Receipt time of last message received from origin WAL sender", PROM_COUNTER, 9, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_latest_end_lsn", "Last write-ahead log location reported to origin WAL sender as integer", PROM_COUNTER, 10, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_latest_end_time", "Time of last write-ahead log location reported to origin WAL sender", PROM_COUNTER, 11, 1, false, BY_RECEIVER},
		{"pg_stat_wal_receiver_upstream_node", "Node ID of the upstream node", PROM_GAUGE, 12, 1, true, BY_RECEIVER},
	};
#undef BY_RECEIVER
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT COALESCE(pg_catalog.btrim(substring(conninfo FROM 'host=([^ ]*)'), ''''), ''),"
					 " COALESCE(slot_name, ''), COALESCE(status, ''),"
					 " (receive_start_lsn OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
					 " receive_start_tli::pg_catalog.float8,"
					 " (flushed_lsn OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
					 " received_tli::pg_catalog.float8,"
					 " pg_catalog.date_part('epoch', last_msg_send_time)::pg_catalog.float8,"
					 " pg_catalog.date_part('epoch', last_msg_receipt_time)::pg_catalog.float8,"
					 " (latest_end_lsn OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
					 " pg_catalog.date_part('epoch', latest_end_time)::pg_catalog.float8,"
					 " substring(slot_name FROM 'repmgr_slot_([0-9]*)')::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_wal_receiver");
	pgprom_emit_families(w, n, specs, lengthof(specs));
}

/*---- xlog_location ----*/

void
pgprom_collect_xlog_location(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec spec = {
		"pg_xlog_location_bytes", "Postgres LSN (log sequence number) being generated on primary or replayed on replica (truncated to low 52 bits)",
		PROM_GAUGE, 1, 1, false
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT ((CASE WHEN pg_catalog.pg_is_in_recovery()"
					 "  THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END"
					 "  OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)"
					 "  OPERATOR(pg_catalog.%) 4503599627370496::pg_catalog.numeric)::pg_catalog.float8");
	pgprom_emit_family(w, n, &spec);
}

/*---- stat_statements ----*/

/*
 * pg_stat_statements, bounded: the top pg_prom.stat_statements_limit
 * statements by total execution time, with toplevel and nested entries of
 * one {user, datname, queryid} summed so that the labels are unique, and
 * one remainder series {user="[other]", datname="[other]",
 * queryid="other"} holding the sum of all the others, so that totals still
 * add up.  The cardinality is fixed whatever the number of statements;
 * query text is never read.  Needs the extension in pg_prom.database (and
 * pg_stat_statements in shared_preload_libraries); without the extension
 * the collector writes nothing.
 */
void
pgprom_collect_stat_statements(PromWriter *w)
{
#define BY_STATEMENT 3, {"user", "datname", "queryid"}, {1, 2, 3}
	static const PromFamilySpec specs[] = {
		{"pg_stat_statements_calls_total", "Number of times executed", PROM_COUNTER, 4, 1, false, BY_STATEMENT},
		{"pg_stat_statements_seconds_total", "Total time spent in the statement, in seconds", PROM_COUNTER, 5, 1000, false, BY_STATEMENT},
		{"pg_stat_statements_rows_total", "Total number of rows retrieved or affected by the statement", PROM_COUNTER, 6, 1, false, BY_STATEMENT},
		{"pg_stat_statements_block_read_seconds_total", "Total time the statement spent reading blocks, in seconds", PROM_COUNTER, 7, 1000, false, BY_STATEMENT},
		{"pg_stat_statements_block_write_seconds_total", "Total time the statement spent writing blocks, in seconds", PROM_COUNTER, 8, 1000, false, BY_STATEMENT},
	};
#undef BY_STATEMENT
	char	   *func;
	char	   *sql;
	char	   *version;
	int			vmajor;
	int			vminor;
	const char *read_time = "blk_read_time";
	const char *write_time = "blk_write_time";
	int			rc;

	func = pgprom_extension_function("pg_stat_statements", "pg_stat_statements");
	if (func == NULL)
		return;

	/*
	 * pg_stat_statements 1.11 (PostgreSQL 17) split the block times into
	 * shared, local and temp; the installed version decides the columns.
	 */
	version = pgprom_extension_version("pg_stat_statements");
	if (version && sscanf(version, "%d.%d", &vmajor, &vminor) == 2 &&
		(vmajor > 1 || vminor >= 11))
	{
		read_time = "shared_blk_read_time OPERATOR(pg_catalog.+) local_blk_read_time";
		write_time = "shared_blk_write_time OPERATOR(pg_catalog.+) local_blk_write_time";
	}

	sql = psprintf("WITH s AS (SELECT userid, dbid, queryid,"
				   "  pg_catalog.sum(calls) AS calls, pg_catalog.sum(total_exec_time) AS total,"
				   "  pg_catalog.sum(rows) AS rows, pg_catalog.sum(%s) AS r,"
				   "  pg_catalog.sum(%s) AS wr"
				   "  FROM %s(false) GROUP BY userid, dbid, queryid),"
				   " ranked AS (SELECT s.*, pg_catalog.row_number() OVER (ORDER BY total DESC, queryid) AS rn FROM s)"
				   " SELECT * FROM (SELECT pg_catalog.pg_get_userbyid(userid)::pg_catalog.text,"
				   "  COALESCE(d.datname::pg_catalog.text, ''), COALESCE(queryid::pg_catalog.text, ''),"
				   "  calls::pg_catalog.float8, total::pg_catalog.float8, rows::pg_catalog.float8,"
				   "  r::pg_catalog.float8, wr::pg_catalog.float8"
				   "  FROM ranked LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) ranked.dbid"
				   "  WHERE rn OPERATOR(pg_catalog.<=) %d ORDER BY rn) top"
				   " UNION ALL"
				   " SELECT '[other]', '[other]', 'other', pg_catalog.sum(calls)::pg_catalog.float8,"
				   "  pg_catalog.sum(total)::pg_catalog.float8, pg_catalog.sum(rows)::pg_catalog.float8,"
				   "  pg_catalog.sum(r)::pg_catalog.float8, pg_catalog.sum(wr)::pg_catalog.float8"
				   " FROM ranked WHERE rn OPERATOR(pg_catalog.>) %d HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0",
				   read_time, write_time, func, pgprom_stat_statements_limit,
				   pgprom_stat_statements_limit);
	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_prom: pg_stat_statements query failed: %s",
			 SPI_result_code_string(rc));
	pgprom_emit_families(w, SPI_processed, specs, lengthof(specs));
}

/*---- buffercache_summary ----*/

/*
 * pg_buffercache_summary() exists from pg_buffercache 1.4 (PostgreSQL 16);
 * without the extension or the function this collector writes nothing.
 */
void
pgprom_collect_buffercache_summary(PromWriter *w)
{
	static const PromFamilySpec specs[] = {
		{"pg_buffercache_summary_buffers_used", "Number of used shared buffers", PROM_GAUGE, 1, 1, false},
		{"pg_buffercache_summary_buffers_unused", "Number of unused shared buffers", PROM_GAUGE, 2, 1, false},
		{"pg_buffercache_summary_buffers_dirty", "Number of dirty shared buffers", PROM_GAUGE, 3, 1, false},
		{"pg_buffercache_summary_buffers_pinned", "Number of pinned shared buffers", PROM_GAUGE, 4, 1, false},
		{"pg_buffercache_summary_usagecount_avg", "Average usage count of used shared buffers", PROM_GAUGE, 5, 1, false},
	};
	char	   *func;
	char	   *sql;
	int			rc;

	func = pgprom_extension_function("pg_buffercache", "pg_buffercache_summary");
	if (func == NULL)
		return;
	sql = psprintf("SELECT buffers_used::pg_catalog.float8, buffers_unused::pg_catalog.float8,"
				   " buffers_dirty::pg_catalog.float8, buffers_pinned::pg_catalog.float8,"
				   " usagecount_avg::pg_catalog.float8 FROM %s()",
				   func);
	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_prom: pg_buffercache_summary() failed: %s",
			 SPI_result_code_string(rc));
	pgprom_emit_families(w, SPI_processed, specs, lengthof(specs));
}

/*---- stat_checkpointer ----*/

/*
 * PostgreSQL 17 moved the checkpoint counters to pg_stat_checkpointer;
 * before 17 they are in pg_stat_bgwriter and this collector writes
 * nothing.
 */
void
pgprom_collect_stat_checkpointer(PromWriter *w)
{
#ifdef PGPROM_HAS_STAT_CHECKPOINTER
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec specs[] = {
		{"pg_stat_checkpointer_num_timed_total", "Number of scheduled checkpoints due to timeout", PROM_COUNTER, 1, 1, false},
		{"pg_stat_checkpointer_num_requested_total", "Number of requested checkpoints that have been performed", PROM_COUNTER, 2, 1, false},
		{"pg_stat_checkpointer_restartpoints_timed_total", "Number of scheduled restartpoints due to timeout or after a failed attempt to perform it", PROM_COUNTER, 3, 1, false},
		{"pg_stat_checkpointer_restartpoints_req_total", "Number of requested restartpoints", PROM_COUNTER, 4, 1, false},
		{"pg_stat_checkpointer_restartpoints_done_total", "Number of restartpoints that have been performed", PROM_COUNTER, 5, 1, false},
		{"pg_stat_checkpointer_write_time_total", "Total amount of time that has been spent in the portion of processing checkpoints and restartpoints where files are written to disk, in milliseconds", PROM_COUNTER, 6, 1, false},
		{"pg_stat_checkpointer_sync_time_total", "Total amount of time that has been spent in the portion of processing checkpoints and restartpoints where files are synchronized to disk, in milliseconds", PROM_COUNTER, 7, 1, false},
		{"pg_stat_checkpointer_buffers_written_total", "Number of buffers written during checkpoints and restartpoints", PROM_COUNTER, 8, 1, false},
		{"pg_stat_checkpointer_stats_reset_total", "Time at which these statistics were last reset", PROM_COUNTER, 9, 1, false},
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT num_timed::pg_catalog.float8, num_requested::pg_catalog.float8,"
					 " restartpoints_timed::pg_catalog.float8, restartpoints_req::pg_catalog.float8,"
					 " restartpoints_done::pg_catalog.float8, write_time::pg_catalog.float8,"
					 " sync_time::pg_catalog.float8, buffers_written::pg_catalog.float8,"
					 " COALESCE(pg_catalog.date_part('epoch', stats_reset), 0)::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_checkpointer");
	pgprom_emit_families(w, n, specs, lengthof(specs));
#endif
}

/*---- process_idle ----*/

#define IDLE_BUCKETS 9
#define IDLE_MAX_GROUPS 200

static const double idle_bounds[IDLE_BUCKETS] = {1, 2, 5, 15, 30, 60, 90, 120, 300};

typedef struct IdleKey
{
	int			state;			/* 0 idle, 1 idle in transaction, 2 aborted */
	char		appname[NAMEDATALEN];
} IdleKey;

typedef struct IdleGroup
{
	IdleKey		key;
	uint64		buckets[IDLE_BUCKETS + 1];	/* per bucket, last: +Inf */
	double		sum;
} IdleGroup;

/*
 * pg_process_idle_seconds{state, application_name}: a histogram of how
 * long backends have been idle, read from the backend-status array.
 * Application names beyond IDLE_MAX_GROUPS label sets are counted under
 * application_name="other".
 */
void
pgprom_collect_process_idle(PromWriter *w)
{
	static const char *const states[] = {"idle", "idle in transaction", "idle in transaction (aborted)"};
	static const char *const names[] = {"state", "application_name"};
	TimestampTz now = GetCurrentTimestamp();
	HASHCTL		ctl;
	HTAB	   *groups;
	HASH_SEQ_STATUS seq;
	IdleGroup  *g;
	int			nbackends = pgstat_fetch_stat_numbackends();
	int			i;

	ctl.keysize = sizeof(IdleKey);
	ctl.entrysize = sizeof(IdleGroup);
	ctl.hcxt = CurrentMemoryContext;
	groups = hash_create("pg_prom idle", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *local = pgprom_local_beentry(i);
		PgBackendStatus *be;
		IdleKey		key;
		bool		found;
		double		idle;
		int			b;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_backendType != B_BACKEND || be->st_procpid == MyProcPid)
			continue;
		memset(&key, 0, sizeof(key));
		switch (be->st_state)
		{
			case STATE_IDLE:
				key.state = 0;
				break;
			case STATE_IDLEINTRANSACTION:
				key.state = 1;
				break;
			case STATE_IDLEINTRANSACTION_ABORTED:
				key.state = 2;
				break;
			default:
				continue;
		}
		strlcpy(key.appname, be->st_appname ? be->st_appname : "", sizeof(key.appname));
		if (hash_get_num_entries(groups) >= IDLE_MAX_GROUPS &&
			hash_search(groups, &key, HASH_FIND, NULL) == NULL)
		{
			memset(key.appname, 0, sizeof(key.appname));
			strlcpy(key.appname, "other", sizeof(key.appname));
		}
		g = hash_search(groups, &key, HASH_ENTER, &found);
		if (!found)
		{
			memset(g->buckets, 0, sizeof(g->buckets));
			g->sum = 0;
		}
		idle = Max(0, (double) (now - be->st_state_start_timestamp) / USECS_PER_SEC);
		for (b = 0; b < IDLE_BUCKETS && idle > idle_bounds[b]; b++)
			;
		g->buckets[b] += 1;
		g->sum += idle;
	}

	if (!pgprom_expo_family(w, "pg_process_idle_seconds", "Idle time of server processes",
							PROM_HISTOGRAM))
		return;
	hash_seq_init(&seq, groups);
	while ((g = hash_seq_search(&seq)) != NULL)
	{
		const char *values[2] = {states[g->key.state], g->key.appname};

		pgprom_expo_histogram(w, 2, names, values, idle_bounds, IDLE_BUCKETS,
							  g->buckets, g->sum);
	}
}
