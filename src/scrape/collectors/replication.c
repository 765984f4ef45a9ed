/*-------------------------------------------------------------------------
 *
 * replication.c
 *		Replication from both sides: the standby's lag and replay
 *		(collector "replication"), the primary's walsenders
 *		("stat_replication") and the replication slots
 *		("replication_slots"), with postgres_exporter's names.
 *
 * Every query chooses its WAL position by pg_is_in_recovery() at run time,
 * never calling a primary-only function on a standby, so the collectors
 * stay correct across a promotion.  Where postgres_exporter renamed a
 * family (replication_slot -> replication_slots in 0.20) and where the
 * classic example queries.yaml named one differently (pg_replication_lag),
 * both names are served; they do not collide.
 *
 * Most servers have no WAL sender and no slot: the two collectors look at
 * shared memory first and skip their query (a join of three set-returning
 * functions, planned once but set up and run at every scrape) when it could
 * only return no rows; the families are written the same either way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "replication/slot.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/lwlock.h"
#include "storage/spin.h"

#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

/* Whether a WAL sender runs (else pg_stat_replication has no rows). */
static bool
any_walsender(void)
{
	int			i;

	if (WalSndCtl == NULL)
		return true;			/* cannot tell: ask */
	for (i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *ws = &WalSndCtl->walsnds[i];
		pid_t		pid;

		SpinLockAcquire(&ws->mutex);
		pid = ws->pid;
		SpinLockRelease(&ws->mutex);
		if (pid != 0)
			return true;
	}
	return false;
}

/* Whether a replication slot exists (else pg_replication_slots is empty). */
static bool
any_slot(void)
{
	bool		found = false;
	int			i;

	if (ReplicationSlotCtl == NULL)
		return true;
	LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
	for (i = 0; i < max_replication_slots && !found; i++)
		found = ReplicationSlotCtl->replication_slots[i].in_use;
	LWLockRelease(ReplicationSlotControlLock);
	return found;
}

void
pgprom_collect_replication(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec specs[] = {
		{"pg_replication_lag_seconds",
			"Replication lag behind primary in seconds (0 on a primary, or when everything received is replayed)",
		PROM_GAUGE, 1, 1, false},
		{"pg_replication_is_replica",
			"Indicates if the server is a replica",
		PROM_GAUGE, 2, 1, false},
		{"pg_replication_last_replay_seconds",
			"Age of last replay in seconds (absent while nothing was replayed)",
		PROM_GAUGE, 3, 1, true},
		{"pg_replication_lag",
			"Replication lag behind master in seconds (classic queries.yaml name)",
		PROM_GAUGE, 4, 1, false},
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN 0"
					 "  WHEN pg_catalog.pg_last_wal_receive_lsn() OPERATOR(pg_catalog.=) pg_catalog.pg_last_wal_replay_lsn() THEN 0"
					 "  ELSE GREATEST(0, pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.pg_last_xact_replay_timestamp()))"
					 "  END::pg_catalog.float8,"
					 " CASE WHEN pg_catalog.pg_is_in_recovery() THEN 1 ELSE 0 END::pg_catalog.float8,"
					 " GREATEST(0, pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.pg_last_xact_replay_timestamp()))::pg_catalog.float8,"
					 " CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN 0"
					 "  ELSE COALESCE(GREATEST(0, pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.pg_last_xact_replay_timestamp())), 0)"
					 "  END::pg_catalog.float8");
	pgprom_emit_families(w, n, specs, lengthof(specs));
}

void
pgprom_collect_stat_replication(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
#define REPL_LABELS 5, {"application_name", "client_addr", "state", "slot_name", "pid"}, {1, 2, 3, 4, 5}
	static const PromFamilySpec specs[] = {
		{"pg_stat_replication_pg_current_wal_lsn_bytes",
			"WAL position in bytes (the current LSN on a primary, the received LSN on a cascading standby)",
		PROM_GAUGE, 6, 1, false, REPL_LABELS},
		{"pg_stat_replication_pg_wal_lsn_diff",
			"Lag in bytes between master and slave",
		PROM_GAUGE, 7, 1, true, REPL_LABELS},
	};
#undef REPL_LABELS
	uint64		n = 0;

	if (any_walsender())
		n = pgprom_query(&plan,
						 "WITH pos AS (SELECT CASE WHEN pg_catalog.pg_is_in_recovery()"
						 "  THEN pg_catalog.pg_last_wal_receive_lsn() ELSE pg_catalog.pg_current_wal_lsn() END AS lsn)"
						 " SELECT r.application_name, COALESCE(pg_catalog.host(r.client_addr), ''),"
						 "  COALESCE(r.state, ''), COALESCE(s.slot_name::pg_catalog.text, ''), r.pid::pg_catalog.text,"
						 "  (pos.lsn OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
						 "  (pos.lsn OPERATOR(pg_catalog.-) r.replay_lsn)::pg_catalog.float8"
						 " FROM pg_catalog.pg_stat_replication r CROSS JOIN pos"
						 " LEFT JOIN pg_catalog.pg_replication_slots s ON s.active_pid OPERATOR(pg_catalog.=) r.pid"
						 " ORDER BY r.pid");
	pgprom_emit_families(w, n, specs, lengthof(specs));
}

void
pgprom_collect_replication_slots(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
#define BY_DB 2, {"slot_name", "database"}, {1, 2}
#define BY_TYPE 2, {"slot_name", "slot_type"}, {1, 3}
	static const PromFamilySpec specs[] = {
		{"pg_replication_slots_active", "Flag indicating if the slot is active", PROM_GAUGE, 4, 1, false, BY_DB},
		{"pg_replication_slots_pg_wal_lsn_diff", "Replication lag in bytes", PROM_GAUGE, 5, 1, true, BY_DB},
		{"pg_replication_slots_slot_current_wal_lsn", "current wal lsn value", PROM_GAUGE, 6, 1, true, BY_TYPE},
		{"pg_replication_slots_slot_confirmed_flush_lsn", "last lsn confirmed flushed to the replication slot", PROM_GAUGE, 7, 1, false, BY_TYPE},
		{"pg_replication_slots_slot_is_active", "whether the replication slot is active or not", PROM_GAUGE, 4, 1, false, BY_TYPE},
		{"pg_replication_slots_safe_wal_size_bytes", "number of bytes that can be written to WAL such that this slot is not in danger of getting in state lost", PROM_GAUGE, 8, 1, true, BY_TYPE},
		/* postgres_exporter 0.15-0.19 names */
		{"pg_replication_slot_slot_current_wal_lsn", "current wal lsn value (postgres_exporter 0.19 name)", PROM_GAUGE, 6, 1, true, BY_TYPE},
		{"pg_replication_slot_slot_confirmed_flush_lsn", "last lsn confirmed flushed to the replication slot (postgres_exporter 0.19 name)", PROM_GAUGE, 7, 1, false, BY_TYPE},
		{"pg_replication_slot_slot_is_active", "whether the replication slot is active or not (postgres_exporter 0.19 name)", PROM_GAUGE, 4, 1, false, BY_TYPE},
		{"pg_replication_slot_safe_wal_size_bytes", "number of bytes that can be written to WAL such that this slot is not in danger of getting in state lost (postgres_exporter 0.19 name)", PROM_GAUGE, 8, 1, true, BY_TYPE},
	};
	static const PromFamilySpec status_specs[] = {
		{"pg_replication_slots_wal_status", "availability of WAL files claimed by this slot", PROM_GAUGE, 10, 1, true,
		3, {"slot_name", "slot_type", "wal_status"}, {1, 3, 9}},
		{"pg_replication_slot_wal_status", "availability of WAL files claimed by this slot (postgres_exporter 0.19 name)", PROM_GAUGE, 10, 1, true,
		3, {"slot_name", "slot_type", "wal_status"}, {1, 3, 9}},
	};
#undef BY_DB
#undef BY_TYPE
	uint64		n = 0;

	if (any_slot())
		n = pgprom_query(&plan,
						 "WITH pos AS (SELECT CASE WHEN pg_catalog.pg_is_in_recovery()"
						 "  THEN pg_catalog.pg_last_wal_receive_lsn() ELSE pg_catalog.pg_current_wal_lsn() END AS lsn)"
						 " SELECT s.slot_name::pg_catalog.text, COALESCE(s.database::pg_catalog.text, ''), s.slot_type,"
						 "  s.active::pg_catalog.int4::pg_catalog.float8,"
						 "  (pos.lsn OPERATOR(pg_catalog.-) s.restart_lsn)::pg_catalog.float8,"
						 "  (pos.lsn OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
						 "  (COALESCE(s.confirmed_flush_lsn, '0/0') OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
						 "  s.safe_wal_size::pg_catalog.float8,"
						 "  s.wal_status,"
						 "  CASE WHEN s.wal_status IS NULL THEN NULL ELSE 1 END::pg_catalog.float8"
						 " FROM pg_catalog.pg_replication_slots s CROSS JOIN pos"
						 " ORDER BY s.slot_name");
	pgprom_emit_families(w, n, specs, lengthof(specs));
	pgprom_emit_families(w, n, status_specs, lengthof(status_specs));
}

/*
 * pg_stat_recovery (PostgreSQL 19+): where replay is on a standby, and
 * whether it is paused or a promotion was asked for.  The view has a row
 * only during recovery: on a primary the families have no samples.
 */
void
pgprom_collect_stat_recovery(PromWriter *w)
{
#if PG_VERSION_NUM >= 190000
	static SPIPlanPtr plan = NULL;
	static const PromFamilySpec specs[] = {
		{"pg_stat_recovery_promote_triggered", "Whether a promotion was asked for (pg_stat_recovery.promote_triggered)", PROM_GAUGE, 1, 1, false},
		{"pg_stat_recovery_last_replayed_end_lsn_bytes", "End of the last record replayed, in bytes (pg_stat_recovery.last_replayed_end_lsn)", PROM_GAUGE, 2, 1, true},
		{"pg_stat_recovery_replay_end_lsn_bytes", "End of the record being replayed, in bytes (pg_stat_recovery.replay_end_lsn)", PROM_GAUGE, 3, 1, true},
		{"pg_stat_recovery_last_replayed_timeline", "Timeline of the last record replayed (pg_stat_recovery.last_replayed_tli)", PROM_GAUGE, 4, 1, true},
		{"pg_stat_recovery_last_xact_timestamp_seconds", "Commit time of the last transaction replayed, in seconds since the Unix epoch (pg_stat_recovery.recovery_last_xact_time)", PROM_GAUGE, 5, 1, true},
		{"pg_stat_recovery_paused", "1 for the replay pause state now: not paused, pause requested or paused (pg_stat_recovery.pause_state)", PROM_GAUGE, 7, 1, false,
		1, {"pause_state"}, {6}},
	};
	uint64		n;

	n = pgprom_query(&plan,
					 "SELECT promote_triggered::pg_catalog.int4::pg_catalog.float8,"
					 " (last_replayed_end_lsn OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
					 " (replay_end_lsn OPERATOR(pg_catalog.-) '0/0'::pg_catalog.pg_lsn)::pg_catalog.float8,"
					 " last_replayed_tli::pg_catalog.float8,"
					 " pg_catalog.date_part('epoch', recovery_last_xact_time)::pg_catalog.float8,"
					 " pause_state, 1::pg_catalog.float8"
					 " FROM pg_catalog.pg_stat_recovery");
	pgprom_emit_families(w, n, specs, lengthof(specs));
#endif
}
