/*-------------------------------------------------------------------------
 *
 * custom_worker.c
 *		Custom queries run in a short-lived worker of their own.
 *
 * A custom query is SQL a user wrote.  The renderer (the collector worker,
 * or the backend of a pg_prom_metrics() caller) never runs it in its own
 * session: it starts a custom-query worker, hands it the definitions in a
 * dynamic shared memory segment, and reads the outcome of each query back
 * over a queue in the same segment (stream.c).  The worker connects to the
 * renderer's database, runs each query on its own (custom.c: as
 * pg_prom.custom_query_role, read-only, in a subtransaction, under
 * pg_prom.custom_query_timeout), sends its families, and exits without
 * committing anything.  So a query leaves nothing in any session that
 * lives on: settings, advisory locks, LISTEN, prepared statements all end
 * with the worker.
 *
 * A query that outlives its timeout (it caught the cancel, or loops) is
 * stopped from outside: once it has run pg_prom.custom_query_timeout plus
 * a grace period, the renderer terminates the worker, reports that query
 * as failed and starts a new worker for the queries after it, as long as
 * the scrape's budget lasts.  The renderer never waits past that budget.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "backend/hooks.h"
#include "guc.h"
#include "scrape/custom.h"
#include "scrape/custom_worker.h"
#include "scrape/stream.h"
#include "workers.h"

/* Time a query may run past its timeout before its worker is terminated. */
#define STOP_GRACE_MS 500

/* The segment's fixed part; definitions and the queue follow. */
typedef struct CustomJob
{
	Oid			dboid;
	Oid			connect_role;	/* InvalidOid: the bootstrap superuser */
	Oid			query_role;		/* pg_prom.custom_query_role */
	int			timeout_ms;
	int			max_rows;
	int			lock_timeout_ms;
	int			nqueries;
	Size		defs_len;
	Size		mq_offset;
	char		defs[FLEXIBLE_ARRAY_MEMBER];
} CustomJob;

/*---- definitions in the segment ----*/

static void
put_string(StringInfo buf, const char *s)
{
	appendBinaryStringInfo(buf, s, strlen(s) + 1);
}

static void
encode_queries(StringInfo buf, List *queries)
{
	ListCell   *lc;
	int			i;

	foreach(lc, queries)
	{
		CustomQuery *q = lfirst(lc);

		put_string(buf, q->name);
		put_string(buf, q->query);
		put_string(buf, q->help);
		appendStringInfoChar(buf, q->counter ? 1 : 0);
		appendStringInfoChar(buf, (char) q->nlabels);
		for (i = 0; i < q->nlabels; i++)
			put_string(buf, q->labels[i]);
		appendStringInfoChar(buf, (char) q->nvalues);
		for (i = 0; i < q->nvalues; i++)
			put_string(buf, q->values[i]);
	}
}

/* Read a string at *p (written by encode_queries, so terminated in end). */
static char *
get_string(const char **p, const char *end)
{
	const char *s = *p;
	const char *nul = memchr(s, '\0', end - s);

	if (nul == NULL)
		elog(ERROR, "pg_prom: malformed custom query definitions");
	*p = nul + 1;
	return pstrdup(s);
}

static int
get_byte(const char **p, const char *end)
{
	if (*p >= end)
		elog(ERROR, "pg_prom: malformed custom query definitions");
	return (unsigned char) *(*p)++;
}

static List *
decode_queries(const CustomJob *job)
{
	const char *p = job->defs;
	const char *end = job->defs + job->defs_len;
	List	   *result = NIL;
	int			n;
	int			i;

	for (n = 0; n < job->nqueries; n++)
	{
		CustomQuery *q = palloc0(sizeof(CustomQuery));

		q->name = get_string(&p, end);
		q->query = get_string(&p, end);
		q->help = get_string(&p, end);
		q->counter = get_byte(&p, end) != 0;
		q->nlabels = get_byte(&p, end);
		q->nlabels = Min(q->nlabels, CUSTOM_MAX_LABELS);
		q->labels = palloc(sizeof(char *) * Max(q->nlabels, 1));
		for (i = 0; i < q->nlabels; i++)
			q->labels[i] = get_string(&p, end);
		q->nvalues = get_byte(&p, end);
		q->nvalues = Min(q->nvalues, CUSTOM_MAX_VALUES);
		q->values = palloc(sizeof(char *) * Max(q->nvalues, 1));
		for (i = 0; i < q->nvalues; i++)
			q->values[i] = get_string(&p, end);
		snprintf(q->label, sizeof(q->label), "custom:%s", q->name);
		result = lappend(result, q);
	}
	return result;
}

/*---- the worker ----*/

/*
 * Run one query in a subtransaction under its timeout; report it to the
 * sink.  Session-level advisory locks it took are released right away.
 */
static void
run_one(ScrapeSink *sink, CustomJob *job, CustomQuery *q)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	MemoryContext cxt = AllocSetContextCreate(oldcxt, "pg_prom custom query",
											  ALLOCSET_DEFAULT_SIZES);
	ScrapeResult result;
	StringInfoData out;
	PromWriter *w;
	PromMark	start = {0, 0}; /* the families since the writer began */
	char	   *message = NULL;
	instr_time	t0,
				t1;

	memset(&result, 0, sizeof(result));
	strlcpy(result.label, q->label, sizeof(result.label));
	sink->unit_start(sink, q->label, true);
	INSTR_TIME_SET_CURRENT(t0);

	MemoryContextSwitchTo(cxt);
	initStringInfo(&out);
	w = pgprom_expo_create(&out);
	pgprom_scrape_set_unit(&result);
	PushActiveSnapshot(GetTransactionSnapshot());
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		enable_timeout_after(STATEMENT_TIMEOUT, Max(job->timeout_ms, 1));
		pgprom_custom_query_write(w, q, job->query_role, job->max_rows);
		disable_timeout(STATEMENT_TIMEOUT, false);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = oldowner;
		result.success = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		disable_timeout(STATEMENT_TIMEOUT, false);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = oldowner;
		message = edata->message;
	}
	PG_END_TRY();
	PopActiveSnapshot();
	pgprom_scrape_set_unit(NULL);
	QueryCancelPending = false;
	/* nothing the query did with locks outlives it */
	LockReleaseAll(USER_LOCKMETHOD, true);

	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	result.seconds = INSTR_TIME_GET_DOUBLE(t1);
	if (result.success)
		sink->unit_text(sink, out.data, out.len,
						pgprom_expo_families_since(w, start));
	sink->unit_result(sink, &result, message);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
}

void
pgprom_custom_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	CustomJob  *job;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	StreamSink	sink;
	List	   *queries;
	ListCell   *lc;

	pgprom_in_own_process = true;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_prom custom queries");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		proc_exit(0);			/* the renderer gave up already */
	job = dsm_segment_address(seg);
	mq = (shm_mq *) ((char *) job + job->mq_offset);
	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	pgprom_stream_sink_init(&sink, mqh, NULL);

	BackgroundWorkerInitializeConnectionByOid(job->dboid, job->connect_role, 0);
	pgprom_worker_session("pg_prom custom queries", job->lock_timeout_ms);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "pg_prom: custom queries");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_prom: SPI_connect failed");
	queries = decode_queries(job);
	foreach(lc, queries)
	{
		run_one(&sink.sink, job, lfirst(lc));
		if (sink.detached)
			break;				/* nobody reads any more */
	}
	sink.sink.done(&sink.sink);
	SPI_finish();
	/* nothing a query did is committed, LISTEN included */
	AbortCurrentTransaction();
	pgstat_report_activity(STATE_IDLE, NULL);
	dsm_detach(seg);
	proc_exit(0);
}

/*---- the renderer's side ----*/

static void run_queries(List *queries, List *outcomes, Oid query_role,
						TimestampTz deadline);

/* Why q's registrant may not have it run as query_role now, or NULL. */
static const char *
registrant_problem(const CustomQuery *q, Oid query_role)
{
	Oid			roleid = q->registrant ? get_role_oid(q->registrant, true) : InvalidOid;

	if (!OidIsValid(roleid))
		return psprintf("its registrant, role \"%s\", no longer exists",
						q->registrant ? q->registrant : "");
	if (!superuser_arg(roleid) && !has_privs_of_role(roleid, query_role))
		return psprintf("its registrant, role \"%s\", no longer has the privileges of pg_prom.custom_query_role",
						q->registrant);
	return NULL;
}

/* One query's outcome on the renderer's side. */
static CustomOutcome *
outcome_for(CustomQuery *q)
{
	CustomOutcome *o = palloc0(sizeof(CustomOutcome));

	o->query = q;
	strlcpy(o->result.label, q->label, sizeof(o->result.label));
	return o;
}

static void
fail(CustomOutcome *o, const char *message)
{
	o->result.success = false;
	o->message = pstrdup(message);
	o->text = NULL;
	o->len = 0;
	o->families = NIL;
}

/* Start a worker for queries; NULL (and *why) when none could start. */
static BackgroundWorkerHandle *
start_worker(List *queries, Oid query_role, dsm_segment **segp,
			 shm_mq_handle **mqhp, const char **why)
{
	StringInfoData defs;
	Size		size;
	Size		mq_offset;
	dsm_segment *seg;
	CustomJob  *job;
	shm_mq	   *mq;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	initStringInfo(&defs);
	encode_queries(&defs, queries);
	mq_offset = MAXALIGN(offsetof(CustomJob, defs) + defs.len);
	size = mq_offset + PGPROM_STREAM_QUEUE_SIZE;

	seg = dsm_create(size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
	{
		*why = "no dynamic shared memory segment was left for the custom-query worker";
		return NULL;
	}
	job = dsm_segment_address(seg);
	job->dboid = MyDatabaseId;
	job->connect_role = pgprom_worker_role();
	job->query_role = query_role;
	job->timeout_ms = pgprom_custom_query_timeout_ms;
	job->max_rows = pgprom_custom_query_max_rows;
	job->lock_timeout_ms = pgprom_lock_timeout_ms;
	job->nqueries = list_length(queries);
	job->defs_len = defs.len;
	job->mq_offset = mq_offset;
	memcpy(job->defs, defs.data, defs.len);
	mq = shm_mq_create((char *) job + mq_offset, PGPROM_STREAM_QUEUE_SIZE);
	shm_mq_set_receiver(mq, MyProc);

	pgprom_worker_record(&worker, "pgprom_custom_worker_main",
						 "pg_prom custom queries", "pg_prom custom queries",
						 BGW_NEVER_RESTART, MyProcPid,
						 UInt32GetDatum(dsm_segment_handle(seg)));
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		dsm_detach(seg);
		*why = "no background worker slot was free for the custom-query worker (raise max_worker_processes)";
		return NULL;
	}
	*segp = seg;
	*mqhp = shm_mq_attach(mq, seg, handle);
	return handle;
}

/*
 * Run queries in custom-query workers and return one outcome per query, in
 * order.  Never waits past deadline; a query running past its timeout plus
 * STOP_GRACE_MS has its worker terminated, and the queries after it run in
 * a new one.  Runs in the renderer, inside a transaction (the definitions
 * were read in it), with SPI connected or not.
 */
List *
pgprom_custom_run(List *queries, TimestampTz deadline)
{
	List	   *outcomes = NIL;
	int			n = list_length(queries);
	int			i;
	Oid			query_role = InvalidOid;
	const char *problem = pgprom_custom_role_problem(&query_role);
	List	   *allowed = NIL;
	List	   *allowed_outcomes = NIL;

	for (i = 0; i < n; i++)
		outcomes = lappend(outcomes, outcome_for(list_nth(queries, i)));
	if (problem != NULL)
	{
		/* each query fails, with the reason, and nothing runs */
		for (i = 0; i < n; i++)
			fail(list_nth(outcomes, i), problem);
		return outcomes;
	}

	/* a query runs only while its registrant may have it run */
	for (i = 0; i < n; i++)
	{
		CustomQuery *q = list_nth(queries, i);
		const char *why = registrant_problem(q, query_role);

		if (why)
			fail(list_nth(outcomes, i), why);
		else
		{
			allowed = lappend(allowed, q);
			allowed_outcomes = lappend(allowed_outcomes, list_nth(outcomes, i));
		}
	}
	run_queries(allowed, allowed_outcomes, query_role, deadline);
	return outcomes;
}

/*
 * Run queries in workers, filling in their outcomes (in order); never past
 * deadline.
 */
static void
run_queries(List *queries, List *outcomes, Oid query_role, TimestampTz deadline)
{
	int			n = list_length(queries);
	volatile int next = 0;		/* first query not run yet */
	int			i;

	while (next < n && GetCurrentTimestamp() < deadline)
	{
		List	   *batch = list_copy_tail(queries, next);
		dsm_segment *seg = NULL;
		shm_mq_handle *mqh = NULL;
		const char *why = NULL;
		BackgroundWorkerHandle *handle = start_worker(batch, query_role, &seg, &mqh, &why);
		volatile int running = -1;	/* index of the query that started */
		volatile TimestampTz started = 0;
		volatile bool done = false;
		StringInfoData text;
		List	   *families = NIL;

		if (handle == NULL)
		{
			for (i = next; i < n; i++)
				fail(list_nth(outcomes, i), why);
			return;
		}

		initStringInfo(&text);
		PG_TRY();
		{
			for (;;)
			{
				Size		len;
				void	   *data;
				shm_mq_result r = shm_mq_receive(mqh, &len, &data, true);
				TimestampTz now;
				TimestampTz stop_at;
				StreamMsg	msg;

				if (r == SHM_MQ_SUCCESS)
				{
					CustomOutcome *o;

					if (!pgprom_stream_decode(data, len, &msg))
						elog(ERROR, "pg_prom: malformed message from the custom-query worker");
					switch (msg.kind)
					{
						case STREAM_START:
							running = next;
							started = GetCurrentTimestamp();
							resetStringInfo(&text);
							families = NIL;
							break;
						case STREAM_FAMILIES:
							families = pgprom_stream_families(&msg);
							break;
						case STREAM_TEXT:
							appendBinaryStringInfo(&text, msg.data, msg.len);
							break;
						case STREAM_RESULT:
							if (running != next)
								elog(ERROR, "pg_prom: custom-query worker out of step");
							o = list_nth(outcomes, next);
							o->result = msg.result;
							if (msg.result.success)
							{
								o->text = pnstrdup(text.data, text.len);
								o->len = text.len;

								o->families = families;
							}
							else
								o->message = pstrdup(msg.message ? msg.message : "failed");
							running = -1;
							next++;
							break;
						case STREAM_DONE:
							done = true;
							break;
						case STREAM_ERROR:
							elog(ERROR, "pg_prom: custom-query worker: %s", msg.message);
							break;
					}
					if (done)
						break;
					continue;
				}
				if (r == SHM_MQ_DETACHED)
				{
					/* the worker exited early: a query made it die */
					if (next < n)
						fail(list_nth(outcomes, next),
							 running == next ?
							 "the custom-query worker exited while running it (see the server log)" :
							 "the custom-query worker exited before running it (see the server log)");
					next++;
					break;
				}

				/* nothing yet: wait, but not past a deadline */
				now = GetCurrentTimestamp();
				stop_at = deadline;
				if (running >= 0)
					stop_at = Min(stop_at,
								  TimestampTzPlusMilliseconds(started,
															  pgprom_custom_query_timeout_ms + STOP_GRACE_MS));
				if (now >= stop_at)
				{
					TerminateBackgroundWorker(handle);
					if (running >= 0)
					{
						fail(list_nth(outcomes, running),
							 now >= deadline ?
							 "stopped: pg_prom.scrape_timeout was used up" :
							 "still running past pg_prom.custom_query_timeout: its worker was terminated");
						next = running + 1;
					}
					break;
				}
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 Max(1, TimestampDifferenceMilliseconds(now, stop_at)),
								 PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
		}
		PG_CATCH();
		{
			TerminateBackgroundWorker(handle);
			PG_RE_THROW();
		}
		PG_END_TRY();

		shm_mq_detach(mqh);
		dsm_detach(seg);
		pfree(handle);
		if (done)
			break;
	}

	/* what the scrape's budget did not leave time for */
	for (i = next; i < n; i++)
	{
		CustomOutcome *o = list_nth(outcomes, i);

		if (!o->result.success && o->message == NULL)
			fail(o, "skipped: pg_prom.scrape_timeout was used up");
	}
}
