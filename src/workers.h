/*-------------------------------------------------------------------------
 *
 * workers.h
 *		What every pg_prom background worker shares: its registration
 *		record and the session settings it runs with.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_WORKERS_H
#define PG_PROM_WORKERS_H

#include "postmaster/bgworker.h"

/*
 * A registration record for one of pg_prom's workers, connected to a
 * database: function is the entry point in pg_prom.so, type its
 * backend_type, restart_s BGW_NEVER_RESTART for the short-lived ones,
 * notify_pid the process to tell about its start and stop (0: none).
 */
extern void pgprom_worker_record(BackgroundWorker *worker, const char *function,
								 const char *name, const char *type,
								 int restart_s, pid_t notify_pid, Datum arg);

/*
 * After connecting: no role but the one connected as (a database's
 * default role setting is undone), the application name, search_path = pg_catalog,
 * pg_temp, pg_stat_statements not tracking pg_prom's own queries, and a
 * lock_timeout (0: leave it), so that nothing the worker runs resolves a
 * name through a user's schema or queues behind a lock for long.
 */
extern void pgprom_worker_session(const char *appname, int lock_timeout_ms);

/*
 * When the current user is a superuser, become pg_monitor in a
 * security-restricted operation (no reading pg_prom does needs more);
 * otherwise stay as is.  Put back with SetUserIdAndSecContext(*saved_userid,
 * *saved_sec_context).
 */
extern void pgprom_become_monitor(Oid *saved_userid, int *saved_sec_context);

/* The role pg_prom's workers connect as: pg_prom.role, or the bootstrap
 * superuser (InvalidOid).  Needs a transaction when pg_prom.role is set. */
extern Oid	pgprom_worker_role(void);

#endif							/* PG_PROM_WORKERS_H */
