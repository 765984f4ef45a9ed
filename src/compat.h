/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Version differences between the PostgreSQL majors pg_prom supports.
 *
 * Every PG_VERSION_NUM test in pg_prom lives here, so that the rest of the
 * code is written once against the names below.  Only PostgreSQL 15 is
 * built and tested in CI; the other branches follow the server headers of
 * those versions (see shared/reference/pg-internals.md, section 8).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_COMPAT_H
#define PG_PROM_COMPAT_H

#include "storage/latch.h"
#include "utils/backend_status.h"

#if PG_VERSION_NUM < 150000
#error "pg_prom requires PostgreSQL 15 or later"
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

/* PgStat_StatDBEntry counters lost their n_ prefix in 16. */
#if PG_VERSION_NUM >= 160000
#define PGPROM_DBSTAT(entry, field) ((entry)->field)
#else
#define PGPROM_DBSTAT(entry, field) ((entry)->n_##field)
#endif

#endif							/* PG_PROM_COMPAT_H */
