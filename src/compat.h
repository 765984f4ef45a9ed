/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Version differences between the PostgreSQL majors pg_prom supports.
 *
 * Every PG_VERSION_NUM test in pg_prom lives here, so that the rest of the
 * code is written once against the names below.  CI builds and tests every
 * supported major (15 to 19, scripts/matrix.sh).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_COMPAT_H
#define PG_PROM_COMPAT_H

#include "postmaster/postmaster.h"
#include "storage/latch.h"
#include "utils/backend_status.h"

#if PG_VERSION_NUM < 150000
#error "pg_prom requires PostgreSQL 15 or later"
#endif

/*
 * pg_prom builds with -fvisibility=hidden: only what is PGDLLEXPORT is
 * exported (_PG_init, the magic block, the SQL-callable functions, the
 * workers' entry points).  Before 16, PGDLLEXPORT was empty except on
 * Windows; include this before PG_MODULE_MAGIC and PG_FUNCTION_INFO_V1.
 */
#if PG_VERSION_NUM < 160000 && defined(HAVE_VISIBILITY_ATTRIBUTE)
#undef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#elif PG_VERSION_NUM < 160000 && defined(__GNUC__)
#undef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#endif

/* Before 16 the SQL-callable function itself was not declared PGDLLEXPORT. */
#if PG_VERSION_NUM < 160000
#include "fmgr.h"
#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record * CppConcat(pg_finfo_,funcname)(void); \
const Pg_finfo_record * \
CppConcat(pg_finfo_,funcname) (void) \
{ \
	static const Pg_finfo_record my_finfo = { 1 }; \
	return &my_finfo; \
} \
extern int no_such_variable
#endif

/*
 * Statistics views that changed shape: 17 moved the checkpoint counters
 * from pg_stat_bgwriter to pg_stat_checkpointer and made the vacuum
 * progress count bytes and dead item identifiers.
 */
#if PG_VERSION_NUM >= 170000
#define PGPROM_HAS_STAT_CHECKPOINTER 1
#define PGPROM_VACUUM_PROGRESS_IN_BYTES 1
#define PGPROM_STAT_CHECKPOINTER_DEFAULT true
#else
#define PGPROM_STAT_CHECKPOINTER_DEFAULT false
#endif

/*
 * pg_stat_io (16+): 18 counts bytes per operation (before, every operation
 * was BLCKSZ, the view's op_bytes).
 */
#if PG_VERSION_NUM >= 160000
#define PGPROM_HAS_STAT_IO 1
#define PGPROM_STAT_IO_DEFAULT true
#else
#define PGPROM_STAT_IO_DEFAULT false
#endif
#if PG_VERSION_NUM >= 180000
#define PGPROM_IO_BYTES(bk, obj, ctx, op) ((double) (bk)->bytes[obj][ctx][op])
#else
#define PGPROM_IO_BYTES(bk, obj, ctx, op) \
	((double) (bk)->counts[obj][ctx][op] * BLCKSZ)
#endif

/*
 * pg_stat_wal: 18 moved the write and sync counters and times to pg_stat_io
 * (object "wal") and kept the rest in a struct of its own; 19 added the
 * bytes of full-page images.
 */
#if PG_VERSION_NUM >= 180000
#define PGPROM_WAL_COUNTERS(w) (&(w)->wal_counters)
#else
#define PGPROM_WAL_COUNTERS(w) (w)
#define PGPROM_WAL_HAS_WRITE_SYNC 1
#endif
#if PG_VERSION_NUM >= 190000
#define PGPROM_WAL_HAS_FPI_BYTES 1
#endif

/*
 * Cumulative lock statistics, pg_stat_lock, pg_stat_recovery and
 * pg_stat_autovacuum_scores (19+).
 */
#if PG_VERSION_NUM >= 190000
#define PGPROM_HAS_STAT_LOCK 1
#define PGPROM_STAT_LOCK_DEFAULT true
#define PGPROM_STAT_RECOVERY_DEFAULT true
#define PGPROM_HAS_AUTOVACUUM_SCORES 1
#define PGPROM_AUTOVACUUM_SCORES_DEFAULT true
#else
#define PGPROM_STAT_LOCK_DEFAULT false
#define PGPROM_STAT_RECOVERY_DEFAULT false
#define PGPROM_AUTOVACUUM_SCORES_DEFAULT false
#endif

/* WL_SOCKET_ACCEPT appeared in 16; on Unix it is the same as READABLE. */
#ifndef WL_SOCKET_ACCEPT
#define WL_SOCKET_ACCEPT WL_SOCKET_READABLE
#endif

/* CreateWaitEventSet takes a ResourceOwner instead of a context from 17. */
#if PG_VERSION_NUM >= 170000
#define pgprom_create_wait_event_set(cxt, n) CreateWaitEventSet(NULL, (n))
#else
#define pgprom_create_wait_event_set(cxt, n) CreateWaitEventSet((cxt), (n))
#endif

/* Backend status by 1-based index into the local snapshot. */
#if PG_VERSION_NUM >= 160000
#define pgprom_local_beentry(i) pgstat_get_local_beentry_by_index(i)
#else
#define pgprom_local_beentry(i) pgstat_fetch_stat_local_beentry(i)
#endif


/* The GUC array: PG16 returns its length through an argument. */
#include "utils/guc_tables.h"
#if PG_VERSION_NUM >= 160000
#define pgprom_guc_variables(n) get_guc_variables(n)
#else
static inline struct config_generic **
pgprom_guc_variables(int *n)
{
	*n = GetNumConfigOptions();
	return get_guc_variables();
}
#endif

/* GUC "extra" data: malloc'd up to 15, guc_malloc'd (and pfree'd) from 16. */
#if PG_VERSION_NUM >= 160000
#define pgprom_guc_malloc(size) guc_malloc(LOG, (size))
#else
#define pgprom_guc_malloc(size) malloc(size)
#endif

/*
 * PgStat_StatTabEntry fields renamed in 16 (n_live_tuples -> live_tuples,
 * vacuum_timestamp -> last_vacuum_time, autovac_vacuum_count ->
 * autovacuum_count, ...); 16 also added the time of the last scan.
 */
#if PG_VERSION_NUM >= 160000
#define PGPROM_TAB_LIVE(e) ((e)->live_tuples)
#define PGPROM_TAB_DEAD(e) ((e)->dead_tuples)
#define PGPROM_TAB_MOD_SINCE_ANALYZE(e) ((e)->mod_since_analyze)
#define PGPROM_TAB_LAST_VACUUM(e) ((e)->last_vacuum_time)
#define PGPROM_TAB_LAST_AUTOVACUUM(e) ((e)->last_autovacuum_time)
#define PGPROM_TAB_LAST_ANALYZE(e) ((e)->last_analyze_time)
#define PGPROM_TAB_LAST_AUTOANALYZE(e) ((e)->last_autoanalyze_time)
#define PGPROM_TAB_AUTOVACUUM_COUNT(e) ((e)->autovacuum_count)
#define PGPROM_TAB_AUTOANALYZE_COUNT(e) ((e)->autoanalyze_count)
#define PGPROM_TAB_LASTSCAN(e) ((e)->lastscan)
#else
#define PGPROM_TAB_LIVE(e) ((e)->n_live_tuples)
#define PGPROM_TAB_DEAD(e) ((e)->n_dead_tuples)
#define PGPROM_TAB_MOD_SINCE_ANALYZE(e) ((e)->changes_since_analyze)
#define PGPROM_TAB_LAST_VACUUM(e) ((e)->vacuum_timestamp)
#define PGPROM_TAB_LAST_AUTOVACUUM(e) ((e)->autovac_vacuum_timestamp)
#define PGPROM_TAB_LAST_ANALYZE(e) ((e)->analyze_timestamp)
#define PGPROM_TAB_LAST_AUTOANALYZE(e) ((e)->autovac_analyze_timestamp)
#define PGPROM_TAB_AUTOVACUUM_COUNT(e) ((e)->autovac_vacuum_count)
#define PGPROM_TAB_AUTOANALYZE_COUNT(e) ((e)->autovac_analyze_count)
#define PGPROM_TAB_LASTSCAN(e) ((TimestampTz) 0)	/* not kept before 16 */
#endif

/*
 * pgstat_fetch_entry() says from 19 whether its result may be freed; before,
 * it may be when stats_fetch_consistency is none (else it is the snapshot's).
 */
#if PG_VERSION_NUM >= 190000
#define PGPROM_PGSTAT_FETCH(kind, dboid, objid, may_free) \
	pgstat_fetch_entry((kind), (dboid), (objid), (may_free))
#else
#define PGPROM_PGSTAT_FETCH(kind, dboid, objid, may_free) \
	(*(may_free) = (pgstat_fetch_consistency == PGSTAT_FETCH_CONSISTENCY_NONE), \
	 pgstat_fetch_entry((kind), (dboid), (objid)))
#endif

/* The object of a shared statistics key: an Oid named objoid up to 17. */
#if PG_VERSION_NUM >= 180000
#define PGPROM_PGSTAT_OBJID(key) ((key).objid)
#else
#define PGPROM_PGSTAT_OBJID(key) ((key).objoid)
#endif

/*
 * PgStat_StatDBEntry counters lost their n_ prefix in 16, and the timing
 * ones their long names (n_block_read_time -> blk_read_time,
 * total_active_time -> active_time).
 */
#if PG_VERSION_NUM >= 160000
#define PGPROM_DBSTAT(entry, field) ((entry)->field)
#define PGPROM_DBSTAT_BLK_READ_TIME(entry) ((entry)->blk_read_time)
#define PGPROM_DBSTAT_BLK_WRITE_TIME(entry) ((entry)->blk_write_time)
#define PGPROM_DBSTAT_ACTIVE_TIME(entry) ((entry)->active_time)
#else
#define PGPROM_DBSTAT(entry, field) ((entry)->n_##field)
#define PGPROM_DBSTAT_BLK_READ_TIME(entry) ((entry)->n_block_read_time)
#define PGPROM_DBSTAT_BLK_WRITE_TIME(entry) ((entry)->n_block_write_time)
#define PGPROM_DBSTAT_ACTIVE_TIME(entry) ((entry)->total_active_time)
#endif

/*
 * Connection slots kept back from ordinary roles: superuser_reserved
 * (ReservedBackends until 15), and from 16 also reserved_connections (for
 * members of pg_use_reserved_connections).
 */
#if PG_VERSION_NUM >= 160000
#define PGPROM_SUPERUSER_RESERVED SuperuserReservedConnections
#define PGPROM_ROLE_RESERVED ReservedConnections
#else
#define PGPROM_SUPERUSER_RESERVED ReservedBackends
#define PGPROM_ROLE_RESERVED 0
#endif

/* planner_hook gained an ExplainState argument in 19. */
#if PG_VERSION_NUM >= 190000
#define PGPROM_PLANNER_ARGS Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams, ExplainState *es
#define PGPROM_PLANNER_PASS parse, query_string, cursorOptions, boundParams, es
#else
#define PGPROM_PLANNER_ARGS Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams
#define PGPROM_PLANNER_PASS parse, query_string, cursorOptions, boundParams
#endif

/* ShmemInitHash lost its initial size in 19: one size, the maximum. */
#if PG_VERSION_NUM >= 190000
#define pgprom_shmem_init_hash(name, size, info, flags) ShmemInitHash((name), (size), (info), (flags))
#else
#define pgprom_shmem_init_hash(name, size, info, flags) ShmemInitHash((name), (size), (size), (info), (flags))
#endif

/*
 * The type-specific fields of a GUC: 19 made them a union inside struct
 * config_generic; before, struct config_int & co. began with a
 * config_generic.
 */
#if PG_VERSION_NUM >= 190000
#define PGPROM_GUC_BOOL(g) (&(g)->_bool)
#define PGPROM_GUC_INT(g) (&(g)->_int)
#define PGPROM_GUC_REAL(g) (&(g)->_real)
#else
#define PGPROM_GUC_BOOL(g) ((struct config_bool *) (g))
#define PGPROM_GUC_INT(g) ((struct config_int *) (g))
#define PGPROM_GUC_REAL(g) ((struct config_real *) (g))
#endif

/* ExecutorRun_hook lost its execute_once argument in 18. */
#if PG_VERSION_NUM >= 180000
#define PGPROM_EXECUTOR_RUN_ARGS QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define PGPROM_EXECUTOR_RUN_PASS queryDesc, direction, count
#else
#define PGPROM_EXECUTOR_RUN_ARGS QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once
#define PGPROM_EXECUTOR_RUN_PASS queryDesc, direction, count, execute_once
#endif

#endif							/* PG_PROM_COMPAT_H */
