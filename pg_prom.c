/*-------------------------------------------------------------------------
 *
 * pg_prom.c
 *		Module entry of pg_prom: settings, worker registration and the
 *		SQL-callable pg_prom_metrics().
 *
 * pg_prom serves Prometheus metrics from inside PostgreSQL.  Loaded through
 * shared_preload_libraries, it creates its shared counters, installs the
 * hooks that run in every backend (src/backend) and registers the endpoint
 * worker that answers HTTP (src/server), which starts the collector worker
 * that renders (src/scrape).  Loaded any other way (CREATE EXTENSION,
 * LOAD), it only defines its settings and the SQL functions, and says in
 * the log that the endpoint is off: pg_prom_metrics() works either way,
 * because both doors call the same renderer.  src/README has the map.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "compat.h"
#include "backend/appmetrics.h"
#include "backend/hooks.h"
#include "backend/legacy.h"
#include "guc.h"
#include "scrape/collectors/collectors.h"
#include "scrape/render.h"
#include "server/endpoint.h"
#include "server/routes.h"
#include "shmem.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void shmem_request(void);
static void shmem_startup(void);

PG_FUNCTION_INFO_V1(pg_prom_metrics);

void
_PG_init(void)
{
	static bool defaults[PGPROM_MAX_COLLECTORS];
	static const char *collector_names[PGPROM_MAX_COLLECTORS];
	int			i;

	for (i = 0; i < pgprom_num_collectors; i++)
	{
		collector_names[i] = pgprom_collectors[i].name;
		defaults[i] = pgprom_collectors[i].default_on;
	}
	pgprom_define_settings(pgprom_fixed_routes, collector_names, defaults,
						   pgprom_num_collectors);

	/*
	 * In order to create our shared memory area and the worker, we have to be
	 * loaded via shared_preload_libraries.  If not, the SQL function still
	 * works, so just say that the endpoint is off.
	 */
	if (!process_shared_preload_libraries_in_progress)
	{
		ereport(LOG,
				(errmsg("pg_prom: loaded without shared_preload_libraries; the HTTP endpoint is off"),
				 errhint("Add pg_prom to shared_preload_libraries and restart the server to serve /metrics.")));
		return;
	}

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
	pgprom_install_hooks();
	pgprom_install_legacy_guard();
	pgprom_register_worker();
}

/* Shared memory: pg_prom's own area, the hooks' counters, application metrics. */
static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(pgprom_shmem_size());
	RequestAddinShmemSpace(MAXALIGN(pgprom_hook_counters_size()));
	pgprom_app_metrics_shmem_request();
}

/*
 * Create the areas in the postmaster (and attach to them after a
 * crash-restart re-runs this): initialised only when not found.
 */
static void
shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgprom_shmem_init();
	pgprom_hook_counters = ShmemInitStruct("pg_prom hook counters",
										   pgprom_hook_counters_size(), &found);
	if (!found)
		pgprom_hook_counters_init(pgprom_hook_counters);
	pgprom_app_metrics_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * pg_prom_metrics() - the exposition text, exactly what /metrics serves.
 *
 * The renderer reads shared memory directly (backend status, pgstat), which
 * bypasses the permission checks of the views, so besides EXECUTE (granted
 * to pg_monitor) the caller must have the privileges of pg_read_all_stats.
 */
Datum
pg_prom_metrics(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	/* a custom query calling it would start workers without end */
	if (pgprom_in_own_process)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_prom_metrics() cannot be called by pg_prom's own workers"),
				 errhint("A custom query must not call pg_prom_metrics().")));
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read pg_prom metrics"),
				 errdetail("Only roles with privileges of the \"%s\" role may read them.",
						   "pg_read_all_stats"),
				 errhint("Grant pg_monitor to the role.")));

	initStringInfo(&buf);
	pgprom_render(&buf, pgprom_collector_mask, NULL);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
