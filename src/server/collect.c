/*-------------------------------------------------------------------------
 *
 * collect.c
 *		The endpoint's side of collections.
 *
 * The endpoint never renders: it asks the collector worker (a process
 * connected to pg_prom.database, started and restarted from here) for a
 * collection and reads it back unit by unit over a queue in a dynamic
 * shared memory segment made once and kept, the channel (its slots and
 * when one may be reused: stream.h).  All of it happens from the event
 * loop without blocking: the queue is read with nowait, and the
 * collector's sends wake the endpoint's latch.
 *
 * Sharing: clients asking for the same collectors while a collection for
 * them runs or waits get that collection; with pg_prom.min_scrape_interval
 * a finished one is served again while it is that young.  One collection
 * runs at a time (there is one collector); others wait in a queue.
 *
 * Stopping: a collection still running pg_prom.scrape_timeout plus a grace
 * second after it started has its collector terminated.  Clients then get
 * what had arrived, with pg_scrape_collector_success 0 for every unit that
 * did not finish, and the next collection starts a new collector.
 *
 * The collector's own failures to start (a dropped role, a role without
 * LOGIN) back off from 5 s doubling to 5 minutes, with a log line per
 * attempt; meanwhile metrics requests are answered 503 with the reason and
 * /ready says not ready.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zlib.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "scrape/collectors/collectors.h"
#include "scrape/collector.h"
#include "scrape/openmetrics.h"
#include "scrape/render.h"
#include "scrape/stream.h"
#include "server/collect.h"
#include "server/protobuf.h"
#include "shmem.h"
#include "workers.h"

/* How long a collection may run past pg_prom.scrape_timeout. */
#define STOP_GRACE_MS 1000
/* Longest wait between starts of a collector that fails to connect. */
#define MAX_BACKOFF_S 300
/* Smaller bodies are not worth compressing. */
#define GZIP_MIN_BYTES 1024
/* Finished collections kept for pg_prom.min_scrape_interval. */
#define MAX_RECENT 4

/* Response bodies a collection is sent in. */
typedef enum BodyFormat
{
	BODY_TEXT,
	BODY_OPENMETRICS,
	BODY_TEXT_GZIP,
	BODY_OPENMETRICS_GZIP,
	BODY_PROTOBUF,
	BODY_PROTOBUF_GZIP,
	NUM_BODY_FORMATS
} BodyFormat;

struct Collection
{
	MemoryContext cxt;			/* everything below */
	uint64		mask;
	int			refs;			/* clients, plus the queue, current or recent */
	bool		started;
	bool		done;
	int			status;			/* 0 when there is a body to send */
	char	   *why;			/* else what to tell the client */
	TimestampTz queued;
	TimestampTz waited_from;	/* first in line without a collector */
	TimestampTz started_at;
	TimestampTz finished_at;
	StringInfoData text;		/* the units' text, then the whole body */
	int			text_done;		/* its length at the last unit's outcome */
	bool		text_kept;		/* text.data is in collect_cxt (presized) */
	List	   *results;		/* ScrapeResult *, in unit order */
	char		running[PGPROM_LABEL_MAX];	/* started, not finished */
	bool		clean;			/* the collector sent its last message */
	shm_mq_handle *mqh;
	CollectRequest *req;		/* in the channel, while mqh is set */
	StringInfo	bodies[NUM_BODY_FORMATS];	/* made on first use */
};

static MemoryContext collect_cxt = NULL;
static Collection *current = NULL;	/* running */
static List *queue = NIL;		/* Collection *, waiting to run */
static List *recent = NIL;		/* Collection *, finished, newest first */

static BackgroundWorkerHandle *collector = NULL;
static TimestampTz collector_next_start = 0;

/*
 * A collector that was terminated and did not stop (stuck where interrupts
 * are held): left to end on its own while a new one serves.  One at most:
 * while it lives, the next collector to get stuck is waited for instead of
 * left too, so stuck collectors never take more than two worker slots.
 */
static BackgroundWorkerHandle *abandoned = NULL;

/* Whether the abandoned collector still runs (forgotten once it ended). */
static bool
abandoned_alive(void)
{
	pid_t		pid;

	if (abandoned == NULL)
		return false;
	if (GetBackgroundWorkerPid(abandoned, &pid) == BGWH_STARTED)
		return true;
	pfree(abandoned);
	abandoned = NULL;
	return false;
}

/*
 * The text sizes of the last collections, by mask: the next collection of
 * a mask gets its buffer at once instead of doubling its way up (each
 * doubling copies everything so far: tens of MB with many tables).
 */
#define SIZE_HINTS 4
static struct
{
	uint64		mask;
	Size		len;
}			size_hints[SIZE_HINTS];
static int	size_hint_next = 0;

/*
 * The buffer of a released presized text, kept (in collect_cxt) for the
 * next one: a buffer of tens of MB made anew costs a page fault per 4 kB at
 * every scrape, more than the copy into it.  One is kept, the largest.
 */
static char *spare_text = NULL;
static Size spare_len = 0;

/* The channel segment (NULL: make one at the next collection), its next slot. */
static dsm_segment *channel = NULL;
static int	channel_slot = 0;

static void finish(Collection *c, const char *stopped_why);

/*---- the collector worker ----*/

/* Start the collector worker unless it runs or is backing off. */
static void
ensure_collector(void)
{
	BackgroundWorker worker;
	TimestampTz now = GetCurrentTimestamp();
	uint32		failures;

	if (collector != NULL)
	{
		pid_t		pid;
		BgwHandleStatus st = GetBackgroundWorkerPid(collector, &pid);

		if (st == BGWH_STARTED || st == BGWH_NOT_YET_STARTED)
			return;
		if (st == BGWH_POSTMASTER_DIED)
			proc_exit(1);

		/*
		 * The running collection's queue refers to this handle (to notice a
		 * collector that never attached): it is read to its end first, by
		 * pgprom_collect_poll(), and the handle freed after.
		 */
		if (current != NULL && current->mqh != NULL)
			return;
		pfree(collector);
		collector = NULL;

		/* it stopped: back off when it could not even connect */
		failures = pgprom_shared ? pg_atomic_read_u32(&pgprom_shared->connect_failures) : 0;
		if (failures > 0)
		{
			long		delay_s = Min(MAX_BACKOFF_S, 5L << Min(failures - 1, 6));

			collector_next_start = TimestampTzPlusMilliseconds(now, delay_s * 1000);
			ereport(LOG,
					(errmsg("pg_prom: the collector could not connect to database \"%s\" as %s%s%s the last %u time(s); retrying in %ld s",
							pgprom_database,
							pgprom_role[0] ? "role \"" : "the bootstrap superuser",
							pgprom_role[0] ? pgprom_role : "",
							pgprom_role[0] ? "\"" : "",
							failures, delay_s),
					 errhint("Check pg_prom.database and pg_prom.role: the role needs LOGIN and pg_monitor (see the error above).")));
		}
	}
	if (now < collector_next_start)
		return;

	pgprom_worker_record(&worker, "pgprom_collector_main",
						 "pg_prom collector", "pg_prom collector",
						 BGW_NEVER_RESTART, MyProcPid, (Datum) 0);
	if (!RegisterDynamicBackgroundWorker(&worker, &collector))
	{
		collector = NULL;
		collector_next_start = TimestampTzPlusMilliseconds(now, 5000);
		ereport(LOG,
				(errmsg("pg_prom: no background worker slot free for the collector"),
				 errhint("Raise max_worker_processes; trying again in 5 seconds.")));
	}
}

bool
pgprom_collector_ready(void)
{
	bool		ready;

	if (pgprom_shared == NULL)
		return false;
	SpinLockAcquire(&pgprom_shared->mutex);
	ready = pgprom_shared->collector_latch != NULL;
	SpinLockRelease(&pgprom_shared->mutex);
	return ready;
}

void
pgprom_collect_shutdown(void)
{
	if (collector)
		TerminateBackgroundWorker(collector);
	if (abandoned)
		TerminateBackgroundWorker(abandoned);
}

/*---- collections ----*/

static Collection *
new_collection(uint64 mask)
{
	MemoryContext cxt;
	Collection *c;

	if (collect_cxt == NULL)
		collect_cxt = AllocSetContextCreate(TopMemoryContext, "pg_prom collections",
											ALLOCSET_DEFAULT_SIZES);
	cxt = AllocSetContextCreate(collect_cxt, "pg_prom collection",
								ALLOCSET_DEFAULT_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(Collection));
	c->cxt = cxt;
	c->mask = mask;
	c->queued = GetCurrentTimestamp();
	c->text.data = MemoryContextAlloc(cxt, 1024);
	c->text.maxlen = 1024;
	c->text.len = 0;
	c->text.data[0] = '\0';
	return c;
}

Collection *
pgprom_collection_get(uint64 mask)
{
	Collection *c;
	ListCell   *lc;

	if (current && current->mask == mask)
	{
		current->refs++;
		return current;
	}
	foreach(lc, queue)
	{
		c = lfirst(lc);
		if (c->mask == mask)
		{
			c->refs++;
			return c;
		}
	}
	if (pgprom_min_scrape_interval_ms > 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		foreach(lc, recent)
		{
			c = lfirst(lc);
			if (c->mask == mask && c->status == 0 &&
				!TimestampDifferenceExceeds(c->started_at, now,
											pgprom_min_scrape_interval_ms))
			{
				c->refs++;
				return c;
			}
		}
	}
	c = new_collection(mask);
	c->refs = 2;				/* the client's and the queue's */
	{
		MemoryContext old = MemoryContextSwitchTo(collect_cxt);

		queue = lappend(queue, c);
		MemoryContextSwitchTo(old);
	}
	return c;
}

void
pgprom_collection_release(Collection *c)
{
	Assert(c->refs > 0);
	if (--c->refs == 0)
	{
		if (c->text_kept)
		{
			if (spare_text == NULL || (Size) c->text.maxlen > spare_len)
			{
				if (spare_text)
					pfree(spare_text);
				spare_text = c->text.data;
				spare_len = c->text.maxlen;
			}
			else
				pfree(c->text.data);
		}
		MemoryContextDelete(c->cxt);
	}
}

bool
pgprom_collection_done(const Collection *c)
{
	return c->done;
}

static void
remember_size(uint64 mask, Size len)
{
	int			i;

	for (i = 0; i < SIZE_HINTS; i++)
		if (size_hints[i].len > 0 && size_hints[i].mask == mask)
			break;
	if (i == SIZE_HINTS)
	{
		i = size_hint_next;
		size_hint_next = (size_hint_next + 1) % SIZE_HINTS;
	}
	size_hints[i].mask = mask;
	size_hints[i].len = len;
}

/* Give c's text the room the last collection of its mask needed. */
static void
presize_text(Collection *c)
{
	Size		limit = Min((Size) pgprom_max_response_mb * 1024 * 1024,
							MaxAllocSize - 1);
	Size		want = 0;
	char	   *data;
	int			i;

	for (i = 0; i < SIZE_HINTS; i++)
		if (size_hints[i].len > 0 && size_hints[i].mask == c->mask)
			want = size_hints[i].len + size_hints[i].len / 8 + 65536;
	if (want <= (Size) c->text.maxlen)
		return;
	want = Min(want, limit);
	if (spare_text != NULL && spare_len >= want)
	{
		data = spare_text;
		want = spare_len;
		spare_text = NULL;
		spare_len = 0;
	}
	else
	{
		data = MemoryContextAllocExtended(collect_cxt, want, MCXT_ALLOC_NO_OOM);
		if (data == NULL)
			return;				/* it will grow as it goes */
	}
	memcpy(data, c->text.data, c->text.len + 1);
	pfree(c->text.data);
	c->text.data = data;
	c->text.maxlen = (int) want;
	c->text_kept = true;
}

/* Hand a queued collection to the collector. */
static void
start_collection(Collection *c)
{
	CollectRequest *req;
	shm_mq	   *mq;
	Latch	   *latch;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			slot;

	c->started = true;
	c->started_at = GetCurrentTimestamp();
	presize_text(c);
	if (channel == NULL)
	{
		CurrentResourceOwner = NULL;	/* mapped until an unclean end */
		channel = dsm_create(PGPROM_COLLECT_SLOTS * PGPROM_COLLECT_SLOT_SIZE,
							 DSM_CREATE_NULL_IF_MAXSEGMENTS);
		CurrentResourceOwner = oldowner;
		channel_slot = 0;
		if (channel == NULL)
		{
			finish(c, "no dynamic shared memory segment was free for the collection");
			c->status = 503;
			return;
		}
	}
	slot = channel_slot;
	channel_slot = (channel_slot + 1) % PGPROM_COLLECT_SLOTS;
	req = PGPROM_COLLECT_SLOT(dsm_segment_address(channel), slot);
	req->mask = c->mask;
	SpinLockInit(&req->mutex);
	req->running[0] = '\0';
	c->req = req;
	mq = shm_mq_create((char *) req + PGPROM_COLLECT_QUEUE_OFFSET, PGPROM_STREAM_QUEUE_SIZE);
	shm_mq_set_receiver(mq, MyProc);
	c->mqh = shm_mq_attach(mq, channel, collector);

	SpinLockAcquire(&pgprom_shared->mutex);
	pgprom_shared->collect_handle = dsm_segment_handle(channel);
	pgprom_shared->collect_slot = slot;
	pgprom_shared->collect_seq++;
	latch = pgprom_shared->collector_latch;
	SpinLockRelease(&pgprom_shared->mutex);
	if (latch)
		SetLatch(latch);
}

/*
 * Make room in the text for len more bytes, within the size limit; false
 * when over it or out of memory (never an error: the endpoint goes on).
 */
static bool
text_room(Collection *c, int len)
{
	Size		limit = (Size) pgprom_max_response_mb * 1024 * 1024;
	MemoryContext old = MemoryContextSwitchTo(c->cxt);
	volatile bool ok = true;

	if ((Size) c->text.len + len > limit)
		ok = false;
	else
	{
		PG_TRY();
		{
			enlargeStringInfo(&c->text, len);
		}
		PG_CATCH();
		{
			FlushErrorState();
			ok = false;
		}
		PG_END_TRY();
	}
	MemoryContextSwitchTo(old);
	return ok;
}

/* Read what the collector sent; true when the collection finished. */
static bool
read_messages(Collection *c)
{
	for (;;)
	{
		Size		len;
		void	   *data;
		shm_mq_result r = shm_mq_receive(c->mqh, &len, &data, true);
		StreamMsg	msg;

		if (r == SHM_MQ_WOULD_BLOCK)
			return false;
		if (r == SHM_MQ_DETACHED)
		{
			finish(c, "the collector exited before the collection was complete (see the server log)");
			return true;
		}
		if (!pgprom_stream_decode(data, len, &msg))
		{
			finish(c, "the collector sent a malformed message");
			return true;
		}
		switch (msg.kind)
		{
			case STREAM_START:
				strlcpy(c->running, msg.label, sizeof(c->running));
				break;
			case STREAM_FAMILIES:
				break;
			case STREAM_TEXT:
				if (!text_room(c, msg.len))
				{
					finish(c, NULL);
					c->status = 500;
					c->why = psprintf("The metrics are larger than pg_prom.max_response_size (%d MB); raise it, or leave collectors out.\n",
									  pgprom_max_response_mb);
					ereport(LOG,
							(errmsg("pg_prom: a collection was larger than pg_prom.max_response_size (%d MB) and was not sent",
									pgprom_max_response_mb)));
					return true;
				}
				appendBinaryStringInfo(&c->text, msg.data, msg.len);
				break;
			case STREAM_RESULT:
				{
					ScrapeResult *res = MemoryContextAlloc(c->cxt, sizeof(ScrapeResult));
					MemoryContext old = MemoryContextSwitchTo(c->cxt);

					*res = msg.result;
					c->results = lappend(c->results, res);
					MemoryContextSwitchTo(old);
					c->running[0] = '\0';
					c->text_done = c->text.len;
				}
				break;
			case STREAM_DONE:
				c->clean = true;
				remember_size(c->mask, c->text.len);
				finish(c, NULL);
				return true;
			case STREAM_ERROR:
				c->clean = true;
				finish(c, NULL);
				c->status = 500;
				c->why = MemoryContextStrdup(c->cxt, "The scrape failed; see the server log.\n");
				return true;
		}
	}
}

/* Whether the collection has a result for a unit of that label. */
static bool
has_result(Collection *c, const char *label)
{
	ListCell   *lc;

	foreach(lc, c->results)
		if (strcmp(((ScrapeResult *) lfirst(lc))->label, label) == 0)
		return true;
	return false;
}

static void
add_failed(Collection *c, const char *label)
{
	ScrapeResult *res = MemoryContextAllocZero(c->cxt, sizeof(ScrapeResult));
	MemoryContext old = MemoryContextSwitchTo(c->cxt);

	strlcpy(res->label, label, sizeof(res->label));
	c->results = lappend(c->results, res);
	MemoryContextSwitchTo(old);
}

/*
 * The collection is over (complete, or stopped with stopped_why): add the
 * scrape's own families, with every unit that did not finish as failed.
 */
static void
finish(Collection *c, const char *stopped_why)
{
	MemoryContext old;
	PromWriter *w;
	int			i;

	c->done = true;
	c->finished_at = GetCurrentTimestamp();
	if (c->mqh)
	{
		/* the unit running now ("" between units), whatever has arrived */
		if (!c->clean)
		{
			SpinLockAcquire(&c->req->mutex);
			strlcpy(c->running, c->req->running, sizeof(c->running));
			SpinLockRelease(&c->req->mutex);
		}
		c->req = NULL;
		shm_mq_detach(c->mqh);
		c->mqh = NULL;

		/*
		 * The collector may still write into this slot (stopped, or sending
		 * more than we take): never reuse the segment, make a new one.
		 */
		if (!c->clean && channel != NULL)
		{
			dsm_detach(channel);
			channel = NULL;
		}
	}

	if (stopped_why)
	{
		/* the text of a unit whose outcome never came: cut, maybe mid-line */
		c->text.len = c->text_done;
		c->text.data[c->text.len] = '\0';
		if (c->running[0] != '\0')
			add_failed(c, c->running);
		for (i = 0; i < pgprom_num_collectors; i++)
			if ((c->mask & (UINT64CONST(1) << i)) &&
				!has_result(c, pgprom_collectors[i].name))
				add_failed(c, pgprom_collectors[i].name);
		ereport(LOG,
				(errmsg("pg_prom: a collection ended early: %s", stopped_why),
				 errdetail("%s%s%s", c->running[0] ? "Collector \"" : "Collectors",
						   c->running[0] ? c->running : " that did not finish",
						   c->running[0] ? "\" was running; it and those after it report pg_scrape_collector_success 0." :
						   " report pg_scrape_collector_success 0.")));
	}

	old = MemoryContextSwitchTo(c->cxt);
	w = pgprom_expo_create(&c->text);
	pgprom_write_scrape_families(w, c->results,
								 (double) (c->finished_at - c->started_at) / USECS_PER_SEC);
	MemoryContextSwitchTo(old);
}

/*
 * The collection that just finished replaces older ones of the same mask
 * in the recent list; without pg_prom.min_scrape_interval nothing is kept
 * (its clients hold it while they need it).
 */
static void
keep_recent(Collection *c)
{
	ListCell   *lc;
	List	   *kept = NIL;
	uint64		mask = c->mask;
	MemoryContext old = MemoryContextSwitchTo(collect_cxt);

	/* c may be gone after this: only mask is used below */
	if (pgprom_min_scrape_interval_ms > 0)
		kept = lappend(kept, c);
	else
		pgprom_collection_release(c);
	foreach(lc, recent)
	{
		Collection *o = lfirst(lc);

		if (kept == NIL || o->mask == mask || list_length(kept) >= MAX_RECENT)
			pgprom_collection_release(o);
		else
			kept = lappend(kept, o);
	}
	list_free(recent);
	recent = kept;
	MemoryContextSwitchTo(old);
}

bool
pgprom_collect_poll(void)
{
	bool		finished = false;
	TimestampTz now;

	if (pgprom_shared == NULL)
		return false;
	now = GetCurrentTimestamp();

	if (current)
	{
		if (read_messages(current))
			finished = true;
		else if (now >= TimestampTzPlusMilliseconds(current->started_at,
													pgprom_scrape_timeout_ms + STOP_GRACE_MS))
		{
			/*
			 * It may ignore this too (stuck where interrupts are held): it is
			 * then left to end on its own (abandoned, above), and a new
			 * collector serves the next collections at once (the old one can
			 * no longer be handed any, and its exit leaves the new one's
			 * registration alone).
			 */
			if (collector)
			{
				TerminateBackgroundWorker(collector);
				if (!abandoned_alive())
				{
					abandoned = collector;
					collector = NULL;
				}
				else
					ereport(LOG,
							(errmsg("pg_prom: a collector terminated before is still running; the next collection waits for this one to stop"),
							 errhint("A collector that ignores its terminate is stuck where interrupts are held (a hung file system, a lock never released): see pg_stat_activity.")));
			}

			/*
			 * Nothing more goes to it: the next collection waits for the
			 * collector started after this one has stopped.
			 */
			SpinLockAcquire(&pgprom_shared->mutex);
			pgprom_shared->collector_latch = NULL;
			SpinLockRelease(&pgprom_shared->mutex);
			finish(current, "it was still running at pg_prom.scrape_timeout; the collector was terminated");
			finished = true;
		}
		if (finished)
		{
			keep_recent(current);
			current = NULL;
		}
	}
	ensure_collector();

	/* start the next one, or fail those that wait for a collector too long */
	while (current == NULL && queue != NIL)
	{
		Collection *c = linitial(queue);

		if (!pgprom_collector_ready())
		{
			/*
			 * its budget to wait for a collector runs from now, not from
			 * queued
			 */
			if (c->waited_from == 0)
				c->waited_from = now;
			if (now < TimestampTzPlusMilliseconds(c->waited_from, pgprom_scrape_timeout_ms) &&
				now >= collector_next_start)
				break;			/* the collector is starting: wait for it */
			queue = list_delete_first(queue);
			c->started_at = now;
			finish(c, NULL);
			c->status = 503;
			c->why = MemoryContextStrdup(c->cxt,
										 "The collector is not running; see the server log.\n");
			pgprom_collection_release(c);
			finished = true;
			continue;
		}
		queue = list_delete_first(queue);
		current = c;
		start_collection(c);
		if (c->done)
		{
			keep_recent(c);
			current = NULL;
			finished = true;
		}
	}
	return finished;
}

long
pgprom_collect_wakeup_ms(void)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz at = 0;

	if (current)
		at = TimestampTzPlusMilliseconds(current->started_at,
										 pgprom_scrape_timeout_ms + STOP_GRACE_MS);
	else if (queue != NIL)
	{
		/* the collector's start sets our latch; poll anyway */
		return 100;
	}
	else if (collector == NULL && collector_next_start > now)
		at = collector_next_start;
	else if (collector == NULL)
		return 0;
	if (at == 0)
		return -1;
	if (at <= now)
		return 0;
	return (long) ((at - now + 999) / 1000);
}

/*---- bodies ----*/

/* gzip-compress data into out (RFC 1952); false if zlib fails. */
static bool
gzip(const char *data, size_t len, StringInfo out)
{
	z_stream	z;
	int			rc;
	uLong		bound = compressBound(len) + 32;	/* + the gzip wrapper */

	/* all memory first: nothing may throw while zlib holds its own */
	enlargeStringInfo(out, (int) bound);
	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper; level 1: scrapes favour speed */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	z.next_in = (Bytef *) data;
	z.avail_in = len;
	z.next_out = (Bytef *) out->data;
	z.avail_out = out->maxlen - 1;
	rc = deflate(&z, Z_FINISH);
	out->len = (int) z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END;
}

/* The format a gzipped format compresses; any other format itself. */
static BodyFormat
gzip_base(BodyFormat format)
{
	switch (format)
	{
		case BODY_TEXT_GZIP:
			return BODY_TEXT;
		case BODY_OPENMETRICS_GZIP:
			return BODY_OPENMETRICS;
		case BODY_PROTOBUF_GZIP:
			return BODY_PROTOBUF;
		default:
			return format;
	}
}

/*
 * Make one format of the body (a gzipped one from its base, made first if
 * it is not yet); an allocation failure is a 500, no more.
 */
static bool
make_body(Collection *c, BodyFormat format)
{
	BodyFormat	base = gzip_base(format);
	MemoryContext old;
	volatile bool ok = true;

	if (base != format && base != BODY_TEXT && c->bodies[base] == NULL &&
		!make_body(c, base))
		return false;
	old = MemoryContextSwitchTo(c->cxt);
	PG_TRY();
	{
		StringInfo	b = makeStringInfo();

		switch (format)
		{
			case BODY_OPENMETRICS:
				pgprom_openmetrics_from_text(c->text.data, c->text.len, b);
				break;
			case BODY_PROTOBUF:
				pgprom_protobuf_from_text(c->text.data, c->text.len, b);
				break;
			default:
				if (base == BODY_TEXT)
					ok = gzip(c->text.data, c->text.len, b);
				else
					ok = gzip(c->bodies[base]->data, c->bodies[base]->len, b);
				break;
		}
		if (ok)
			c->bodies[format] = b;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		FlushErrorState();
		ok = false;
		ereport(LOG,
				(errmsg("pg_prom: could not build a response of %d bytes", c->text.len),
				 errhint("Lower pg_prom.max_response_size, or leave collectors out.")));
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return ok;
}

bool
pgprom_collection_body(Collection *c, bool openmetrics, bool protobuf,
					   bool want_gzip, const char **body, size_t *len,
					   bool *gzipped, int *status, const char **why)
{
	BodyFormat	format;

	Assert(c->done);
	if (c->status != 0)
	{
		*status = c->status;
		*why = c->why;
		return false;
	}
	if (want_gzip && c->text.len <= GZIP_MIN_BYTES)
		want_gzip = false;
	if (protobuf)
		format = want_gzip ? BODY_PROTOBUF_GZIP : BODY_PROTOBUF;
	else if (openmetrics)
		format = want_gzip ? BODY_OPENMETRICS_GZIP : BODY_OPENMETRICS;
	else
		format = want_gzip ? BODY_TEXT_GZIP : BODY_TEXT;
	*gzipped = want_gzip;
	if (format == BODY_TEXT)
	{
		*body = c->text.data;
		*len = c->text.len;
		return true;
	}
	if (c->bodies[format] == NULL && !make_body(c, format))
	{
		*status = 500;
		*why = "The response could not be built; see the server log.\n";
		return false;
	}
	*body = c->bodies[format]->data;
	*len = c->bodies[format]->len;
	return true;
}
