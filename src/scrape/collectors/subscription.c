/*-------------------------------------------------------------------------
 *
 * subscription.c
 *		Logical replication on the subscriber: every subscription of the
 *		instance (pg_subscription is shared), whether it is enabled, its
 *		workers, how far its apply worker got (pg_stat_subscription), and
 *		its error and conflict counters (pg_stat_subscription_stats),
 *		labelled {datname, subname}.
 *
 * Versions: the error counters exist from 15; 18 adds the conflict
 * counters (confl_*); 19 splits sync_error_count into sequence and table
 * synchronization errors (both served, and their sum under the old name so
 * that dashboards keep working) and adds confl_update_deleted.  The apply
 * worker is the one without a relation (16+: and without a leader: parallel
 * apply workers have one).  Without subscriptions the query returns no
 * rows and the families have no samples.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

#if PG_VERSION_NUM >= 160000
#define APPLY_WORKER "w.relid IS NULL AND w.leader_pid IS NULL"
#else
#define APPLY_WORKER "w.relid IS NULL"
#endif

#if PG_VERSION_NUM >= 190000
#define SYNC_ERRORS "(st.sync_seq_error_count OPERATOR(pg_catalog.+) st.sync_table_error_count)::pg_catalog.float8," \
	" st.sync_seq_error_count::pg_catalog.float8, st.sync_table_error_count::pg_catalog.float8"
#else
#define SYNC_ERRORS "st.sync_error_count::pg_catalog.float8, NULL::pg_catalog.float8, NULL::pg_catalog.float8"
#endif

#if PG_VERSION_NUM >= 190000
#define CONFLICTS ", st.confl_insert_exists::pg_catalog.float8, st.confl_update_origin_differs::pg_catalog.float8," \
	" st.confl_update_exists::pg_catalog.float8, st.confl_update_missing::pg_catalog.float8," \
	" st.confl_delete_origin_differs::pg_catalog.float8, st.confl_delete_missing::pg_catalog.float8," \
	" st.confl_multiple_unique_conflicts::pg_catalog.float8, st.confl_update_deleted::pg_catalog.float8"
#elif PG_VERSION_NUM >= 180000
#define CONFLICTS ", st.confl_insert_exists::pg_catalog.float8, st.confl_update_origin_differs::pg_catalog.float8," \
	" st.confl_update_exists::pg_catalog.float8, st.confl_update_missing::pg_catalog.float8," \
	" st.confl_delete_origin_differs::pg_catalog.float8, st.confl_delete_missing::pg_catalog.float8," \
	" st.confl_multiple_unique_conflicts::pg_catalog.float8, NULL::pg_catalog.float8"
#else
#define CONFLICTS ", NULL::pg_catalog.float8, NULL::pg_catalog.float8, NULL::pg_catalog.float8," \
	" NULL::pg_catalog.float8, NULL::pg_catalog.float8, NULL::pg_catalog.float8," \
	" NULL::pg_catalog.float8, NULL::pg_catalog.float8"
#endif

#define EPOCH(col) "pg_catalog.date_part('epoch', " col ")::pg_catalog.float8"
#define LSN_BYTES(col) "(" col " OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8"

#define SUB_LABELS 2, {"datname", "subname"}, {1, 2}
#define CONFLICT(n, col) \
	{"pg_stat_subscription_stats_confl_" n "_total", \
	 "Conflicts of type " n " met while applying changes (pg_stat_subscription_stats.confl_" n ", PostgreSQL 18+)", \
	 PROM_COUNTER, col, 1, true, SUB_LABELS}

void
pgprom_collect_subscription(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec specs[] = {
		{"pg_subscription_enabled", "Whether the subscription is enabled (pg_subscription.subenabled)", PROM_GAUGE, 3, 1, false, SUB_LABELS},
		{"pg_stat_subscription_workers", "Workers of the subscription running now: apply, parallel apply and table synchronization (rows of pg_stat_subscription)", PROM_GAUGE, 4, 1, false, SUB_LABELS},
		{"pg_stat_subscription_received_lsn_bytes", "Last write-ahead log location received by the apply worker, in bytes (absent while none runs)", PROM_GAUGE, 5, 1, true, SUB_LABELS},
		{"pg_stat_subscription_latest_end_lsn_bytes", "Last write-ahead log location reported to the origin WAL sender by the apply worker, in bytes", PROM_GAUGE, 6, 1, true, SUB_LABELS},
		{"pg_stat_subscription_last_msg_receipt_timestamp_seconds", "Time the apply worker last received a message from the origin WAL sender, in seconds since the Unix epoch", PROM_GAUGE, 7, 1, true, SUB_LABELS},
		{"pg_stat_subscription_latest_end_timestamp_seconds", "Time of the last write-ahead log location reported to the origin WAL sender, in seconds since the Unix epoch", PROM_GAUGE, 8, 1, true, SUB_LABELS},
		{"pg_stat_subscription_stats_apply_error_count_total", "Errors while applying changes (pg_stat_subscription_stats.apply_error_count)", PROM_COUNTER, 9, 1, true, SUB_LABELS},
		{"pg_stat_subscription_stats_sync_error_count_total", "Errors during the initial synchronization (pg_stat_subscription_stats.sync_error_count; on 19 the sum of its sequence and table synchronization errors)", PROM_COUNTER, 10, 1, true, SUB_LABELS},
		{"pg_stat_subscription_stats_sync_seq_error_count_total", "Errors during sequence synchronization (PostgreSQL 19+)", PROM_COUNTER, 11, 1, true, SUB_LABELS},
		{"pg_stat_subscription_stats_sync_table_error_count_total", "Errors during the initial table synchronization (PostgreSQL 19+)", PROM_COUNTER, 12, 1, true, SUB_LABELS},
		CONFLICT("insert_exists", 13),
		CONFLICT("update_origin_differs", 14),
		CONFLICT("update_exists", 15),
		CONFLICT("update_missing", 16),
		CONFLICT("delete_origin_differs", 17),
		CONFLICT("delete_missing", 18),
		CONFLICT("multiple_unique_conflicts", 19),
		CONFLICT("update_deleted", 20),
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT d.datname::pg_catalog.text, s.subname::pg_catalog.text,"
					 " s.subenabled::pg_catalog.int4::pg_catalog.float8,"
					 " (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_subscription w"
					 "   WHERE w.subid OPERATOR(pg_catalog.=) s.oid AND w.pid IS NOT NULL)::pg_catalog.float8,"
					 " " LSN_BYTES("a.received_lsn") ", " LSN_BYTES("a.latest_end_lsn") ","
					 " " EPOCH("a.last_msg_receipt_time") ", " EPOCH("a.latest_end_time") ","
					 " st.apply_error_count::pg_catalog.float8, " SYNC_ERRORS
					 CONFLICTS
					 " FROM pg_catalog.pg_subscription s"
					 " LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.subdbid"
					 " LEFT JOIN pg_catalog.pg_stat_subscription_stats st ON st.subid OPERATOR(pg_catalog.=) s.oid"
					 " LEFT JOIN LATERAL (SELECT w.received_lsn, w.latest_end_lsn,"
					 "   w.last_msg_receipt_time, w.latest_end_time"
					 "   FROM pg_catalog.pg_stat_subscription w"
					 "   WHERE w.subid OPERATOR(pg_catalog.=) s.oid AND " APPLY_WORKER
					 "   LIMIT 1) a ON true"
					 " ORDER BY 1, 2");
	pgprom_emit_families(w, n, specs, lengthof(specs));
}
