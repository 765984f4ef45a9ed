/*-------------------------------------------------------------------------
 *
 * workers.c
 *		Registration record and session set-up shared by pg_prom's
 *		background workers (endpoint, collector, per-database and
 *		custom-query workers).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/guc.h"

#include "guc.h"
#include "workers.h"

void
pgprom_worker_record(BackgroundWorker *worker, const char *function,
					 const char *name, const char *type, int restart_s,
					 pid_t notify_pid, Datum arg)
{
	memset(worker, 0, sizeof(BackgroundWorker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_ConsistentState;
	worker->bgw_restart_time = restart_s;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "pg_prom");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker->bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", type);
	worker->bgw_main_arg = arg;
	worker->bgw_notify_pid = notify_pid;
}

void
pgprom_worker_session(const char *appname, int lock_timeout_ms)
{
	/*
	 * A database's owner may ALTER DATABASE ... SET role: it would apply to
	 * this session too.  pg_prom's workers run as the role they connected as.
	 */
	SetConfigOption("role", "none", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname(appname);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET,
					PGC_S_SESSION);
	/* pg_prom's own queries stay out of pg_stat_statements */
	SetConfigOption("pg_stat_statements.track", "none", PGC_SUSET,
					PGC_S_SESSION);
	if (lock_timeout_ms > 0)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "%d", lock_timeout_ms);
		SetConfigOption("lock_timeout", buf, PGC_USERSET, PGC_S_SESSION);
	}
}

void
pgprom_become_monitor(Oid *saved_userid, int *saved_sec_context)
{
	GetUserIdAndSecContext(saved_userid, saved_sec_context);
	if (superuser_arg(*saved_userid))
		SetUserIdAndSecContext(ROLE_PG_MONITOR,
							   *saved_sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
}

Oid
pgprom_worker_role(void)
{
	if (pgprom_role == NULL || pgprom_role[0] == '\0')
		return InvalidOid;
	return get_role_oid(pgprom_role, false);
}
