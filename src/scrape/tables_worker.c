/*-------------------------------------------------------------------------
 *
 * tables_worker.c
 *		A per-database worker: the relation catalog (names and sizes) of
 *		one database other than pg_prom.database, for the collector
 *		(tables.c).
 *
 * Started by the collector's scheduler, one at a time, with a dynamic
 * shared memory segment (TablesJob) naming the database and the role to
 * connect as (pg_prom.role).  It connects, runs pgprom_relcat_read() under
 * a statement timeout and pg_prom.lock_timeout (connecting too: a
 * database being renamed is skipped, not waited for), copies the catalog into
 * the segment (or, when it does not fit, says how many bytes it needs),
 * and exits: it holds its database for tens of milliseconds, so DROP
 * DATABASE and its kin never wait for it for long.  The numbers of the
 * tables are not its business: they are in the shared statistics.
 *
 * Invariants: it runs pg_prom's own catalog queries only, with
 * search_path = pg_catalog, pg_temp (pgprom_worker_session()), as
 * pg_monitor in a security-restricted operation when connected as a
 * superuser (as the collector renders); it commits nothing and sets the
 * segment's status last, after a write barrier.  Any error ends the
 * process (logged); the collector then skips the database this round.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "backend/hooks.h"
#include "guc.h"
#include "scrape/tables.h"
#include "workers.h"

/* Statement timeout inside a per-database worker. */
#define JOB_STATEMENT_TIMEOUT_MS 20000
/* Longest wait for the database's lock when pg_prom.lock_timeout is 0. */
#define CONNECT_LOCK_TIMEOUT_MS 1000

/* Says which database an error of the worker concerns. */
static void
job_context(void *arg)
{
	errcontext("pg_prom per-database worker reading the relation names of database %u",
			   *(Oid *) arg);
}

/*
 * pg_prom.test_catalog_handoff_delay: wait between the read and the
 * hand-over (interruptible, holding no relation lock: relcat.c releases
 * each as it goes), so that a test can drop a table in between.
 */
static void
test_handoff_delay(void)
{
	int			waited;

	if (pgprom_test_catalog_handoff_delay_ms <= 0)
		return;
	pgstat_report_activity(STATE_RUNNING, "pg_prom: test delay before the hand-over");
	for (waited = 0; waited < pgprom_test_catalog_handoff_delay_ms; waited += 100)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(100 * 1000L);
	}
}

void
pgprom_tables_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	TablesJob  *job;
	StringInfoData buf;
	Oid			save_userid;
	int			save_sec_context;
	char		timeout[32];
	Oid			dboid;
	ErrorContextCallback context;

	pgprom_in_own_process = true;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_prom tables");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_prom: could not attach the per-database segment")));
	job = dsm_segment_address(seg);
	dboid = job->dboid;
	context.callback = job_context;
	context.arg = &dboid;
	context.previous = error_context_stack;
	error_context_stack = &context;

	/*
	 * Connecting waits for the database's lock, which ALTER DATABASE RENAME
	 * holds to the end of its transaction: give up after lock_timeout (the
	 * collector tries again later) rather than keep the one job slot, and
	 * with it every other database, waiting.  (Not a session setting: there
	 * is no user yet to make it as; pgprom_worker_session() sets it again
	 * once connected.)
	 */
	snprintf(timeout, sizeof(timeout), "%d",
			 job->lock_timeout_ms > 0 ? job->lock_timeout_ms : CONNECT_LOCK_TIMEOUT_MS);
	SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
	BackgroundWorkerInitializeConnectionByOid(job->dboid, job->roleoid, 0);
	pgprom_worker_session("pg_prom tables", job->lock_timeout_ms);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_prom: reading the relation catalog");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_prom: SPI_connect failed");
	enable_timeout_after(STATEMENT_TIMEOUT, JOB_STATEMENT_TIMEOUT_MS);

	/* no reading needs more than pg_monitor */
	pgprom_become_monitor(&save_userid, &save_sec_context);
	initStringInfo(&buf);
	pgprom_relcat_read(&buf, true);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	test_handoff_delay();

	/* hand it over now: buf lives in SPI's memory, gone at SPI_finish() */
	if ((uint32) buf.len <= job->capacity)
	{
		memcpy(job->data, buf.data, buf.len);
		job->len = buf.len;
		pg_write_barrier();
		job->status = JOB_DONE;
	}
	else
	{
		job->needed = buf.len;
		pg_write_barrier();
		job->status = JOB_TOO_SMALL;
	}

	disable_timeout(STATEMENT_TIMEOUT, false);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);


	dsm_detach(seg);
	proc_exit(0);
}
