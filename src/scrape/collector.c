/*-------------------------------------------------------------------------
 *
 * collector.c
 *		The collector worker: the process that renders for the endpoint.
 *
 * Started (and restarted) by the endpoint, connected to pg_prom.database
 * as pg_prom.role.  It waits on its latch; when the endpoint publishes a
 * collection (a segment with the collectors wanted and a queue,
 * shmem.h), it renders in a transaction of its own and streams each
 * unit's text and outcome into the queue as the unit ends (stream.c), so
 * that whatever finished is with the endpoint even if this process is
 * terminated half-way.  Between collections it runs the scheduler of the
 * per-database workers (tables.c).
 *
 * It lives as long as the endpoint: when the endpoint is gone, or the
 * postmaster, it exits.  Its caches (slow collectors, custom queries with
 * a min_interval, prepared plans) live as long as it does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/wait_event.h"

#include "backend/hooks.h"
#include "guc.h"
#include "scrape/collector.h"
#include "scrape/render.h"
#include "scrape/stream.h"
#include "scrape/tables.h"
#include "shmem.h"
#include "txn.h"
#include "workers.h"

/* One collection to render and where its units go. */
typedef struct Job
{
	uint64		mask;
	ScrapeSink *sink;
} Job;

static void collector_exit(int code, Datum arg);
static void serve(dsm_handle handle, int slot);

void
pgprom_collector_main(Datum main_arg)
{
	uint32		last_seq = 0;

	pgprom_in_own_process = true;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (pgprom_shared == NULL)
		proc_exit(0);
	pg_atomic_fetch_add_u32(&pgprom_shared->connect_failures, 1);
	BackgroundWorkerInitializeConnection(pgprom_database,
										 pgprom_role[0] ? pgprom_role : NULL,
										 0);
	pg_atomic_write_u32(&pgprom_shared->connect_failures, 0);
	pgprom_worker_session("pg_prom collector", 0);
	/* the shared statistics read fresh, never kept in a snapshot */
	SetConfigOption("stats_fetch_consistency", "none", PGC_USERSET, PGC_S_SESSION);
	pgprom_tables_collector_init();

	/* ready: the endpoint may hand us collections */
	before_shmem_exit(collector_exit, (Datum) 0);
	SpinLockAcquire(&pgprom_shared->mutex);
	last_seq = pgprom_shared->collect_seq;
	pgprom_shared->collector_pid = MyProcPid;
	pgprom_shared->collector_latch = MyLatch;
	SpinLockRelease(&pgprom_shared->mutex);
	{
		uint32		endpoint = pg_atomic_read_u32(&pgprom_shared->worker_pid);

		/* the endpoint waits for us before its first collection */
		if (endpoint != 0)
		{
			PGPROC	   *proc = BackendPidGetProc((int) endpoint);

			if (proc)
				SetLatch(&proc->procLatch);
		}
	}

	for (;;)
	{
		dsm_handle	handle = DSM_HANDLE_INVALID;
		int			slot = 0;
		uint32		seq;
		long		timeout = pgprom_tables_wakeup_ms();

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout < 0 || timeout > 1000 ? 1000 : timeout,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		/* the endpoint started us and reads what we render: without it, stop */
		if (pg_atomic_read_u32(&pgprom_shared->worker_pid) == 0)
			proc_exit(0);

		SpinLockAcquire(&pgprom_shared->mutex);
		seq = pgprom_shared->collect_seq;
		if (seq != last_seq)
		{
			handle = pgprom_shared->collect_handle;
			slot = pgprom_shared->collect_slot;
		}
		SpinLockRelease(&pgprom_shared->mutex);
		if (seq != last_seq)
		{
			last_seq = seq;
			serve(handle, slot);
		}

		pgprom_tables_tick();
	}
}

static void
collector_exit(int code, Datum arg)
{
	SpinLockAcquire(&pgprom_shared->mutex);
	if (pgprom_shared->collector_pid == MyProcPid)
	{
		pgprom_shared->collector_pid = 0;
		pgprom_shared->collector_latch = NULL;
	}
	SpinLockRelease(&pgprom_shared->mutex);
}

/*
 * The buffer units are written into, kept between collections: made anew,
 * a unit of tens of MB (per-table families) costs a page fault per 4 kB at
 * every scrape.  Let go when a collection needed more than SCRATCH_KEEP.
 */
#define SCRATCH_KEEP (256 * 1024 * 1024)

static void
render_job(void *arg)
{
	Job		   *job = (Job *) arg;
	static StringInfoData scratch;

	if (scratch.data == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&scratch);
		MemoryContextSwitchTo(old);
	}
	resetStringInfo(&scratch);
	pgprom_render(&scratch, job->mask, job->sink);
	if (scratch.maxlen > SCRATCH_KEEP)
	{
		pfree(scratch.data);
		scratch.data = NULL;
	}
}

/*
 * Render one collection into its queue, in slot of the endpoint's channel.
 * The channel stays mapped between collections; a new handle means the
 * endpoint made a new channel (the old one is let go).
 */
static void
serve(dsm_handle handle, int slot)
{
	static dsm_segment *channel = NULL;
	static dsm_handle channel_handle = DSM_HANDLE_INVALID;
	CollectRequest *req;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	StreamSink	sink;
	Job			job;

	if (slot < 0 || slot >= PGPROM_COLLECT_SLOTS)
		return;
	if (channel != NULL && channel_handle != handle)
	{
		dsm_detach(channel);
		channel = NULL;
	}
	if (channel == NULL)
	{
		ResourceOwner oldowner = CurrentResourceOwner;

		CurrentResourceOwner = NULL;	/* mapped until the next channel */
		channel = dsm_attach(handle);
		CurrentResourceOwner = oldowner;
		if (channel == NULL)
			return;				/* the endpoint gave up on it already */
		channel_handle = handle;
	}
	req = PGPROM_COLLECT_SLOT(dsm_segment_address(channel), slot);
	mq = (shm_mq *) ((char *) req + PGPROM_COLLECT_QUEUE_OFFSET);
	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, channel, NULL);
	pgprom_stream_sink_init(&sink, mqh, req);

	job.mask = req->mask;
	job.sink = &sink.sink;
	if (!pgprom_in_transaction("pg_prom scrape", render_job, &job))
		(void) pgprom_stream_send_error(mqh, "the scrape failed; see the server log");

	shm_mq_detach(mqh);
}
